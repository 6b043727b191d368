import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { EffectiveConfig } from "./effective_config.ts";
import { resolveLayers } from "./resolve_layers.ts";

const USER = "/home/u/.astrid/config.toml";
const WS = "/w/.astrid/config.toml";

type Table = Record<string, unknown>;

function merge(user: Table, workspace: Table): EffectiveConfig {
  return resolveLayers([
    { name: "user", source: USER, values: user },
    { name: "workspace", source: WS, values: workspace },
  ]);
}

function widening(user: Table, workspace: Table): KernelError {
  try {
    merge(user, workspace);
  } catch (err) {
    assert.ok(KernelError.is(err, "CONFIG_WIDENING"), String(err));
    return err;
  }
  assert.fail("expected CONFIG_WIDENING");
}

function issues(
  err: KernelError,
): { file: string; key: string; message: string }[] {
  return err.data?.issues as { file: string; key: string; message: string }[];
}

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

test("`resolveLayers()` lets the workspace make workspace.mode stricter", () => {
  const config = merge({ workspace: { mode: "guided" } }, {
    workspace: { mode: "safe" },
  });
  assert.equal(config.get("workspace.mode"), "safe");
  assert.deepEqual(config.origin("workspace.mode"), {
    layer: "workspace",
    source: WS,
  });
});

test("`resolveLayers()` rejects a workspace loosening workspace.mode, naming key and both values", () => {
  const err = widening({ workspace: { mode: "guided" } }, {
    workspace: { mode: "yolo" },
  });
  assert.match(
    err.message,
    /Workspace config \/w\/\.astrid\/config\.toml cannot loosen workspace\.mode from 'guided' to 'yolo'/,
  );
  assert.deepEqual(issues(err).map((i) => [i.file, i.key]), [[
    WS,
    "workspace.mode",
  ]]);
});

test("`resolveLayers()` keeps an equal workspace.mode", () => {
  assert.equal(
    merge({}, { workspace: { mode: "safe" } }).get("workspace.mode"),
    "safe",
  );
});

test("`resolveLayers()` lets escape_policy go from ask to deny but not to allow", () => {
  assert.equal(
    merge({}, { workspace: { escape_policy: "deny" } }).get(
      "workspace.escape_policy",
    ),
    "deny",
  );
  const err = widening({}, { workspace: { escape_policy: "allow" } });
  assert.match(err.message, /workspace\.escape_policy from 'ask' to 'allow'/);
});

test("`resolveLayers()` lets a budget decrease and rejects an increase", () => {
  const config = merge({}, {
    budget: { session_max_usd: 5, per_action_max_usd: 1 },
  });
  assert.equal(config.values.budget.session_max_usd, 5);
  assert.equal(config.values.budget.per_action_max_usd, 1);
  const err = widening({ budget: { session_max_usd: 50 } }, {
    budget: { session_max_usd: 500 },
  });
  assert.match(
    err.message,
    /cannot loosen budget\.session_max_usd from 50 to 500/,
  );
});

test("`resolveLayers()` treats max_argument_size 0 as unlimited, so a workspace cannot set it", () => {
  const ok = merge({}, { security: { policy: { max_argument_size: 1024 } } });
  assert.equal(ok.get("security.policy.max_argument_size"), 1024);
  const err = widening({}, { security: { policy: { max_argument_size: 0 } } });
  assert.match(
    err.message,
    /max_argument_size from 1048576 to 0 \(0 means unlimited\)/,
  );
});

test("`resolveLayers()` lets a workspace cap an uncapped workspace budget but not raise a cap", () => {
  assert.equal(
    merge({}, { budget: { workspace_max_usd: 5 } }).get(
      "budget.workspace_max_usd",
    ),
    5,
  );
  const err = widening({ budget: { workspace_max_usd: 5 } }, {
    budget: { workspace_max_usd: 9 },
  });
  assert.match(err.message, /budget\.workspace_max_usd from 5 to 9/);
});

test("`resolveLayers()` rejects a lower audit.max_size_mb (rule increase) and accepts a higher one", () => {
  assert.equal(
    merge({}, { audit: { max_size_mb: 500 } }).get("audit.max_size_mb"),
    500,
  );
  const err = widening({}, { audit: { max_size_mb: 10 } });
  assert.match(
    err.message,
    /audit\.max_size_mb from 100 to 10 \(it may only increase\)/,
  );
});

test("`resolveLayers()` lets require_* flags become true but never false", () => {
  const config = merge({}, { security: { require_signatures: true } });
  assert.equal(config.get("security.require_signatures"), true);
  const err = widening({}, {
    security: { policy: { require_approval_for_delete: false } },
  });
  assert.match(err.message, /require_approval_for_delete from true to false/);
});

test("`resolveLayers()` lets allow_private_networks become false but never true", () => {
  const config = merge(
    { security: { allow_private_networks: true } },
    { security: { allow_private_networks: false } },
  );
  assert.equal(config.get("security.allow_private_networks"), false);
  const err = widening({}, { security: { allow_private_networks: true } });
  assert.match(err.message, /allow_private_networks from false to true/);
});

test("`resolveLayers()` unions workspace deny-lists with the baseline and marks the origin", () => {
  const config = merge({}, {
    security: { policy: { denied_paths: ["/etc/**", "/srv/**"] } },
  });
  assert.deepEqual(config.get("security.policy.denied_paths"), [
    "/etc/**",
    "/boot/**",
    "/sys/**",
    "/proc/**",
    "/dev/**",
    "/srv/**",
  ]);
  assert.equal(
    config.origin("security.policy.denied_paths").layer,
    "workspace",
  );
});

test("`resolveLayers()` keeps the baseline deny-list when the workspace tries to empty it", () => {
  const config = merge(
    { security: { policy: { blocked_commands: ["sudo"] } } },
    { security: { policy: { blocked_commands: [] } } },
  );
  assert.deepEqual(config.get("security.policy.blocked_commands"), ["sudo"]);
  assert.deepEqual(config.origin("security.policy.blocked_commands"), {
    layer: "user",
    source: USER,
  });
});

test("`resolveLayers()` lets a workspace narrow a non-empty allow-list", () => {
  const config = merge(
    { security: { policy: { allowed_hosts: ["a.example", "b.example"] } } },
    { security: { policy: { allowed_hosts: ["a.example"] } } },
  );
  assert.deepEqual(config.get("security.policy.allowed_hosts"), ["a.example"]);
});

test("`resolveLayers()` lets a workspace restrict an empty (unrestricted) allow-list", () => {
  const config = merge({}, {
    security: { policy: { allowed_paths: ["/w/**"] } },
  });
  assert.deepEqual(config.get("security.policy.allowed_paths"), ["/w/**"]);
});

test("`resolveLayers()` rejects allow-list entries outside the baseline, naming them", () => {
  const err = widening(
    { security: { policy: { allowed_hosts: ["a.example"] } } },
    { security: { policy: { allowed_hosts: ["a.example", "evil.example"] } } },
  );
  assert.match(
    err.message,
    /allowed_hosts from \['a\.example'\] to \['a\.example', 'evil\.example'\]/,
  );
  assert.match(err.message, /not in the baseline: \['evil\.example'\]/);
});

test("`resolveLayers()` rejects emptying a non-empty allow-list, as empty allows everything", () => {
  const err = widening(
    { security: { policy: { allowed_paths: ["/w/**"] } } },
    { security: { policy: { allowed_paths: [] } } },
  );
  assert.match(
    err.message,
    /allowed_paths from \['\/w\/\*\*'\] to \[\] \(an empty list allows everything\)/,
  );
});

test("`resolveLayers()` rejects auto_allow_read entries a workspace adds to an empty list", () => {
  const err = widening({}, {
    workspace: { auto_allow_read: ["/home/u/.ssh"] },
  });
  assert.match(
    err.message,
    /workspace\.auto_allow_read from \[\] to \['\/home\/u\/\.ssh'\]/,
  );
  const ok = merge(
    { workspace: { auto_allow_read: ["/tmp", "/opt"] } },
    { workspace: { auto_allow_read: ["/tmp"] } },
  );
  assert.deepEqual(ok.get("workspace.auto_allow_read"), ["/tmp"]);
});

test("`resolveLayers()` rejects a workspace setting model.api_url, naming both values", () => {
  const err = widening({}, { model: { api_url: "https://evil.example/v1" } });
  assert.match(
    err.message,
    /cannot set model\.api_url \(from '' to 'https:\/\/evil\.example\/v1'\)/,
  );
});

test("`resolveLayers()` rejects a workspace setting model.api_key without echoing it", () => {
  const err = widening({ model: { api_key: "sk-user" } }, {
    model: { api_key: "sk-attacker" },
  });
  assert.match(err.message, /cannot set model\.api_key/);
  assert.ok(
    !err.message.includes("sk-user") && !err.message.includes("sk-attacker"),
  );
  assert.ok(!JSON.stringify(err.data).includes("sk-"));
});

test("`resolveLayers()` lets a workspace change keys without a tighten rule freely", () => {
  const config = merge(
    { logging: { level: "warn" } },
    { logging: { level: "debug" }, timeouts: { tool_secs: 600 } },
  );
  assert.equal(config.get("logging.level"), "debug");
  assert.equal(config.get("timeouts.tool_secs"), 600);
});

test("`resolveLayers()` reports every widening of a workspace at once", () => {
  const err = widening({}, {
    workspace: { mode: "autonomous", escape_policy: "allow" },
    budget: { session_max_usd: 1000 },
    model: { api_key: "x" },
  });
  assert.deepEqual(issues(err).map((i) => i.key).sort(), [
    "budget.session_max_usd",
    "model.api_key",
    "workspace.escape_policy",
    "workspace.mode",
  ]);
  assert.match(err.message, /4 problems/);
});

test("`resolveLayers()` checks the workspace against the env layer too", () => {
  const err = (() => {
    try {
      resolveLayers([
        {
          name: "env",
          source: "environment",
          values: { budget: { session_max_usd: 3 } },
        },
        {
          name: "workspace",
          source: WS,
          values: { budget: { session_max_usd: 4 } },
        },
      ]);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(KernelError.is(err, "CONFIG_WIDENING"));
  assert.match(err.message, /from 3 to 4/);
});
