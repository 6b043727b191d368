import assert from "node:assert/strict";
import { bad, issueAt, ok, PKG } from "./_manifest_fixture_test.ts";

Deno.test({
  name: "`parseManifest()` reads [env.<KEY>] types and stringifies defaults",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      "[env.COUNT]",
      'type = "integer"',
      "default = 3",
      "[env.RATIO]",
      'type = "number"',
      "default = 0.5",
      "[env.ON]",
      'type = "boolean"',
      "default = true",
      "[env.TAGS]",
      'type = "array"',
      'default = ["a", "b"]',
      'placeholder = "comma separated"',
    );
    assert.deepEqual(m.env.map((e) => [e.key, e.default]), [
      ["COUNT", "3"],
      ["RATIO", "0.5"],
      ["ON", "true"],
      ["TAGS", '["a","b"]'],
    ]);
    assert.equal(m.env[3]?.placeholder, "comma separated");
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses bad [env] entries: secret defaults, reserved names, types",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[env.TOKEN]",
      'type = "secret"',
      'default = "hunter2"',
      "[env.ASTRID_HOME]",
      'type = "string"',
      "[env.N]",
      'type = "integer"',
      'default = "many"',
      "[env.MODE]",
      'type = "string"',
      'default = "c"',
      'enum_values = ["a", "b"]',
      "[env.X]",
      'type = "password"',
      "[env.Y]",
      'description = "no type"',
      "[env.Z]",
      'type = "string"',
      'hint = "?"',
      "[env]",
      'PLAIN = "value"',
    );
    assert.match(
      issueAt(issues, "env.TOKEN.default").message,
      /secret cannot have a default/,
    );
    assert.ok(!issues.some((i) => i.message.includes("hunter2")));
    assert.match(
      issueAt(issues, "env.ASTRID_HOME").message,
      /reserved for the kernel/,
    );
    assert.match(
      issueAt(issues, "env.N.default").message,
      /an integer for type 'integer'/,
    );
    assert.match(
      issueAt(issues, "env.MODE.default").message,
      /one of enum_values/,
    );
    assert.match(
      issueAt(issues, "env.X.type").message,
      /one of string, secret/,
    );
    assert.match(
      issueAt(issues, "env.Y.type").message,
      /missing required key 'type'/,
    );
    assert.match(issueAt(issues, "env.Z.hint").message, /unknown key 'hint'/);
    assert.match(
      issueAt(issues, "env.PLAIN").message,
      /expected a table, got a string/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` checks context files, commands and skills",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[[context_file]]",
      'name = "rules"',
      "[[context_file]]",
      'name = "rules"',
      'file = "../../etc/passwd"',
      "[[command]]",
      'name = "/deploy"',
      "[[command]]",
      'name = "ok"',
      'file = "/abs"',
      "[[skill]]",
      'file = "s.md"',
      "[[skill]]",
      'name = "s"',
      'file = "s.md"',
      "description = 3",
    );
    assert.match(
      issueAt(issues, "context_file[0].file").message,
      /missing required key 'file'/,
    );
    assert.match(
      issueAt(issues, "context_file[1].file").message,
      /relative path/,
    );
    assert.match(
      issueAt(issues, "context_file[1].name").message,
      /duplicate name 'rules' \(already used by context_file\[0\]\)/,
    );
    assert.match(
      issueAt(issues, "command[0].name").message,
      /without the leading '\/'/,
    );
    issueAt(issues, "command[1].file");
    assert.match(
      issueAt(issues, "skill[0].name").message,
      /missing required key 'name'/,
    );
    assert.match(
      issueAt(issues, "skill[1].description").message,
      /expected a string, got an integer/,
    );
    assert.match(
      issueAt(bad('command = { name = "x" }', ...PKG), "command").message,
      /array of tables/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` checks uplinks and interceptors",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[[uplink]]",
      'name = "tg"',
      'platform = "telegram"',
      'profile = "group"',
      "[[interceptor]]",
      'event = "llm..request"',
      'action = "on"',
      "[[interceptor]]",
      'event = "llm.v1.*"',
      'action = "on"',
      "priority = -1",
      "[[interceptor]]",
      'event = "llm.v1.x"',
      'action = "1bad"',
      "priority = 2.5",
    );
    assert.match(
      issueAt(issues, "uplink[0].profile").message,
      /one of chat, interactive, notify, bridge/,
    );
    assert.match(
      issueAt(issues, "interceptor[0].event").message,
      /no empty segments/,
    );
    assert.match(
      issueAt(issues, "interceptor[1].priority").message,
      /non-negative integer/,
    );
    issueAt(issues, "interceptor[2].action");
    issueAt(issues, "interceptor[2].priority");
    assert.equal(
      ok(...PKG, "[[interceptor]]", 'event = "a.b"', 'action = "h"')
        .interceptors[0]?.priority,
      100,
    );
  },
});

Deno.test({
  name: "`parseManifest()` refuses more than 64 interceptors",
  permissions: "none",
  fn() {
    const lines = Array.from(
      { length: 65 },
      (_, i) => `[[interceptor]]\nevent = "a.b"\naction = "h${i}"`,
    );
    assert.match(
      issueAt(bad(...PKG, ...lines), "interceptor").message,
      /at most 64 interceptors, got 65/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` checks topic names, wildcards, directions, schemas and duplicates",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      ...["*", "a.*.b", "a..b", "a.b$", "a.b.*"].flatMap((name) => [
        "[[topic]]",
        `name = "${name}"`,
        'direction = "publish"',
      ]),
      "[[topic]]",
      'name = "a.b.*"',
      'direction = "publish"',
      "[[topic]]",
      'name = "a.b.*"',
      'direction = "subscribe"',
      'schema = "../s.json"',
      "[[topic]]",
      'name = "x.y"',
      'direction = "both"',
    );
    assert.match(issueAt(issues, "topic[0].name").message, /too broad/);
    assert.match(
      issueAt(issues, "topic[1].name").message,
      /non-trailing wildcard/,
    );
    assert.match(issueAt(issues, "topic[2].name").message, /empty segments/);
    assert.match(
      issueAt(issues, "topic[3].name").message,
      /invalid characters/,
    );
    assert.ok(!issues.some((i) => i.key.startsWith("topic[4]")));
    assert.match(
      issueAt(issues, "topic[5].name").message,
      /duplicate topic 'a\.b\.\* \(publish\)'/,
    );
    issueAt(issues, "topic[6].schema");
    assert.ok(!issues.some((i) => i.key === "topic[6].name"));
    assert.match(
      issueAt(issues, "topic[7].direction").message,
      /'publish' or 'subscribe'/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` requires MCP server commands to be allow-listed in host_process",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      "[capabilities]",
      'host_process = ["deno run --no-prompt"]',
      "[[mcp_server]]",
      'id = "memory"',
      'command = "deno"',
      'args = ["run", "--no-prompt", "server.ts"]',
    );
    assert.deepEqual(m.mcp_servers, [
      {
        id: "memory",
        type: "stdio",
        command: "deno",
        args: ["run", "--no-prompt", "server.ts"],
      },
    ]);
    const issues = bad(
      ...PKG,
      "[capabilities]",
      'host_process = ["deno run --no-prompt"]',
      "[[mcp_server]]",
      'id = "memory"',
      'command = "deno"',
      'args = ["run", "-A", "server.ts"]',
      "[[mcp_server]]",
      'id = "memory"',
      'type = "openclaw"',
      'command = "../bin/x"',
    );
    assert.match(
      issueAt(issues, "mcp_server[0].command").message,
      /'deno run -A server\.ts' is not allow-listed/,
    );
    assert.match(
      issueAt(issues, "mcp_server[1].id").message,
      /duplicate id 'memory'/,
    );
    assert.match(issueAt(issues, "mcp_server[1].type").message, /'stdio'/);
    assert.match(
      issueAt(issues, "mcp_server[1].command").message,
      /inside the capsule without '\.\.'/,
    );
  },
});
