import assert from "node:assert/strict";
import { resolveLayers } from "../config/resolve_layers.ts";
import type { Action } from "./action.ts";
import { SecurityPolicy } from "./policy.ts";
import { type PolicyConfig, policyConfigFromConfig } from "./policy_config.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

const DEFAULTS: PolicyConfig = policyConfigFromConfig(resolveLayers([]));
const policy = new SecurityPolicy({
  ...DEFAULTS,
  blockedTools: ["rogue"],
  approvalRequiredTools: ["careful"],
  deniedHosts: ["evil.example", "*.tracker.example"],
});

function check(a: Action, p: SecurityPolicy = policy): string {
  const d = p.check(a);
  if (d.result === "blocked") return `blocked:${d.rule}`;
  return d.result === "requires_approval" ? `approval:${d.risk}` : d.result;
}

function read(server: string, uri = "mem://notes"): Action {
  return { type: "mcp_resource_read", server, uri };
}

function openUrl(url: string, server = "gh"): Action {
  return {
    type: "mcp_elicitation",
    server,
    mode: "url",
    message: "Log in",
    url,
  };
}

function sample(server: string, maxTokens = 100): Action {
  return {
    type: "mcp_sampling",
    server,
    "max_tokens": maxTokens,
    "prompt_chars": 50,
  };
}

test("`SecurityPolicy.check()` allows MCP resource reads and prompt gets like tool calls", () => {
  assert.equal(check(read("fs")), "allowed");
  assert.equal(
    check({ type: "mcp_prompt_get", server: "fs", name: "summarise" }),
    "allowed",
  );
  assert.equal(check(read("careful")), "approval:low");
  assert.equal(
    check({ type: "mcp_prompt_get", server: "careful", name: "p" }),
    "approval:low",
  );
});

test("`SecurityPolicy.check()` asks before every MCP elicitation and sampling request", () => {
  assert.equal(
    check({
      type: "mcp_elicitation",
      server: "gh",
      mode: "form",
      message: "Repo?",
    }),
    "approval:medium",
  );
  assert.equal(
    check(openUrl("https://github.com/login/device")),
    "approval:high",
  );
  assert.equal(check(sample("llm")), "approval:medium");
});

test("`SecurityPolicy.check()` blocks every MCP request of a server in blocked_tools", () => {
  const actions: Action[] = [
    read("rogue"),
    { type: "mcp_prompt_get", server: "rogue", name: "p" },
    { type: "mcp_elicitation", server: "rogue", mode: "form", message: "" },
    openUrl("https://github.com/", "rogue"),
    sample("rogue"),
  ];
  for (const a of actions) {
    const d = policy.check(a);
    assert.equal(d.result, "blocked", a.type);
    assert.equal(d.result === "blocked" && d.entry, "rogue", a.type);
  }
});

test("`SecurityPolicy.check()` blocks elicitation URLs with a bad scheme, userinfo or a blocked host", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["javascript:alert(1)", "blocked:invalid_action"],
    ["data:text/html,hi", "blocked:invalid_action"],
    ["file:///etc/passwd", "blocked:invalid_action"],
    ["https://github.com@evil.example/", "blocked:invalid_action"],
    ["https://evil.example/login", "blocked:denied_hosts"],
    ["https://EVIL.example./login", "blocked:denied_hosts"],
    ["https://a.b.tracker.example/", "blocked:denied_hosts"],
    ["http://169.254.169.254/latest/meta-data", "blocked:cloud_metadata"],
    ["http://2130706433/", "blocked:allow_private_networks"],
    ["http://[::ffff:127.0.0.1]/", "blocked:allow_private_networks"],
    ["https://192.168.1.1/admin", "blocked:allow_private_networks"],
  ];
  for (const [url, expected] of cases) {
    assert.equal(check(openUrl(url)), expected, url);
  }
  const allowList = new SecurityPolicy({ allowedHosts: ["github.com"] });
  assert.equal(
    check(openUrl("https://github.com/x"), allowList),
    "approval:high",
  );
  assert.equal(
    check(openUrl("https://gitlab.com/x"), allowList),
    "blocked:allowed_hosts",
  );
});

test("`SecurityPolicy.check()` blocks resource URIs with NUL, control characters, `..` or too long", () => {
  for (
    const uri of [
      "file:///ws/a\0",
      "file:///ws/a\r\nb",
      "file:///ws/../../etc/shadow",
      `mem://${"a".repeat(2049)}`,
      "no-scheme",
    ]
  ) {
    assert.equal(check(read("fs", uri)), "blocked:invalid_action", uri);
  }
});

test("`SecurityPolicy.check()` blocks sampling with zero, negative or huge max_tokens", () => {
  for (const n of [0, -5, 0.5, 1_000_001, Number.MAX_SAFE_INTEGER + 2]) {
    assert.equal(check(sample("llm", n)), "blocked:invalid_action", String(n));
  }
  assert.equal(check(sample("llm", 1_000_000)), "approval:medium");
});

test("`SecurityPolicy.check()` blocks an MCP tool call with a malformed args_hash and keeps the tool rules", () => {
  assert.equal(
    check({
      type: "mcp_tool_call",
      server: "fs",
      tool: "ls",
      "args_hash": "xyz",
    }),
    "blocked:invalid_action",
  );
  assert.equal(
    check({
      type: "mcp_tool_call",
      server: "fs",
      tool: "ls",
      "args_hash": "0f".repeat(32),
    }),
    "allowed",
  );
  assert.equal(
    check({
      type: "mcp_tool_call",
      server: "rogue",
      tool: "ls",
      "args_hash": "0f".repeat(32),
    }),
    "blocked:blocked_tools",
  );
});

function hostCall(capsule: string, tool: string, argsHash?: string): Action {
  return {
    type: "mcp_host_tool_call",
    capsule_id: capsule,
    tool,
    ...(argsHash === undefined ? {} : { args_hash: argsHash }),
  };
}

test("SecurityPolicy.check() allows an MCP host's call of a tool no list names", () => {
  assert.equal(check(hostCall("fs", "read_file", "a".repeat(64))), "allowed");
});

test("SecurityPolicy.check() blocks an MCP host's call by capsule:tool, by capsule and by tool in blocked_tools, and asks by approval_required_tools", () => {
  const p = new SecurityPolicy({
    ...DEFAULTS,
    blockedTools: ["fs:grep", "shell", "rm_rf"],
    approvalRequiredTools: ["fs:write_file", "web"],
    blockedCapsules: ["evil"],
  });
  assert.equal(check(hostCall("fs", "grep"), p), "blocked:blocked_tools");
  assert.equal(check(hostCall("shell", "run"), p), "blocked:blocked_tools");
  assert.equal(check(hostCall("x", "rm_rf"), p), "blocked:blocked_tools");
  assert.equal(check(hostCall("evil", "t"), p), "blocked:blocked_capsules");
  assert.equal(check(hostCall("fs", "write_file"), p), "approval:medium");
  assert.equal(check(hostCall("web", "fetch"), p), "approval:medium");
  assert.equal(check(hostCall("fs", "read_file"), p), "allowed");
});

test("SecurityPolicy.check() blocks an MCP host's call whose tool name could address another topic, or whose args_hash is malformed", () => {
  for (
    const tool of ["*", ">", "a.b", "read_file.result", "", "x".repeat(65)]
  ) {
    assert.equal(
      check(hostCall("fs", tool)),
      "blocked:invalid_action",
      JSON.stringify(tool),
    );
  }
  assert.equal(
    check(hostCall("fs", "read_file", "ZZ")),
    "blocked:invalid_action",
  );
});
