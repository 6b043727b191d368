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
    'fs_read = ["cwd://docs"]',
    s.host,
    "",
    s.server,
  ].join("\n");
}

for (const mode of ["broker", "flags"] as const) {
  Deno.test({
    name:
      `mcp engine (${mode}): server-filesystem reads inside its granted dir; outside is denied by Deno although the server's own allowed dir covers it`,
    permissions: MCP_PERMS,
    async fn() {
      const f = await makeMcpRuntime();
      try {
        await Deno.mkdir(path.join(f.workspace, "docs"));
        await Deno.writeTextFile(path.join(f.workspace, "docs/a.txt"), "alpha");
        await Deno.writeTextFile(path.join(f.workspace, "secret.txt"), "s3cret");
        await f.install("fs-mcp", fsCapsule(mode, f.workspace));
        const report = await f.boot();
        assert.deepEqual(report.refused, []);
        const inside = await f.invoke("fs-mcp", "call_tool", {
          tool: "read_text_file",
          arguments: { path: path.join(f.workspace, "docs/a.txt") },
        });
        assert.equal((inside as Obj).is_error, false);
        assert.equal(text(inside), "alpha");
        const listing = await f.invoke("fs-mcp", "call_tool", {
          tool: "list_directory",
          arguments: { path: path.join(f.workspace, "docs") },
        });
        assert.match(text(listing), /a\.txt/);
        const outside = await f.invoke("fs-mcp", "call_tool", {
          tool: "read_text_file",
          arguments: { path: path.join(f.workspace, "secret.txt") },
        });
        assert.equal((outside as Obj).is_error, true);
        assert.doesNotMatch(text(outside), /s3cret/);
        assert.match(text(outside), /NotCapable|not granted|Requires read/);
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
              (e.action as Obj).value === path.join(f.workspace, "secret.txt")
            ),
            "the denied read is in the audit chain",
          );
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
    "mcp engine: server-memory writes its file only where granted (MEMORY_FILE_PATH in a granted dir works, the default path in Deno's cache is refused)",
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
      assert.deepEqual(report.refused, []);
      const entity = {
        entities: [{ name: "astrid", entityType: "os", observations: ["x"] }],
      };
      const ok = await f.invoke("mem-ok", "call_tool", {
        tool: "create_entities",
        arguments: entity,
      });
      assert.equal((ok as Obj).is_error, false, text(ok));
      assert.match(await Deno.readTextFile(file), /astrid/);
      const refused = await f.invoke("mem-bare", "call_tool", {
        tool: "create_entities",
        arguments: entity,
      });
      assert.equal((refused as Obj).is_error, true);
      assert.match(text(refused), /NotCapable|not granted|Requires/);
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
    "mcp engine: server-everything's tools are bus tools (describe, execute → result topic) and get-env sees only granted variables",
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
      const seen = Object.keys(JSON.parse(text(env)) as Obj).sort();
      for (const k of seen) {
        assert.ok(
          [...EVERYTHING_ENV, "DENO_NO_UPDATE_CHECK", "NO_COLOR", "DENO_DIR"]
            .includes(k),
          `unexpected env ${k}`,
        );
      }
      assert.ok(!seen.includes("PATH") && !seen.includes("HOME"));
    } finally {
      await f.close();
    }
  },
});
