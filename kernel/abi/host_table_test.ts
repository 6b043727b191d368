import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import { makeAbi } from "./_abi_fixture_test.ts";

const P = { read: true, write: true, env: true, run: true, net: true } as const;
const code = (c: string) => (e: unknown) => KernelError.is(e) && e.code === c;

Deno.test({
  name:
    "host call fs_write then fs_read round-trips inside the workspace, each decision audited",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { fs_read: ["*"], fs_write: ["*"] } },
    });
    try {
      assert.deepEqual(
        await f.call("fs_write", { path: "notes/a.md", content: "héllo" }),
        { ok: true },
      );
      assert.deepEqual(await f.call("fs_read", { path: "notes/a.md" }), {
        content: "héllo",
      });
      assert.deepEqual(
        await f.call("fs_read", {
          path: "cwd://notes/a.md",
          encoding: "base64",
        }),
        {
          content: btoa(
            String.fromCharCode(...new TextEncoder().encode("héllo")),
          ),
        },
      );
      await f.gate.flush();
      const entries = await f.audit.query({
        principal: "default" as PrincipalId,
      });
      assert.deepEqual(entries.map((e) => e.decision), [
        "allowed",
        "info",
        "allowed",
        "info",
        "allowed",
        "info",
      ]);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call fs_read outside the manifest is denied before the file is touched, and audited",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { fs_read: ["cwd://public"] } } });
    try {
      await Deno.writeTextFile(`${f.workspace}/secret.txt`, "s3cret");
      await assert.rejects(
        f.call("fs_read", { path: "secret.txt" }),
        code("MANIFEST_DENIED"),
      );
      // Outside every mount: the one mapper refuses it before the gate, and
      // the attempt is still a denied entry of the chain.
      await assert.rejects(
        f.call("fs_read", { path: "/etc/passwd" }),
        code("VFS_PATH_ESCAPE"),
      );
      const denied = await f.audit.query({
        principal: "default" as PrincipalId,
        decision: "denied",
      });
      assert.deepEqual(
        denied.map((e) => [e.action, (e.proof as { layer: string }).layer]),
        [
          [{
            type: "capsule_file_access",
            capsule_id: "fs",
            path: `${f.workspace}/secret.txt`,
            mode: "read",
          }, "manifest"],
          [{
            type: "capsule_file_access",
            capsule_id: "fs",
            path: "/etc/passwd",
            mode: "read",
          }, "path"],
        ],
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call fs_read with a ../ traversal or an absolute path outside the mounts is refused by the one mapper even under a wide grant",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { fs_read: ["/"] } } });
    try {
      await assert.rejects(
        f.call("fs_read", { path: "../../etc/passwd" }),
        code("VFS_PATH_ESCAPE"),
      );
      await assert.rejects(
        f.call("fs_read", { path: "/proc/self/environ" }),
        code("VFS_PATH_ESCAPE"),
      );
      // Inside the workspace, `..` is applied once, lexically: the gate judges
      // the file the effect would open.
      await assert.rejects(
        f.call("fs_read", { path: "a/../missing.txt" }),
        code("VFS_NOT_FOUND"),
      );
      await f.gate.flush();
      const allowed = await f.audit.query({
        principal: "default" as PrincipalId,
        decision: "allowed",
      });
      assert.deepEqual(
        allowed.map((e) => (e.action as { path: string }).path),
        [`${f.workspace}/missing.txt`],
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call dispatcher rejects unknown functions, oversized and malformed payloads",
  permissions: P,
  async fn() {
    const f = await makeAbi();
    try {
      await assert.rejects(
        f.call("fs_format", {}),
        code("ABI_UNKNOWN_FUNCTION"),
      );
      await assert.rejects(
        f.call("fs_read", { path: 7 }),
        code("INVALID_INPUT"),
      );
      await assert.rejects(f.call("fs_read", "x"), code("INVALID_INPUT"));
      await assert.rejects(
        f.call("fs_read", { path: "a".repeat(5000) }),
        code("ABI_PAYLOAD_TOO_LARGE"),
      );
      await assert.rejects(
        f.call("log", { message: "x".repeat(11 * 1024 * 1024) }),
        code("ABI_PAYLOAD_TOO_LARGE"),
      );
      await assert.rejects(
        f.call("fs_read", { path: "a\0b" }),
        code("INVALID_INPUT"),
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host calls kv_* are scoped per capsule: one capsule cannot read another's keys",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { a: {}, b: {} } });
    try {
      await f.call("kv_set", { key: "token", value: { v: 1 } }, "a");
      assert.deepEqual(await f.call("kv_get", { key: "token" }, "a"), {
        value: { v: 1 },
      });
      assert.deepEqual(await f.call("kv_get", { key: "token" }, "b"), {
        value: null,
      });
      assert.deepEqual(await f.call("kv_list_keys", { prefix: "" }, "b"), {
        keys: [],
      });
      assert.deepEqual(await f.call("kv_list_keys", { prefix: "to" }, "a"), {
        keys: ["token"],
      });
      await f.call("kv_delete", { key: "token" }, "a");
      assert.deepEqual(await f.call("kv_get", { key: "token" }, "a"), {
        value: null,
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call process_spawn runs a granted command with a scrubbed environment",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { host_process: ["env", "echo"] } },
    });
    try {
      Deno.env.set("ASTRID_TEST_LEAK", "should-not-leak");
      const out = await f.call("process_spawn", { cmd: "env" }) as {
        stdout: string;
        exit_code: number;
      };
      assert.equal(out.exit_code, 0);
      assert.ok(
        !out.stdout.includes("should-not-leak"),
        "the parent's environment is not inherited",
      );
      assert.deepEqual(
        out.stdout.trim().split("\n").map((l) => l.split("=")[0]).sort(),
        // PWD: set by the shell that mounts the overlay, to the workspace.
        ["HOME", "LANG", "PATH", "PWD", "TMPDIR"],
      );
      assert.deepEqual(
        await f.call("process_spawn", { cmd: "echo", args: ["hi", "there"] }),
        {
          exit_code: 0,
          stdout: "hi there\n",
          stderr: "",
          sandbox: "bubblewrap",
          overlay: {
            written: [],
            deleted: [],
            created: [],
            refused: [],
            skipped: [],
          },
        },
      );
    } finally {
      Deno.env.delete("ASTRID_TEST_LEAK");
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call process_spawn refuses a command outside host_process and a blocked one inside it",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { host_process: ["rm", "echo"] } },
    });
    try {
      await assert.rejects(
        f.call("process_spawn", { cmd: "bash", args: ["-c", "id"] }),
        code("MANIFEST_DENIED"),
      );
      await assert.rejects(
        f.call("process_spawn", { cmd: "rm", args: ["-fr", "/"] }),
        code("POLICY_BLOCKED"),
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host calls clock_now, identity and config_get answer without side effects",
  permissions: P,
  async fn() {
    const f = await makeAbi();
    try {
      const d = f.dispatcher("fs", { MODEL: "m1" });
      const s = { signal: new AbortController().signal };
      assert.deepEqual(await d.call("clock_now", {}, s), {
        now_ms: f.clock.now(),
      });
      assert.deepEqual(await d.call("identity", {}, s), {
        principal: "default",
        session: "00000000-0000-4000-8000-000000000001",
        capsule: "fs",
      });
      assert.deepEqual(await d.call("config_get", { key: "MODEL" }, s), {
        value: "m1",
      });
      assert.deepEqual(await d.call("config_get", { key: "toString" }, s), {
        value: null,
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name: "host calls fail with ABORTED once the capsule is unloaded",
  permissions: P,
  async fn() {
    const f = await makeAbi();
    try {
      const d = f.dispatcher();
      d.unload();
      await assert.rejects(
        d.call("clock_now", {}, { signal: new AbortController().signal }),
        code("ABORTED"),
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call process_spawn kills a process past its timeout with its sandbox (ABORTED, nothing left running)",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { host_process: ["sleep"] } } });
    try {
      await assert.rejects(
        f.call("process_spawn", {
          cmd: "sleep",
          args: ["31.25"],
          timeout_ms: 300,
        }),
        code("ABORTED"),
      );
      const ps = await new Deno.Command("ps", { args: ["-eo", "args"] })
        .output();
      const left = new TextDecoder().decode(ps.stdout).split("\n")
        .filter((l) => l.includes("31.25"));
      assert.deepEqual(left, []);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call process_spawn without a sandbox (no bwrap, no unshare) is refused (SANDBOX_UNAVAILABLE); with the config exception it runs and says so",
  permissions: P,
  async fn() {
    const refused = await makeAbi({
      grants: { fs: { host_process: ["echo"] } },
      bubblewrap: null,
    });
    const allowed = await makeAbi({
      grants: { fs: { host_process: ["echo"] } },
      bubblewrap: null,
      allowUnsandboxed: true,
    });
    const noUnshare = await makeAbi({
      grants: { fs: { host_process: ["echo"] } },
      unshare: "/nonexistent/unshare",
    });
    try {
      await assert.rejects(
        refused.call("process_spawn", { cmd: "echo", args: ["x"] }),
        code("SANDBOX_UNAVAILABLE"),
      );
      await assert.rejects(
        noUnshare.call("process_spawn", { cmd: "echo", args: ["x"] }),
        code("SANDBOX_UNAVAILABLE"),
      );
      assert.deepEqual(
        await allowed.call("process_spawn", { cmd: "echo", args: ["x"] }),
        { exit_code: 0, stdout: "x\n", stderr: "", sandbox: "none" },
      );
    } finally {
      await refused.dispose();
      await allowed.dispose();
      await noUnshare.dispose();
    }
  },
});
