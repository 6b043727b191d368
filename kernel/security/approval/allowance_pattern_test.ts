import assert from "node:assert/strict";
import type { Action } from "../action.ts";
import {
  type AllowancePattern,
  describeAllowancePattern,
  matchesAllowancePattern,
} from "./allowance_pattern.ts";

const WS = { workspace: "/home/u/proj" };

function m(p: AllowancePattern, a: Action, ws = WS): boolean {
  return matchesAllowancePattern(p, a, ws);
}

Deno.test({
  name:
    "`matchesAllowancePattern()` matches MCP tools by exact tool or whole server",
  permissions: "none",
  fn() {
    const call: Action = { type: "mcp_tool_call", server: "fs", tool: "read" };
    const exact: AllowancePattern = {
      type: "exact_tool",
      server: "fs",
      tool: "read",
    };
    assert.ok(m(exact, call));
    assert.ok(!m(exact, { ...call, tool: "write" }));
    assert.ok(!m(exact, { ...call, server: "fs2" }));
    const server: AllowancePattern = { type: "server_tools", server: "fs" };
    assert.ok(m(server, { ...call, tool: "write" }));
    assert.ok(!m(server, { ...call, server: "git" }));
    assert.ok(
      !m(server, {
        type: "mcp_permission_check",
        server: "fs",
        permission: "run",
        value: "sh",
      }),
    );
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` matches file patterns only for the same permission and never through `..`",
  permissions: "none",
  fn() {
    const p: AllowancePattern = {
      type: "file_pattern",
      pattern: "/home/u/proj/src/**",
      permission: "write",
    };
    assert.ok(m(p, { type: "file_write", path: "/home/u/proj/src/a/b.ts" }));
    assert.ok(!m(p, { type: "file_read", path: "/home/u/proj/src/a.ts" }));
    assert.ok(!m(p, { type: "file_delete", path: "/home/u/proj/src/a.ts" }));
    assert.ok(!m(p, { type: "file_write", path: "/home/u/proj/srcx/a.ts" }));
    for (
      const path of [
        "/home/u/proj/src/../../../etc/passwd",
        "/home/u/proj/src/..",
        "/home/u/proj/src/a\\..\\..\\x",
        "/home/u/proj/src/a\0",
      ]
    ) {
      assert.ok(!m(p, { type: "file_write", path }), path);
    }
    // capsule file access is matched by capsule patterns, not file patterns
    assert.ok(
      !m(p, {
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/home/u/proj/src/a.ts",
        mode: "write",
      }),
    );
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` matches network hosts case-insensitively and only on listed ports",
  permissions: "none",
  fn() {
    const req = (host: string, port: number): Action => ({
      type: "network_request",
      host,
      port,
    });
    const p: AllowancePattern = {
      type: "network_host",
      host: "api.example.com",
      ports: [443],
    };
    assert.ok(m(p, req("API.Example.com.", 443)));
    assert.ok(!m(p, req("api.example.com", 80)));
    assert.ok(!m(p, req("api.example.com.evil.io", 443)));
    assert.ok(!m(p, req("evil.io", 443)));
    const any: AllowancePattern = { type: "network_host", host: "a.io" };
    assert.ok(m(any, req("a.io", 8080)));
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` applies command patterns to shell commands and capsule spawns, keeping capsule binding",
  permissions: "none",
  fn() {
    const free: AllowancePattern = {
      type: "command_pattern",
      command: "git status",
    };
    const exec: Action = {
      type: "execute_command",
      command: "git",
      args: ["status"],
    };
    const spawn = (capsule_id: string): Action => ({
      type: "capsule_process_spawn",
      capsule_id,
      command: "git",
      args: ["status"],
    });
    assert.ok(m(free, exec));
    assert.ok(m(free, spawn("shell")));
    const bound: AllowancePattern = { ...free, "capsule_id": "shell" };
    assert.ok(m(bound, spawn("shell")));
    assert.ok(!m(bound, spawn("other")));
    assert.ok(!m(bound, exec));
    assert.ok(
      !m(free, { ...exec, args: ["status", "$(id)"] }),
      "substitution in args",
    );
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` resolves workspace-relative patterns against the caller's workspace only",
  permissions: "none",
  fn() {
    const write: AllowancePattern = {
      type: "workspace_relative",
      pattern: "src/**",
      permission: "write",
    };
    const file: Action = { type: "file_write", path: "/home/u/proj/src/a.ts" };
    assert.ok(m(write, file));
    assert.ok(!m(write, file, { workspace: "/home/u/other" }));
    assert.ok(!matchesAllowancePattern(write, file));
    assert.ok(
      !m(write, { type: "file_write", path: "/home/u/projX/src/a.ts" }),
    );
    assert.ok(
      !m(write, { type: "file_write", path: "/home/u/proj/src/../../x" }),
    );
    assert.ok(!m(write, { type: "file_read", path: "/home/u/proj/src/a.ts" }));
    const invoke: AllowancePattern = {
      type: "workspace_relative",
      pattern: "fs/read_*",
      permission: "invoke",
    };
    assert.ok(
      m(invoke, { type: "mcp_tool_call", server: "fs", tool: "read_file" }),
    );
    assert.ok(
      !m(invoke, { type: "mcp_tool_call", server: "fs", tool: "write" }),
    );
    const exec: AllowancePattern = {
      type: "workspace_relative",
      pattern: "npm *",
      permission: "execute",
    };
    assert.ok(
      m(exec, { type: "execute_command", command: "npm", args: ["test"] }),
    );
    assert.ok(
      !m(exec, { type: "execute_command", command: "npm", args: ["test;id"] }),
    );
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` matches capsule capabilities, including `net_bind` (0.5.1 quirk fixed)",
  permissions: "none",
  fn() {
    const cap = (capability: string): AllowancePattern => ({
      type: "capsule_capability",
      capsule_id: "web",
      capability,
    });
    assert.ok(
      m(cap("net_bind"), { type: "capsule_net_bind", capsule_id: "web" }),
    );
    assert.ok(
      !m(cap("net_bind"), { type: "capsule_net_bind", capsule_id: "w2" }),
    );
    const http: Action = {
      type: "capsule_http_request",
      "capsule_id": "web",
      url: "https://a.io/",
      method: "GET",
    };
    assert.ok(m(cap("http_request"), http));
    assert.ok(!m(cap("net_bind"), http));
    const access = (mode: "read" | "write" | "delete"): Action => ({
      type: "capsule_file_access",
      capsule_id: "web",
      path: "/x",
      mode,
    });
    assert.ok(m(cap("file_read"), access("read")));
    assert.ok(!m(cap("file_read"), access("write")));
    assert.ok(
      m(cap("render"), {
        type: "capsule_execution",
        capsule_id: "web",
        capability: "render",
      }),
    );
  },
});

Deno.test({
  name:
    "`matchesAllowancePattern()` lets a capsule wildcard cover its own capsule's capabilities but not its process spawns",
  permissions: "none",
  fn() {
    const p: AllowancePattern = {
      type: "capsule_wildcard",
      "capsule_id": "web",
    };
    assert.ok(m(p, { type: "capsule_net_bind", capsule_id: "web" }));
    assert.ok(!m(p, { type: "capsule_net_bind", capsule_id: "webx" }));
    assert.ok(
      !m(p, {
        type: "capsule_process_spawn",
        capsule_id: "web",
        command: "sh",
        args: [],
      }),
    );
    assert.ok(
      !m(p, {
        type: "secret_use",
        capsule_id: "web",
        name: "TOKEN",
        host: "a.io",
      }),
    );
  },
});

Deno.test({
  name: "`describeAllowancePattern()` renders the reference display forms",
  permissions: "none",
  fn() {
    const shown = ([
      { type: "exact_tool", server: "s", tool: "t" },
      { type: "server_tools", server: "s" },
      { type: "file_pattern", pattern: "/p/**", permission: "read" },
      { type: "network_host", host: "h", ports: [1, 2] },
      { type: "network_host", host: "h" },
      { type: "command_pattern", command: "git status" },
      { type: "workspace_relative", pattern: "src/*", permission: "write" },
      { type: "capsule_capability", capsule_id: "c", capability: "net_bind" },
      { type: "capsule_wildcard", capsule_id: "c" },
    ] as AllowancePattern[]).map(describeAllowancePattern);
    assert.deepEqual(shown, [
      "mcp://s/t",
      "mcp://s/*",
      "file:/p/** (read)",
      "net:h:[1,2]",
      "net:h:*",
      "cmd:git status",
      "workspace:src/* (write)",
      "capsule://c:net_bind",
      "capsule://c:*",
    ]);
  },
});
