/**
 * End-to-end, a real kernel and a js capsule: `process_spawn` always runs in
 * the sandbox (real bubblewrap, real overlayfs in a user namespace). The
 * kernel's home and processes stay invisible, writes land in the session
 * overlay (each gated and audited), the workspace — which lives under /tmp
 * here — is never touched, and without a sandbox a spawn is refused unless
 * config allows it, which is then recorded in the decision entry.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  assertOk,
  assertRefused,
  makeRuntime,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

/** An audited action, as far as these tests read it. */
type Act = { type: string; path?: string; mode?: string; sandbox?: string };
const act = (e: { action: unknown }) => e.action as Act;

interface Spawned {
  exit_code: number;
  stdout: string;
  stderr: string;
  sandbox: string;
  overlay?: {
    written: string[];
    deleted: string[];
    created: string[];
    refused: { path: string; code: string }[];
    skipped: { path: string; why: string }[];
  };
}

async function withCapsule(
  capabilities: string[],
  fn: (f: RuntimeFixture, id: string) => Promise<void>,
  options: Parameters<typeof makeRuntime>[0] = {},
): Promise<void> {
  const f = await makeRuntime({ timeoutMs: 20_000, ...options });
  const id = "js-spawner";
  try {
    await f.install({ name: id, engine: "js", capabilities });
    const report = await f.boot();
    assert.deepEqual(report.refused, []);
    await fn(f, id);
  } finally {
    await f.close();
  }
}

async function spawn(
  f: RuntimeFixture,
  id: string,
  cmd: string,
  args: string[],
): Promise<Spawned> {
  return assertOk(
    await f.hostCall(id, "process_spawn", { cmd, args }),
  ) as unknown as Spawned;
}

Deno.test({
  name:
    "process_spawn: a capsule granted `cat` cannot read the runtime key, state.kv or the kernel's /proc environ",
  permissions: PERMS,
  async fn() {
    await withCapsule(['host_process = ["cat", "ls", "sh"]'], async (f, id) => {
      const key = path.join(f.home, "keys", "runtime.key");
      const kv = path.join(f.home, "var", "state.kv");
      assert.ok((await Deno.stat(key)).isFile, "the key exists");
      assert.ok((await Deno.stat(kv)).isFile, "the store exists");
      // Layer 1: the policy refuses a literal path in ASTRID_HOME.
      assertRefused(
        await f.hostCall(id, "process_spawn", { cmd: "cat", args: [key] }),
        "POLICY_BLOCKED",
      );
      // Layer 2: a spelling the policy cannot see (assembled by the shell)
      // still finds nothing — inside the sandbox the home is an empty dir.
      const parent = path.dirname(f.home);
      const base = path.basename(f.home);
      const viaShell = (rest: string) =>
        spawn(f, id, "sh", ["-c", `cat "$1/$2/${rest}"`, "sh", parent, base]);
      for (const rest of ["keys/runtime.key", "var/state.kv"]) {
        const out = await viaShell(rest);
        assert.notEqual(out.exit_code, 0, `${rest}: ${out.stdout}`);
        assert.equal(out.stdout, "", rest);
        assert.equal(out.sandbox, "bubblewrap");
      }
      const environ = await spawn(f, id, "cat", [`/proc/${Deno.pid}/environ`]);
      assert.notEqual(environ.exit_code, 0, environ.stdout);
      assert.equal(environ.stdout, "");
      // The kernel's home is an empty dir; only the sandbox's processes exist.
      assert.equal(
        (await spawn(f, id, "sh", ["-c", 'ls -A "$1/$2"', "sh", parent, base]))
          .stdout,
        "",
      );
      const pids = (await spawn(f, id, "ls", ["/proc"])).stdout.split("\n")
        .filter((l) => /^\d+$/.test(l));
      assert.ok(!pids.includes(String(Deno.pid)), pids.join(","));
    }, { fileStore: true });
  },
});

Deno.test({
  name:
    "process_spawn: `sh -c 'echo x > f'` leaves the workspace (under /tmp) untouched; the write is a gated, audited change in the session overlay",
  permissions: PERMS,
  async fn() {
    await withCapsule(
      [
        'host_process = ["sh"]',
        'fs_write = ["cwd://"]',
        'fs_read = ["cwd://"]',
      ],
      async (f, id) => {
        assert.ok(f.workspace.startsWith("/tmp/"), f.workspace);
        await Deno.writeTextFile(path.join(f.workspace, "old.txt"), "old\n");
        const out = await spawn(f, id, "sh", [
          "-c",
          "cat old.txt && echo x > f && mkdir -p d && echo y > d/g && rm old.txt",
        ]);
        assert.equal(out.exit_code, 0, out.stderr);
        assert.equal(out.stdout, "old\n");
        assert.deepEqual(out.overlay, {
          written: ["d/g", "f"],
          deleted: ["old.txt"],
          created: ["d"],
          refused: [],
          skipped: [],
        });
        // The workspace is untouched.
        assert.deepEqual(
          (await Array.fromAsync(Deno.readDir(f.workspace))).map((e) => e.name)
            .sort(),
          ["old.txt"],
        );
        const overlay = await f.runtime.overlays.forSession(
          f.principal,
          f.runtime.session,
          { workspace: f.workspace },
        );
        const diff = (await overlay.diff()).map((c) => [c.path, c.change]);
        assert.deepEqual(diff, [
          ["d", "added"],
          ["d/g", "added"],
          ["f", "added"],
          ["old.txt", "deleted"],
        ]);
        // Each change is its own allowed decision of the capsule.
        const allowed = await f.audit(id, "allowed");
        const files = allowed.map(act).filter((a) =>
          a.type === "capsule_file_access"
        ).map((a) => [path.relative(f.workspace, a.path ?? ""), a.mode]);
        for (
          const want of [["f", "write"], ["d", "write"], ["d/g", "write"], [
            "old.txt",
            "delete",
          ]]
        ) {
          assert.ok(
            files.some((x) => x[0] === want[0] && x[1] === want[1]),
            `${want} in ${JSON.stringify(files)}`,
          );
        }
        // A later process sees the session's view, not the bare workspace.
        const again = await spawn(f, id, "sh", ["-c", "cat f d/g; ls"]);
        assert.equal(again.stdout, "x\ny\nd\nf\n");
      },
    );
  },
});

Deno.test({
  name:
    "process_spawn: a write the capsule's fs grants do not cover is refused and not applied",
  permissions: PERMS,
  async fn() {
    await withCapsule(
      ['host_process = ["sh"]', 'fs_write = ["cwd://allowed"]'],
      async (f, id) => {
        const out = await spawn(f, id, "sh", [
          "-c",
          "mkdir allowed && echo ok > allowed/a && echo no > secret.txt",
        ]);
        assert.equal(out.exit_code, 0, out.stderr);
        assert.deepEqual(out.overlay?.written, ["allowed/a"]);
        assert.deepEqual(
          out.overlay?.refused.map((r) => [r.path, r.code]),
          [["secret.txt", "MANIFEST_DENIED"]],
        );
        const overlay = await f.runtime.overlays.forSession(
          f.principal,
          f.runtime.session,
          { workspace: f.workspace },
        );
        assert.deepEqual(overlay.dirtyPaths(), ["allowed", "allowed/a"]);
        const denied = await f.audit(id, "denied");
        assert.ok(
          denied.map(act).some((a) =>
            a.type === "capsule_file_access" &&
            a.path === path.join(f.workspace, "secret.txt")
          ),
        );
      },
    );
  },
});

Deno.test({
  name:
    "process_spawn: without a sandbox a spawn is refused with SANDBOX_UNAVAILABLE",
  permissions: PERMS,
  async fn() {
    await withCapsule(['host_process = ["echo"]'], async (f, id) => {
      const message = assertRefused(
        await f.hostCall(id, "process_spawn", { cmd: "echo", args: ["x"] }),
        "SANDBOX_UNAVAILABLE",
      );
      assert.match(message, /allow_unsandboxed_spawn/);
    }, { bubblewrap: null });
  },
});

Deno.test({
  name:
    'process_spawn: with security.allow_unsandboxed_spawn and no sandbox it runs, and the decision entry records sandbox "none"',
  permissions: PERMS,
  async fn() {
    await withCapsule(['host_process = ["echo"]'], async (f, id) => {
      const out = await spawn(f, id, "echo", ["x"]);
      assert.deepEqual(out, {
        exit_code: 0,
        stdout: "x\n",
        stderr: "",
        sandbox: "none",
      });
      const entries = await f.audit(id, "allowed");
      const spawns = entries.map(act).filter((a) =>
        a.type === "capsule_process_spawn"
      );
      assert.ok(spawns.length >= 1);
      for (const a of spawns) assert.equal(a.sandbox, "none");
      assert.equal(
        (await f.kernel.security.audit.verify(f.principal)).valid,
        true,
      );
    }, {
      bubblewrap: null,
      config: "[security]\nallow_unsandboxed_spawn = true\n",
    });
  },
});

Deno.test({
  name:
    "process_spawn: modifying a workspace file of a user the sandbox cannot map is a clear HOST_PERMISSION_DENIED (EOVERFLOW), nothing kept",
  permissions: PERMS,
  async fn() {
    await withCapsule(
      ['host_process = ["sh"]', 'fs_write = ["cwd://"]'],
      async (f, id) => {
        const owned = path.join(f.workspace, "owned.txt");
        await Deno.writeTextFile(owned, "theirs\n");
        try {
          await Deno.chown(owned, 4242, 4242);
        } catch (err) {
          // silent-ok: only root can give a file away; nothing to test then.
          if (err instanceof Deno.errors.PermissionDenied) return;
          throw err;
        }
        await Deno.chmod(owned, 0o666);
        const message = assertRefused(
          await f.hostCall(id, "process_spawn", {
            cmd: "sh",
            args: ["-c", "echo new > mine.txt; echo z >> owned.txt"],
          }),
          "HOST_PERMISSION_DENIED",
        );
        assert.match(message, /owned by another user.*EOVERFLOW/);
        assert.equal(await Deno.readTextFile(owned), "theirs\n");
        const overlay = await f.runtime.overlays.forSession(
          f.principal,
          f.runtime.session,
          { workspace: f.workspace },
        );
        assert.deepEqual(overlay.dirtyPaths(), []);
      },
    );
  },
});

Deno.test({
  name:
    "process_spawn: a capsule process never sees the kernel's tool environment (certificates, proxies, registry, cache), which kernel tooling does get",
  permissions: PERMS,
  async fn() {
    const planted: Record<string, string> = {
      HTTPS_PROXY: "http://proxy.corp.example:3128",
      https_proxy: "http://proxy.corp.example:3128",
      NO_PROXY: "localhost",
      DENO_CERT: "/etc/corp-ca.pem",
      SSL_CERT_FILE: "/etc/ssl/corp.pem",
      NPM_CONFIG_REGISTRY: "https://npm.corp.example/",
      DENO_AUTH_TOKENS: "secret-token@npm.corp.example",
      ASTRID_PROBE_SECRET: "kernel-only",
    };
    const saved = Object.fromEntries(
      Object.keys(planted).map((k) => [k, Deno.env.get(k)]),
    );
    for (const [k, v] of Object.entries(planted)) Deno.env.set(k, v);
    try {
      // The tooling side: the kernel's one allow-list passes them on.
      const { denoToolchain } = await import("../mod.ts");
      const tool = denoToolchain().toolEnv;
      for (const k of Object.keys(planted)) {
        if (k === "ASTRID_PROBE_SECRET") assert.equal(tool[k], undefined);
        else assert.equal(tool[k], planted[k], `tooling gets ${k}`);
      }
      // The capsule side: a spawned process sees none of them.
      await withCapsule(['host_process = ["env"]'], async (f, id) => {
        const out = await spawn(f, id, "env", []);
        assert.equal(out.exit_code, 0, out.stderr);
        for (const [k, v] of Object.entries(planted)) {
          assert.ok(!out.stdout.includes(`${k}=`), `${k} leaked`);
          assert.ok(!out.stdout.includes(v), `the value of ${k} leaked`);
        }
      });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    }
  },
});
