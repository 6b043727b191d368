import assert from "node:assert/strict";
import { resolveLayers } from "../config/resolve_layers.ts";
import type { Action, DenoPermission } from "./action.ts";
import { SecurityPolicy } from "./policy.ts";
import { policyConfigFromConfig } from "./policy_config.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

const policy = new SecurityPolicy({
  ...policyConfigFromConfig(resolveLayers([])),
  blockedTools: ["rogue"],
});

function check(permission: DenoPermission, value: string | null): string {
  const action: Action = {
    type: "mcp_permission_check",
    server: "fs",
    permission,
    value,
  };
  const d = policy.check(action);
  if (d.result === "blocked") return `blocked:${d.rule}`;
  return d.result === "requires_approval" ? `approval:${d.risk}` : d.result;
}

test("`SecurityPolicy.check()` asks (low) for an MCP read of an allowed path", () => {
  assert.equal(check("read", "/ws/data.json"), "approval:low");
});

test("`SecurityPolicy.check()` blocks an MCP read of a denied or traversing path", () => {
  assert.equal(check("read", "/etc/shadow"), "blocked:denied_paths");
  assert.equal(check("read", "/ws/../etc/shadow"), "blocked:invalid_path");
  assert.equal(check("read", "relative.txt"), "blocked:invalid_path");
});

test("`SecurityPolicy.check()` asks (medium) for an MCP write and blocks a denied one", () => {
  assert.equal(check("write", "/ws/out.txt"), "approval:medium");
  assert.equal(check("write", "/dev/sda"), "blocked:denied_paths");
});

test("`SecurityPolicy.check()` blocks blanket MCP read, write, net and import access", () => {
  for (const p of ["read", "write", "net", "import"] as const) {
    assert.equal(check(p, null), "blocked:invalid_action", p);
  }
});

test("`SecurityPolicy.check()` asks (medium) for MCP net access to a public host", () => {
  assert.equal(check("net", "api.example.com:443"), "approval:medium");
  assert.equal(check("net", "api.example.com"), "approval:medium");
});

test("`SecurityPolicy.check()` blocks MCP net access to private, metadata and invalid hosts", () => {
  assert.equal(
    check("net", "127.0.0.1:8080"),
    "blocked:allow_private_networks",
  );
  assert.equal(
    check("net", "[::ffff:7f00:1]:80"),
    "blocked:allow_private_networks",
  );
  assert.equal(check("net", "169.254.169.254"), "blocked:cloud_metadata");
  assert.equal(check("net", "example.com:99999"), "blocked:invalid_host");
});

test("`SecurityPolicy.check()` asks for MCP env access, more urgently for all variables", () => {
  assert.equal(check("env", "HOME"), "approval:medium");
  assert.equal(check("env", null), "approval:high");
});

test("`SecurityPolicy.check()` asks (critical) for MCP run of an unblocked program", () => {
  assert.equal(check("run", "git"), "approval:critical");
  assert.equal(check("run", null), "approval:critical");
});

test("`SecurityPolicy.check()` blocks MCP run of a blocked program", () => {
  assert.equal(check("run", "su"), "blocked:blocked_commands");
  assert.equal(check("run", "/usr/bin/sudo"), "blocked:blocked_commands");
  assert.equal(check("run", "mkfs.ext4"), "blocked:blocked_commands");
});

test("`SecurityPolicy.check()` asks (critical) for MCP ffi and sys", () => {
  assert.equal(check("ffi", "/ws/lib.so"), "approval:critical");
  assert.equal(check("ffi", null), "approval:critical");
  assert.equal(check("sys", "hostname"), "approval:critical");
});

test("`SecurityPolicy.check()` blocks MCP ffi of a library in a denied path", () => {
  assert.equal(check("ffi", "/proc/self/mem"), "blocked:denied_paths");
});

test("`SecurityPolicy.check()` treats MCP remote imports like network access", () => {
  assert.equal(check("import", "https://esm.sh/x.js"), "approval:low");
  assert.equal(check("import", "registry.npmjs.org:443"), "approval:low");
  const open = new SecurityPolicy({ requireApprovalForNetwork: false });
  const action: Action = {
    type: "mcp_permission_check",
    server: "fs",
    permission: "import",
    value: "jsr.io",
  };
  assert.equal(open.check(action).result, "allowed");
});

test("`SecurityPolicy.check()` blocks MCP imports from private hosts, odd schemes and denied files", () => {
  assert.equal(
    check("import", "http://127.0.0.1:4507/mod.ts"),
    "blocked:allow_private_networks",
  );
  assert.equal(check("import", "data://x"), "blocked:invalid_action");
  assert.equal(check("import", "/etc/evil.ts"), "blocked:denied_paths");
  assert.equal(check("import", "file:///etc/evil.ts"), "blocked:denied_paths");
  assert.equal(
    check("import", "file:///ws/%2e%2e/etc/x.ts"),
    "blocked:denied_paths",
  );
});

test("`SecurityPolicy.check()` asks (low) for an MCP import of a local module", () => {
  assert.equal(check("import", "/ws/mod.ts"), "approval:low");
  assert.equal(check("import", "file:///ws/mod.ts"), "approval:low");
});

test("`SecurityPolicy.check()` blocks every permission check of a blocked MCP server", () => {
  const action: Action = {
    type: "mcp_permission_check",
    server: "rogue",
    permission: "read",
    value: "/ws/a",
  };
  const d = policy.check(action);
  assert.equal(d.result, "blocked");
  if (d.result === "blocked") assert.equal(d.rule, "blocked_tools");
});

test("`SecurityPolicy.check()` blocks an unknown Deno permission", () => {
  const action = {
    type: "mcp_permission_check",
    server: "fs",
    permission: "hrtime",
    value: null,
  } as unknown as Action;
  const d = policy.check(action);
  assert.equal(d.result === "blocked" ? d.rule : d.result, "invalid_action");
});
