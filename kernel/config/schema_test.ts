import assert from "node:assert/strict";
import { checkValue } from "./layer.ts";
import { resolveLayers } from "./resolve_layers.ts";
import { CONFIG_SCHEMA, isConfigKey } from "./schema.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

function leaves(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([k, v]) =>
    leaves(v, prefix === "" ? k : `${prefix}.${k}`)
  );
}

test("`CONFIG_SCHEMA` has unique keys and unique ASTRID_* env variables", () => {
  const keys = CONFIG_SCHEMA.map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length);
  const envs = CONFIG_SCHEMA.flatMap((
    s,
  ) => (s.env === undefined ? [] : [s.env]));
  assert.equal(new Set(envs).size, envs.length);
  assert.ok(envs.every((e) => /^ASTRID_[A-Z_]+$/.test(e)));
});

test("`CONFIG_SCHEMA` defaults are valid values of their own rows", () => {
  for (const spec of CONFIG_SCHEMA) {
    if (spec.optional === true) {
      assert.equal(spec.default, undefined, spec.key);
      continue;
    }
    assert.equal(checkValue(spec, spec.default), undefined, spec.key);
  }
});

test("`CONFIG_SCHEMA` enum rows list their members and rule-specific flags fit the rule", () => {
  for (const spec of CONFIG_SCHEMA) {
    if (spec.type === "enum") {
      assert.ok((spec.values?.length ?? 0) > 1, spec.key);
    }
    if (spec.tighten === "enumOrder") assert.equal(spec.type, "enum", spec.key);
    if (
      spec.tighten === "unionDenyList" || spec.tighten === "subsetAllowList"
    ) {
      assert.equal(spec.type, "string[]", spec.key);
    }
    if (spec.tighten === "decrease" || spec.tighten === "increase") {
      assert.ok(spec.type === "number" || spec.type === "integer", spec.key);
    }
    if (spec.tighten === "boolToTrue" || spec.tighten === "boolToFalse") {
      assert.equal(spec.type, "boolean", spec.key);
    }
  }
});

test("`CONFIG_SCHEMA` describes exactly the leaves of the typed config", () => {
  const config = resolveLayers([{
    name: "user",
    source: "/u",
    values: { budget: { workspace_max_usd: 1 } },
  }]);
  assert.deepEqual(
    leaves(config.values).sort(),
    CONFIG_SCHEMA.map((s) => s.key).sort(),
  );
  assert.ok(isConfigKey("security.policy.denied_paths"));
  assert.ok(!isConfigKey("security.policy"));
});

test("`CONFIG_SCHEMA` keeps the tighten rules of reference §9.2 for security keys", () => {
  const rule = (key: string) =>
    CONFIG_SCHEMA.find((s) => s.key === key)?.tighten;
  const expected: Record<string, string> = {
    "workspace.mode": "enumOrder",
    "workspace.escape_policy": "enumOrder",
    "budget.session_max_usd": "decrease",
    "budget.per_action_max_usd": "decrease",
    "budget.workspace_max_usd": "decrease",
    "budget.warn_at_percent": "decrease",
    "security.approval_timeout_secs": "decrease",
    "security.policy.max_argument_size": "decrease",
    "security.require_signatures": "boolToTrue",
    "security.policy.require_approval_for_delete": "boolToTrue",
    "security.policy.require_approval_for_network": "boolToTrue",
    "security.allow_private_networks": "boolToFalse",
    "security.allow_unsandboxed_spawn": "boolToFalse",
    "security.policy.blocked_commands": "unionDenyList",
    "security.policy.denied_paths": "unionDenyList",
    "security.policy.denied_hosts": "unionDenyList",
    "workspace.never_allow": "unionDenyList",
    "security.policy.allowed_paths": "subsetAllowList",
    "security.policy.allowed_hosts": "subsetAllowList",
    "workspace.auto_allow_read": "subsetAllowList",
    "workspace.auto_allow_write": "subsetAllowList",
    "model.api_key": "forbidden",
    "model.api_url": "forbidden",
    "store.url": "forbidden",
    "cluster.nats_url": "forbidden",
    "subagents.max_depth": "decrease",
  };
  for (const [key, tighten] of Object.entries(expected)) {
    assert.equal(rule(key), tighten, key);
  }
});

test("`CONFIG_SCHEMA` uses the security policy defaults of reference §6.3", () => {
  const config = resolveLayers([]);
  assert.deepEqual(config.values.security.policy.blocked_commands, [
    "rm -rf /",
    "rm -rf /*",
    "sudo",
    "su",
    "mkfs",
    "dd",
    "chmod 777",
    "shutdown",
    "reboot",
    "init",
  ]);
  assert.deepEqual(config.values.security.policy.denied_paths, [
    "/etc/**",
    "/boot/**",
    "/sys/**",
    "/proc/**",
    "/dev/**",
  ]);
  assert.equal(config.values.security.policy.require_approval_for_delete, true);
  assert.equal(
    config.values.security.policy.require_approval_for_network,
    true,
  );
  assert.equal(config.values.security.allow_private_networks, false);
});
