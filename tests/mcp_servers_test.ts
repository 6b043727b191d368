/**
 * End-to-end: real npm MCP servers run confined by the `mcp` engine, their
 * tools on the bus, every call and every broker decision in the audit chain.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import { KERNEL_SOURCE } from "../kernel/bus/envelope.ts";
import {
  EVERYTHING_ENV,
  makeMcpRuntime,
  MCP_PERMS,
  npmServer,
  SERVERS,
} from "./mcp_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

function text(result: JsonValue): string {
  const r = result as Obj;
  return (r.content as Obj[]).map((c) => String(c.text ?? "")).join("\n");
}

function fsCapsule(
  mode: "broker" | "flags",
  workspace: string,
): string {
  const s = npmServer("files", SERVERS.filesystem, {
    args: [workspace],
    mode,
  });
  return [
    "[package]",
    'name = "fs-mcp"',
    'version = "1.0.0"',
    'description = "Files through MCP"',
    "",
    "[capabilities]",
    'fs_read = ["*"]',
    s.host,
    // minimatch reads this at startup; granting the name grants no value.
    "[env.__MINIMATCH_TESTING_PLATFORM__]",
    'type = "string"',
    "",
    s.server,
  ].join("\n");
}

async function fsFixture(mode: "broker" | "flags") {
  const f = await makeMcpRuntime(
    mode === "broker"
      ? { config: '[security.policy]\ndenied_paths = ["**/private/**"]\n' }
      : {},
  );
  await Deno.mkdir(path.join(f.workspace, "docs"));
  await Deno.mkdir(path.join(f.workspace, "private"));
  await Deno.writeTextFile(path.join(f.workspace, "docs/a.txt"), "alpha");
  await Deno.writeTextFile(
    path.join(f.workspace, "private/secret.txt"),
    "s3cret",
  );
  await f.install("fs-mcp", fsCapsule(mode, f.workspace));
  const report = await f.boot();
  assert.deepEqual(report.refused, []);
  return f;
}

for (const mode of ["broker", "flags"] as const) {
  Deno.test({
    name:
      `mcp engine (${mode}): server-filesystem lists and reads its granted dir; what the kernel denies is denied by Deno although the server's own allowed dir covers it`,
    permissions: MCP_PERMS,
    async fn() {
      const f = await fsFixture(mode);
      try {
        const inside = await f.invoke("fs-mcp", "call_tool", {
          tool: "read_text_file",
          arguments: { path: path.join(f.workspace, "docs/a.txt") },
        });
        assert.equal((inside as Obj).is_error, false, text(inside));
        assert.equal(text(inside), "alpha");
        const listing = await f.invoke("fs-mcp", "call_tool", {
          tool: "list_directory",
          arguments: { path: path.join(f.workspace, "docs") },
        });
        assert.match(text(listing), /a\.txt/);
        // The server's allowed dir is the whole workspace: it would write
        // anywhere in it, but the manifest grants no write.
        const write = await f.invoke("fs-mcp", "call_tool", {
          tool: "write_file",
          arguments: {
            path: path.join(f.workspace, "docs/new.txt"),
            content: "x",
          },
        });
        assert.equal((write as Obj).is_error, true);
        assert.match(
          text(write),
          /NotCapable|not granted|MANIFEST_DENIED|Requires write/,
        );
        await assert.rejects(
          Deno.stat(path.join(f.workspace, "docs/new.txt")),
          Deno.errors.NotFound,
        );
        if (mode === "broker") {
          // Live decisions: the policy denies private/** although the
          // manifest's fs_read covers the workspace.
          const secret = await f.invoke("fs-mcp", "call_tool", {
            tool: "read_text_file",
            arguments: { path: path.join(f.workspace, "private/secret.txt") },
          });
          assert.equal((secret as Obj).is_error, true);
          assert.doesNotMatch(text(secret), /s3cret/);
          assert.match(text(secret), /NotCapable|not granted|POLICY_BLOCKED/);
        }
        const audit = await f.audit("fs-mcp");
        const calls = audit.filter((e) =>
          (e.action as Obj).type === "mcp_tool_call"
        );
        assert.ok(calls.length >= 3, "every tool call is audited");
        assert.ok(
          calls.every((e) =>
            typeof (e.action as Obj).args_hash === "string" &&
            (e.action as Obj).server === "files"
          ),
        );
        if (mode === "broker") {
          const checks = audit.filter((e) =>
            (e.action as Obj).type === "mcp_permission_check"
          );
          assert.ok(
            checks.some((e) =>
              e.decision === "allowed" &&
              (e.action as Obj).value === path.join(f.workspace, "docs/a.txt")
            ),
            "the allowed read is in the audit chain",
          );
          assert.ok(
            checks.some((e) =>
              e.decision === "denied" &&
              (e.action as Obj).value ===
                path.join(f.workspace, "private/secret.txt")
            ),
            "the denied read is in the audit chain",
          );
          // Each check is its own decision with its own call id.
          const ids = checks.map((e) => e.call_id);
          assert.equal(new Set(ids).size, ids.length, JSON.stringify(ids));
        }
        const verdict = await f.kernel.security.audit.verify(
          f.kernel.principal,
        );
        assert.equal(verdict.valid, true);
      } finally {
        await f.close();
      }
    },
  });
}

Deno.test({
  name:
    "mcp engine: server-memory keeps its file only where granted (MEMORY_FILE_PATH in a granted dir works; without it the server cannot start)",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      await Deno.mkdir(path.join(f.workspace, "mem"));
      const file = path.join(f.workspace, "mem/memory.jsonl");
      const granted = npmServer("memory", SERVERS.memory);
      await f.install(
        "mem-ok",
        [
          "[package]",
          'name = "mem-ok"',
          'version = "1.0.0"',
          "[capabilities]",
          'fs_read = ["cwd://mem"]',
          'fs_write = ["cwd://mem"]',
          granted.host,
          "[env.MEMORY_FILE_PATH]",
          'type = "string"',
          `default = ${JSON.stringify(file)}`,
          "",
          granted.server,
        ].join("\n"),
      );
      const bare = npmServer("memory", SERVERS.memory);
      await f.install(
        "mem-bare",
        [
          "[package]",
          'name = "mem-bare"',
          'version = "1.0.0"',
          "[capabilities]",
          bare.host,
          "",
          bare.server,
        ].join("\n"),
      );
      const report = await f.boot();
      assert.deepEqual(report.loaded, ["mem-ok"]);
      // Without a granted file, the server's default (inside Deno's npm
      // cache) is not readable: it cannot even start.
      assert.equal(report.refused[0]?.capsule, "mem-bare");
      assert.ok(
        f.logger.records.some((r) =>
          r.fields?.capsule === "mem-bare" && /NotCapable/.test(r.message)
        ),
        "the denial is in the capsule log",
      );
      const entity = {
        entities: [{ name: "astrid", entityType: "os", observations: ["x"] }],
      };
      const ok = await f.invoke("mem-ok", "call_tool", {
        tool: "create_entities",
        arguments: entity,
      });
      assert.equal((ok as Obj).is_error, false, text(ok));
      assert.match(await Deno.readTextFile(file), /astrid/);
    } finally {
      await f.close();
    }
  },
});

function everythingCapsule(extra: readonly string[] = []): string {
  const s = npmServer("everything", SERVERS.everything);
  return [
    "[package]",
    'name = "every"',
    'version = "1.0.0"',
    'description = "The MCP reference server"',
    "[capabilities]",
    s.host,
    ...extra,
    ...EVERYTHING_ENV.flatMap((k) => [
      `[env.${k}]`,
      'type = "string"',
      'default = ""',
    ]),
    "",
    s.server,
  ].join("\n");
}

Deno.test({
  name:
    "mcp engine: server-everything's tools are bus tools (describe, execute → result topic) and get-env cannot enumerate the environment",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      await f.install("every", everythingCapsule());
      const report = await f.boot();
      assert.deepEqual(report.refused, []);
      const bus = f.runtime.bus;
      const direct = await f.invoke("every", "tool_describe", {}) as Obj;
      const names = (direct.tools as Obj[]).map((t) => t.name);
      assert.ok(names.includes("echo") && names.includes("get-sum"));
      const results: JsonValue[] = [];
      const got = new Promise<void>((resolve) => {
        bus.subscribe(KERNEL_SOURCE, {
          pattern: "tool.v1.execute.echo.result",
          handler: (e) => {
            results.push(e.payload);
            resolve();
            return undefined;
          },
        });
      });
      await bus.publish(KERNEL_SOURCE, {
        topic: "tool.v1.execute.echo",
        payload: {
          call_id: "c1",
          tool_name: "echo",
          arguments: { message: "hi" },
        },
        principal: f.kernel.principal,
        session: f.runtime.session,
      });
      await got;
      const r = (results[0] as Obj).result as Obj;
      assert.equal(r.call_id, "c1");
      assert.equal(r.is_error, false);
      assert.match(String(r.content), /hi/);
      const env = await f.invoke("every", "call_tool", {
        tool: "get-env",
        arguments: {},
      });
      // Enumerating the environment needs every variable: refused.
      assert.equal((env as Obj).is_error, true);
      assert.match(text(env), /MANIFEST_DENIED|NotCapable/);
      assert.doesNotMatch(text(env), new RegExp(f.root));
    } finally {
      await f.close();
    }
  },
});
