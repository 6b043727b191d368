import assert from "node:assert/strict";
import type { Action } from "./action.ts";
import { actionInfo } from "./action_info.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

/** [action, risk, summary, resource, permission] for every action type. */
const TABLE: ReadonlyArray<
  readonly [Action, string, string, string | null, string | null]
> = [
  [
    { type: "file_read", path: "/ws/a.txt" },
    "medium",
    "Read: /ws/a.txt",
    "file:///ws/a.txt",
    "read",
  ],
  [
    { type: "file_write", path: "/ws/a.txt" },
    "high",
    "Write file: /ws/a.txt",
    "file:///ws/a.txt",
    "write",
  ],
  [
    { type: "file_delete", path: "/ws/a.txt" },
    "high",
    "Delete file: /ws/a.txt",
    "file:///ws/a.txt",
    "delete",
  ],
  [
    { type: "execute_command", command: "git", args: ["status", "-s"] },
    "high",
    "Execute: git status -s",
    "exec://git",
    "execute",
  ],
  [
    { type: "execute_command", command: "ls", args: [] },
    "high",
    "Execute: ls",
    "exec://ls",
    "execute",
  ],
  [
    { type: "network_request", host: "api.example.com", port: 443 },
    "medium",
    "Network request to api.example.com:443",
    "net://api.example.com:443",
    "invoke",
  ],
  [
    { type: "transmit_data", destination: "x.com", "data_type": "logs" },
    "high",
    "Transmit logs to x.com",
    null,
    null,
  ],
  [
    { type: "financial_transaction", amount: "$5", recipient: "bob" },
    "critical",
    "Financial transaction: $5 to bob",
    null,
    null,
  ],
  [
    { type: "access_control_change", resource: "repo", change: "admin" },
    "critical",
    "Access control change on repo: admin",
    null,
    null,
  ],
  [
    {
      type: "capability_grant",
      "resource_pattern": "file:///ws/**",
      permissions: ["read", "write"],
    },
    "high",
    "Grant capability: [read, write] on file:///ws/**",
    null,
    null,
  ],
  [
    { type: "mcp_tool_call", server: "github", tool: "list_issues" },
    "medium",
    "MCP tool call: github/list_issues",
    "mcp://github:list_issues",
    "invoke",
  ],
  [
    {
      type: "mcp_tool_call",
      server: "github",
      tool: "list_issues",
      "args_hash": "ab".repeat(32),
    },
    "medium",
    "MCP tool call: github/list_issues",
    "mcp://github:list_issues",
    "invoke",
  ],
  [
    { type: "mcp_resource_read", server: "fs", uri: "file:///ws/a.md" },
    "low",
    "Read MCP resource file:///ws/a.md from server 'fs'",
    "mcp-resource://fs/file:///ws/a.md",
    "read",
  ],
  [
    { type: "mcp_prompt_get", server: "gh", name: "review_pr" },
    "low",
    "Get MCP prompt 'review_pr' from server 'gh'",
    "mcp-prompt://gh/review_pr",
    "read",
  ],
  [
    {
      type: "mcp_elicitation",
      server: "gh",
      mode: "form",
      message: "Which\nrepository?",
    },
    "medium",
    "MCP server 'gh' asks you for input: \"Which repository?\"",
    "mcp-elicit://gh/form",
    "invoke",
  ],
  [
    {
      type: "mcp_elicitation",
      server: "gh",
      mode: "url",
      message: "Authorise",
      url: "https://GitHub.com:8443/login/device?code=1",
    },
    "high",
    "MCP server 'gh' asks you to open https://github.com:8443/…",
    "mcp-elicit://gh/url/github.com",
    "invoke",
  ],
  [
    {
      type: "mcp_sampling",
      server: "s",
      "max_tokens": 512,
      "prompt_chars": 900,
      model: "claude-sonnet",
    },
    "medium",
    "MCP server 's' asks the LLM for up to 512 tokens from a 900-character prompt (model claude-sonnet)",
    "mcp-sampling://s",
    "invoke",
  ],
  [
    { type: "capsule_execution", "capsule_id": "x", capability: "summarise" },
    "high",
    "Capsule 'x' wants to invoke capability 'summarise'",
    "capsule://x:summarise",
    "invoke",
  ],
  [
    {
      type: "capsule_http_request",
      "capsule_id": "x",
      url: "https://a.com/b",
      method: "POST",
    },
    "high",
    "Capsule 'x' wants to POST https://a.com/b",
    "capsule://x:http_request/a.com",
    "invoke",
  ],
  [
    {
      type: "capsule_file_access",
      "capsule_id": "x",
      path: "/ws/n.md",
      mode: "delete",
    },
    "high",
    "Capsule 'x' wants to delete /ws/n.md",
    "capsule://x:file_delete/ws/n.md",
    "invoke",
  ],
  [
    { type: "capsule_net_bind", "capsule_id": "x" },
    "high",
    "Capsule 'x' wants to accept socket connections (net_bind)",
    null,
    null,
  ],
  [
    {
      type: "capsule_process_spawn",
      "capsule_id": "x",
      command: "git",
      args: ["log"],
    },
    "high",
    "Capsule 'x' wants to run: git log",
    "exec://git",
    "execute",
  ],
  [
    {
      type: "mcp_permission_check",
      server: "fs",
      permission: "read",
      value: "/ws/a",
    },
    "low",
    "MCP server 'fs' wants read access to /ws/a",
    "mcp-perm://fs:read/ws/a",
    "read",
  ],
  [
    {
      type: "mcp_permission_check",
      server: "fs",
      permission: "net",
      value: "API.example.com:443",
    },
    "medium",
    "MCP server 'fs' wants net access to API.example.com:443",
    "mcp-perm://fs:net/api.example.com:443",
    "invoke",
  ],
  [
    {
      type: "mcp_permission_check",
      server: "fs",
      permission: "run",
      value: "git",
    },
    "critical",
    "MCP server 'fs' wants run access to git",
    "mcp-perm://fs:run/git",
    "execute",
  ],
  [
    {
      type: "mcp_permission_check",
      server: "fs",
      permission: "env",
      value: null,
    },
    "medium",
    "MCP server 'fs' wants env access to everything",
    "mcp-perm://fs:env",
    "invoke",
  ],
  [
    { type: "overlay_commit", "session_id": "s1", paths: ["/ws/a", "/ws/b"] },
    "high",
    "Commit 2 file(s) to the workspace",
    "overlay://s1",
    "write",
  ],
  [
    {
      type: "secret_use",
      "capsule_id": "x",
      name: "GH_TOKEN",
      host: "api.github.com",
    },
    "high",
    "Capsule 'x' wants to use secret GH_TOKEN for api.github.com",
    "secret://x:GH_TOKEN",
    "invoke",
  ],
];

test("`actionInfo()` gives the reference risks, summaries and resources", () => {
  for (const [action, risk, summary, resource, permission] of TABLE) {
    const info = actionInfo(action);
    assert.equal(info.type, action.type);
    assert.equal(info.risk, risk, action.type);
    assert.equal(info.summary, summary, action.type);
    assert.deepEqual(
      info.resource,
      resource === null ? null : { resource, permission },
      action.type,
    );
    assert.equal(info.invalid, null, action.type);
  }
});

test("`actionInfo()` ranks Deno permissions by danger", () => {
  const risk = (permission: "read" | "import" | "write" | "sys" | "ffi") =>
    actionInfo({
      type: "mcp_permission_check",
      server: "s",
      permission,
      value: null,
    }).risk;
  assert.equal(risk("read"), "low");
  assert.equal(risk("import"), "low");
  assert.equal(risk("write"), "medium");
  assert.equal(risk("sys"), "critical");
  assert.equal(risk("ffi"), "critical");
});

test("`actionInfo()` canonicalises paths in resources and `paths`", () => {
  const info = actionInfo({ type: "file_write", path: "//ws/./src//a.ts/" });
  assert.deepEqual(info.resource, {
    resource: "file:///ws/src/a.ts",
    permission: "write",
  });
  assert.deepEqual(info.paths, ["/ws/src/a.ts"]);
  assert.equal(info.summary, "Write file: //ws/./src//a.ts/");
});

test("`actionInfo()` maps no resource for a path with `..`, and says why", () => {
  for (
    const action of [
      { type: "file_read", path: "/ws/../etc/passwd" },
      { type: "file_delete", path: "relative/x" },
      {
        type: "capsule_file_access",
        "capsule_id": "x",
        path: "/ws/../../etc",
        mode: "read",
      },
      {
        type: "mcp_permission_check",
        server: "s",
        permission: "write",
        value: "/ws/../x",
      },
      { type: "overlay_commit", "session_id": "s", paths: ["/ws/a", "/ws/.."] },
    ] satisfies Action[]
  ) {
    const info = actionInfo(action);
    assert.equal(info.resource, null, action.type);
    assert.match(info.invalid ?? "", /'\.\.'|not absolute/, action.type);
    assert.ok(info.paths.every((p) => !p.split("/").includes("..")));
  }
});

test("`actionInfo()` maps no resource when a name could add or walk segments", () => {
  const actions: Action[] = [
    { type: "execute_command", command: "../../bin/sh", args: [] },
    { type: "mcp_tool_call", server: "..", tool: "x" },
    { type: "mcp_tool_call", server: "a/../b", tool: "x" },
    { type: "mcp_tool_call", server: "a:b", tool: "c" },
    { type: "capsule_execution", "capsule_id": "x/y", capability: "c" },
    { type: "secret_use", "capsule_id": "", name: "N", host: "a.com" },
    { type: "overlay_commit", "session_id": "..", paths: [] },
    {
      type: "mcp_permission_check",
      server: "s",
      permission: "run",
      value: "../x",
    },
  ];
  for (const a of actions) assert.equal(actionInfo(a).resource, null, a.type);
});

test("`actionInfo()` lists normalised hosts, resolving URL userinfo tricks", () => {
  const http = actionInfo({
    type: "capsule_http_request",
    "capsule_id": "x",
    url: "http://api.github.com@0x7f000001/",
    method: "GET",
  });
  assert.deepEqual(http.hosts, ["127.0.0.1"]);
  const net = actionInfo({ type: "network_request", host: "127.1", port: 80 });
  assert.deepEqual(net.hosts, ["127.0.0.1"]);
  assert.equal(net.resource?.resource, "net://127.0.0.1:80");
});

test("`actionInfo()` maps no resource for an invalid host or port", () => {
  const badHost = actionInfo({
    type: "network_request",
    host: "a b",
    port: 80,
  });
  assert.equal(badHost.resource, null);
  assert.notEqual(badHost.invalid, null);
  const badPort = actionInfo({
    type: "network_request",
    host: "example.com",
    port: 70000,
  });
  assert.equal(badPort.resource, null);
  assert.match(badPort.invalid ?? "", /not a valid TCP port/);
  const badUrl = actionInfo({
    type: "capsule_http_request",
    "capsule_id": "x",
    url: "nope",
    method: "GET",
  });
  assert.equal(badUrl.resource, null);
});

test("`actionInfo()` marks only read-only file actions as reads", () => {
  const read = (mode: "read" | "write" | "delete") =>
    actionInfo({
      type: "capsule_file_access",
      "capsule_id": "x",
      path: "/ws/a",
      mode,
    }).isRead;
  assert.equal(read("read"), true);
  assert.equal(read("write"), false);
  assert.equal(read("delete"), false);
  assert.equal(actionInfo({ type: "file_read", path: "/a" }).isRead, true);
  const mcp = (a: Action) => actionInfo(a).isRead;
  assert.equal(
    mcp({ type: "mcp_resource_read", server: "s", uri: "m://a" }),
    true,
  );
  assert.equal(mcp({ type: "mcp_prompt_get", server: "s", name: "p" }), true);
  assert.equal(
    mcp({
      type: "mcp_sampling",
      server: "s",
      "max_tokens": 1,
      "prompt_chars": 0,
    }),
    false,
  );
  assert.equal(
    mcp({ type: "mcp_elicitation", server: "s", mode: "form", message: "m" }),
    false,
  );
  assert.equal(actionInfo({ type: "file_write", path: "/a" }).isRead, false);
  const cmd = actionInfo({ type: "execute_command", command: "cat", args: [] });
  assert.equal(cmd.isRead, false);
});

test("`actionInfo()` lists every path an overlay commit touches", () => {
  const info = actionInfo({
    type: "overlay_commit",
    "session_id": "s",
    paths: ["/ws/a", "/ws//b"],
  });
  assert.deepEqual(info.paths, ["/ws/a", "/ws/b"]);
  assert.deepEqual(info.hosts, []);
});

test("`actionInfo()` treats a non-host transmit destination as valid but hostless", () => {
  const info = actionInfo({
    type: "transmit_data",
    destination: "#ops channel",
    "data_type": "report",
  });
  assert.deepEqual(info.hosts, []);
  assert.equal(info.invalid, null);
});

test("`actionInfo()` throws on an unknown action type", () => {
  const bogus = { type: "format_disk" } as unknown as Action;
  assert.throws(() => actionInfo(bogus), TypeError);
});
