import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { resolveLayers } from "../config/resolve_layers.ts";
import type { Action } from "./action.ts";
import { SecurityPolicy } from "./policy.ts";
import { type PolicyConfig, policyConfigFromConfig } from "./policy_config.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

/** The policy of the built-in configuration defaults. */
const DEFAULTS: PolicyConfig = policyConfigFromConfig(resolveLayers([]));
const policy = new SecurityPolicy(DEFAULTS);

function result(p: SecurityPolicy, a: Action): string {
  const d = p.check(a);
  return d.result === "requires_approval" ? `approval:${d.risk}` : d.result;
}

function rule(p: SecurityPolicy, a: Action): string | null {
  const d = p.check(a);
  return d.result === "blocked" ? d.rule : null;
}

function exec(line: string): Action {
  const [command = "", ...args] = line.split(" ");
  return { type: "execute_command", command, args };
}

function net(host: string, port = 443): Action {
  return { type: "network_request", host, port };
}

function http(url: string): Action {
  return {
    type: "capsule_http_request",
    "capsule_id": "web",
    url,
    method: "GET",
  };
}

test("`policyConfigFromConfig()` reads every [security.policy] key and allow_private_networks", () => {
  const config = resolveLayers([{
    name: "user",
    source: "/u.toml",
    values: {
      security: {
        "allow_private_networks": true,
        policy: {
          "blocked_tools": ["fs:rm"],
          "blocked_capsules": ["bad"],
          "allowed_hosts": ["api.example.com"],
          "max_argument_size": 7,
          "require_approval_for_network": false,
        },
      },
    },
  }]);
  const c = policyConfigFromConfig(config);
  assert.deepEqual(c.blockedTools, ["fs:rm"]);
  assert.deepEqual(c.blockedCapsules, ["bad"]);
  assert.deepEqual(c.allowedHosts, ["api.example.com"]);
  assert.equal(c.maxArgumentSize, 7);
  assert.equal(c.requireApprovalForNetwork, false);
  assert.equal(c.allowPrivateNetworks, true);
  assert.deepEqual(c.deniedPaths, DEFAULTS.deniedPaths);
  assert.ok(DEFAULTS.blockedCommands?.includes("chmod 777"));
});

test("`SecurityPolicy.check()` with defaults blocks `su root` and `/bin/su` but asks for `sum x`", () => {
  assert.equal(rule(policy, exec("su root")), "blocked_commands");
  assert.equal(rule(policy, exec("/bin/su")), "blocked_commands");
  assert.equal(result(policy, exec("sum x")), "approval:high");
});

test("`SecurityPolicy.check()` with defaults blocks `rm -rf /` and `rm -fr /` but asks for `rm -rf /tmp/x`", () => {
  assert.equal(rule(policy, exec("rm -rf /")), "blocked_commands");
  assert.equal(rule(policy, exec("rm -fr /")), "blocked_commands");
  assert.equal(rule(policy, exec("sudo rm -r -f /")), "blocked_commands");
  assert.equal(result(policy, exec("rm -rf /tmp/x")), "approval:high");
});

test("`SecurityPolicy.check()` reports the matching blocked_commands entry", () => {
  const d = policy.check(exec("chmod -R 777 /srv"));
  assert.equal(d.result, "blocked");
  if (d.result === "blocked") {
    assert.equal(d.entry, "chmod 777");
    assert.match(d.reason, /chmod -R 777 \/srv/);
  }
});

test("`SecurityPolicy.check()` allows exactly max_argument_size bytes and blocks one more", () => {
  const p = new SecurityPolicy({ maxArgumentSize: 8 });
  assert.equal(result(p, exec("echo 1234 5678")), "approval:high");
  assert.equal(rule(p, exec("echo 1234 56789")), "max_argument_size");
  const spawn = (args: string[]): Action => ({
    type: "capsule_process_spawn",
    "capsule_id": "c",
    command: "echo",
    args,
  });
  assert.equal(result(p, spawn(["12345678"])), "approval:high");
  assert.equal(rule(p, spawn(["123456789"])), "max_argument_size");
});

test("`SecurityPolicy.check()` asks before reading a workspace file", () => {
  assert.equal(
    result(policy, { type: "file_read", path: "/ws/a.txt" }),
    "approval:high",
  );
});

test("`SecurityPolicy.check()` blocks reads of the default denied trees, however spelled", () => {
  for (
    const path of [
      "/etc/passwd",
      "/etc",
      "//etc/./shadow",
      "/proc/self/environ",
      "/dev/sda",
      "/sys/x",
      "/boot/vmlinuz",
    ]
  ) {
    const d = policy.check({ type: "file_read", path });
    assert.equal(
      d.result === "blocked" ? d.rule : d.result,
      "denied_paths",
      path,
    );
  }
});

test("`SecurityPolicy.check()` blocks path traversal, NUL and relative paths", () => {
  const cases: Array<[string, RegExp]> = [
    ["/ws/../etc/passwd", /'\.\.'/],
    ["/ws/a\0.txt", /NUL/],
    ["ws/a.txt", /not absolute/],
    [`/${"a".repeat(5000)}`, /over the 4096-byte limit/],
  ];
  for (const [path, why] of cases) {
    for (const type of ["file_read", "file_write", "file_delete"] as const) {
      const d = policy.check({ type, path });
      assert.equal(d.result, "blocked");
      if (d.result === "blocked") {
        assert.equal(d.rule, "invalid_path");
        assert.match(d.reason, why);
      }
    }
  }
});

test("`SecurityPolicy.check()` with allowed_paths asks inside them and blocks outside", () => {
  const p = new SecurityPolicy({ allowedPaths: ["/ws/**"] });
  assert.equal(
    result(p, { type: "file_write", path: "/ws/src/a.ts" }),
    "approval:high",
  );
  assert.equal(
    rule(p, { type: "file_write", path: "/home/u/.bashrc" }),
    "allowed_paths",
  );
  assert.equal(
    rule(p, { type: "file_write", path: "/ws/../home/u/.bashrc" }),
    "invalid_path",
  );
});

test("`SecurityPolicy.check()` lets denied_paths beat allowed_paths", () => {
  const p = new SecurityPolicy({
    deniedPaths: ["/ws/.git/**"],
    allowedPaths: ["/ws/**"],
  });
  assert.equal(
    result(p, { type: "file_write", path: "/ws/a" }),
    "approval:high",
  );
  assert.equal(
    rule(p, { type: "file_write", path: "/ws/.git/hooks/pre-commit" }),
    "denied_paths",
  );
});

test("`SecurityPolicy.check()` asks before a delete and blocks a denied delete", () => {
  const p = new SecurityPolicy({
    ...DEFAULTS,
    requireApprovalForDelete: false,
  });
  assert.equal(
    result(p, { type: "file_delete", path: "/ws/a" }),
    "approval:high",
  );
  assert.equal(
    rule(p, { type: "file_delete", path: "/etc/hosts" }),
    "denied_paths",
  );
});

test("`SecurityPolicy.check()` asks before a public network request and allows it when approval is off", () => {
  assert.equal(result(policy, net("api.example.com")), "approval:medium");
  const open = new SecurityPolicy({ requireApprovalForNetwork: false });
  assert.equal(result(open, net("api.example.com")), "allowed");
});

test("`SecurityPolicy.check()` blocks every IP encoding of loopback and private hosts", () => {
  for (
    const host of [
      "127.0.0.1",
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "127.1",
      "localhost",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::127.0.0.1",
      "64:ff9b::7f00:1",
      "10.1.2.3",
      "192.168.0.10",
      "169.254.10.10",
      "100.64.1.1",
      "0.0.0.0",
      "fd12::1",
    ]
  ) {
    assert.equal(rule(policy, net(host)), "allow_private_networks", host);
  }
});

test("`SecurityPolicy.check()` with allow_private_networks asks before a private host", () => {
  const p = new SecurityPolicy({ allowPrivateNetworks: true });
  assert.equal(result(p, net("127.0.0.1", 11434)), "approval:medium");
  assert.equal(result(p, net("::ffff:192.168.1.1")), "approval:medium");
});

test("`SecurityPolicy.check()` blocks cloud metadata even with allow_private_networks", () => {
  const p = new SecurityPolicy({
    allowPrivateNetworks: true,
    requireApprovalForNetwork: false,
  });
  for (
    const host of [
      "169.254.169.254",
      "0xa9fea9fe",
      "::ffff:169.254.169.254",
      "fd00:ec2::254",
      "metadata.google.internal",
    ]
  ) {
    assert.equal(rule(p, net(host, 80)), "cloud_metadata", host);
  }
  assert.equal(
    rule(p, http("http://169.254.169.254/latest/meta-data/")),
    "cloud_metadata",
  );
});

test("`SecurityPolicy.check()` blocks a denied host spelled as another IP encoding", () => {
  const p = new SecurityPolicy({ deniedHosts: ["93.184.216.34"] });
  assert.equal(rule(p, net("1572395042")), "denied_hosts");
  assert.equal(rule(p, net("::ffff:5db8:d822")), "denied_hosts");
  assert.equal(result(p, net("93.184.216.35")), "approval:medium");
});

test("`SecurityPolicy.check()` with allowed_hosts asks for listed hosts and blocks others", () => {
  const p = new SecurityPolicy({
    allowedHosts: ["api.example.com", "*.githubusercontent.com"],
  });
  assert.equal(result(p, net("api.example.com")), "approval:medium");
  assert.equal(result(p, net("raw.githubusercontent.com")), "approval:medium");
  assert.equal(rule(p, net("example.org")), "allowed_hosts");
});

test("`SecurityPolicy.check()` lets denied_hosts beat allowed_hosts", () => {
  const p = new SecurityPolicy({
    deniedHosts: ["api.example.com"],
    allowedHosts: ["api.example.com"],
  });
  assert.equal(rule(p, net("api.example.com")), "denied_hosts");
});

test("`SecurityPolicy.check()` blocks invalid ports and hosts of a network request", () => {
  for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
    assert.equal(
      rule(policy, net("example.com", port)),
      "invalid_action",
      String(port),
    );
  }
  assert.equal(rule(policy, net("example.com:443")), "invalid_host");
  assert.equal(rule(policy, net("a@example.com")), "invalid_host");
});

test("`SecurityPolicy.check()` resolves userinfo tricks in capsule HTTP URLs", () => {
  assert.equal(
    result(policy, http("https://api.github.com/repos")),
    "approval:high",
  );
  assert.equal(
    rule(policy, http("http://api.github.com@127.0.0.1/")),
    "allow_private_networks",
  );
  assert.equal(
    rule(policy, http("http://[::ffff:127.0.0.1]:8080/")),
    "allow_private_networks",
  );
  assert.equal(
    rule(policy, http("http://0x7f000001/")),
    "allow_private_networks",
  );
});

test("`SecurityPolicy.check()` blocks capsule HTTP requests to invalid URLs and other schemes", () => {
  assert.equal(rule(policy, http("not a url")), "invalid_host");
  assert.equal(rule(policy, http("file:///etc/passwd")), "invalid_action");
  assert.equal(rule(policy, http("ftp://example.com/x")), "invalid_action");
});

test("`SecurityPolicy.check()` blocks every action of a blocked capsule", () => {
  const p = new SecurityPolicy({ blockedCapsules: ["evil"] });
  const id = "evil";
  const actions: Action[] = [
    { type: "capsule_execution", "capsule_id": id, capability: "x" },
    {
      type: "capsule_http_request",
      "capsule_id": id,
      url: "https://example.com",
      method: "GET",
    },
    {
      type: "capsule_file_access",
      "capsule_id": id,
      path: "/ws/a",
      mode: "read",
    },
    { type: "capsule_net_bind", "capsule_id": id },
    {
      type: "capsule_process_spawn",
      "capsule_id": id,
      command: "ls",
      args: [],
    },
    {
      type: "secret_use",
      "capsule_id": id,
      name: "TOKEN",
      host: "api.example.com",
    },
  ];
  for (const a of actions) {
    const d = p.check(a);
    assert.equal(
      d.result === "blocked" ? d.rule : d.result,
      "blocked_capsules",
      a.type,
    );
    assert.equal(d.result === "blocked" ? d.entry : undefined, "evil");
    const other = { ...a, "capsule_id": "good" } as Action;
    assert.equal(result(p, other), "approval:high", a.type);
  }
});

test("`SecurityPolicy.check()` applies path rules to capsule file access", () => {
  const read: Action = {
    type: "capsule_file_access",
    "capsule_id": "c",
    path: "/etc/shadow",
    mode: "read",
  };
  assert.equal(rule(policy, read), "denied_paths");
  assert.equal(
    rule(policy, { ...read, path: "/ws/../etc/shadow" }),
    "invalid_path",
  );
  assert.equal(
    result(policy, { ...read, path: "/ws/notes.md" }),
    "approval:high",
  );
});

test("`SecurityPolicy.check()` applies command rules to capsule process spawns", () => {
  const spawn: Action = {
    type: "capsule_process_spawn",
    "capsule_id": "c",
    command: "/usr/bin/sudo",
    args: ["ls"],
  };
  assert.equal(rule(policy, spawn), "blocked_commands");
  assert.equal(
    result(policy, { ...spawn, command: "git", args: ["status"] }),
    "approval:high",
  );
});

test("`SecurityPolicy.check()` blocks MCP tools by server:tool, server or tool", () => {
  const p = new SecurityPolicy({
    blockedTools: ["fs:delete", "shell", "drop_table"],
  });
  const call = (server: string, tool: string): Action => ({
    type: "mcp_tool_call",
    server,
    tool,
  });
  assert.equal(rule(p, call("fs", "delete")), "blocked_tools");
  assert.equal(rule(p, call("shell", "run")), "blocked_tools");
  assert.equal(rule(p, call("db", "drop_table")), "blocked_tools");
  assert.equal(result(p, call("fs", "read")), "allowed");
});

test("`SecurityPolicy.check()` asks for approval_required_tools and allows other MCP tools", () => {
  const p = new SecurityPolicy({
    approvalRequiredTools: ["github:create_issue", "billing"],
  });
  const call = (server: string, tool: string): Action => ({
    type: "mcp_tool_call",
    server,
    tool,
  });
  assert.equal(result(p, call("github", "create_issue")), "approval:medium");
  assert.equal(result(p, call("billing", "list")), "approval:medium");
  assert.equal(result(p, call("github", "list_issues")), "allowed");
});

test("`SecurityPolicy.check()` checks transmit_data destinations as URLs, hosts or names", () => {
  const t = (destination: string): Action => ({
    type: "transmit_data",
    destination,
    "data_type": "logs",
  });
  assert.equal(
    result(policy, t("https://logs.example.com/in")),
    "approval:high",
  );
  assert.equal(rule(policy, t("http://10.0.0.5/in")), "allow_private_networks");
  assert.equal(
    rule(policy, t("api.example.com@127.0.0.1")),
    "allow_private_networks",
  );
  assert.equal(rule(policy, t("192.168.1.2")), "allow_private_networks");
  assert.equal(result(policy, t("ops-channel")), "approval:high");
  assert.equal(result(policy, t("alerts@example.com")), "approval:high");
  assert.equal(rule(policy, t("root@10.0.0.1")), "allow_private_networks");
  const p = new SecurityPolicy({
    deniedHosts: ["ops-channel"],
    requireApprovalForNetwork: false,
  });
  assert.equal(rule(p, t("ops-channel")), "denied_hosts");
  assert.equal(result(p, t("logs.example.com")), "allowed");
});

test("`SecurityPolicy.check()` always asks for money, access control and capability grants", () => {
  const open = new SecurityPolicy({ requireApprovalForNetwork: false });
  assert.equal(
    result(open, {
      type: "financial_transaction",
      amount: "5 USD",
      recipient: "x",
    }),
    "approval:critical",
  );
  assert.equal(
    result(open, { type: "access_control_change", resource: "r", change: "c" }),
    "approval:critical",
  );
  assert.equal(
    result(open, {
      type: "capability_grant",
      "resource_pattern": "file:///ws/**",
      permissions: ["read"],
    }),
    "approval:high",
  );
});

test("`SecurityPolicy.check()` checks overlay commits path by path", () => {
  const commit = (paths: string[]): Action => ({
    type: "overlay_commit",
    "session_id": "s",
    paths,
  });
  assert.equal(result(policy, commit(["/ws/a", "/ws/b"])), "approval:high");
  assert.equal(
    rule(policy, commit(["/ws/a", "/etc/cron.d/x"])),
    "denied_paths",
  );
  assert.equal(rule(policy, commit(["/ws/a", "/ws/../etc/x"])), "invalid_path");
});

test("`SecurityPolicy.check()` checks the host a secret is sent to", () => {
  const use = (host: string): Action => ({
    type: "secret_use",
    "capsule_id": "c",
    name: "GH_TOKEN",
    host,
  });
  assert.equal(result(policy, use("api.github.com")), "approval:high");
  assert.equal(rule(policy, use("169.254.169.254")), "cloud_metadata");
  assert.equal(rule(policy, use("127.1")), "allow_private_networks");
});

test("`new SecurityPolicy()` fails on an invalid glob, naming the key and pattern", () => {
  assert.throws(
    () => new SecurityPolicy({ deniedPaths: ["/etc/**", "/x/[z"] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") &&
      e.message.includes("security.policy.denied_paths") &&
      e.message.includes("/x/[z"),
  );
  assert.throws(
    () => new SecurityPolicy({ deniedHosts: ["evil.com:443"] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") && e.message.includes("denied_hosts"),
  );
});

test("`SecurityPolicy.check()` blocks an unknown action type", () => {
  const bogus = { type: "format_disk" } as unknown as Action;
  assert.equal(rule(policy, bogus), "invalid_action");
});
