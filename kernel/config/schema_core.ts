/**
 * Schema rows of the core sections: `[model]`, `[security]`,
 * `[security.policy]`, `[budget]` and `[workspace]`. Defaults follow reference
 * §9.2, the security policy defaults §6.3, budgets §6.5, workspace modes §6.10.
 *
 * @module
 */
import type { ConfigValue } from "./astrid_config.ts";
import { DAY_SECS, MAX_USD, row } from "./_schema_row.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

function httpUrl(value: ConfigValue): string | undefined {
  if (value === "") return undefined;
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol } = new URL(value);
    if (protocol === "http:" || protocol === "https:") return undefined;
  }
  return "an http(s) URL or an empty string";
}

/**
 * Rows of `[model]`, `[security]`, `[security.policy]`, `[budget]`, `[workspace]`.
 *
 * @example Find the default mode
 * ```ts
 * import assert from "node:assert/strict";
 * import { CORE_SCHEMA } from "./schema_core.ts";
 * assert.equal(CORE_SCHEMA.find((r) => r.key === "workspace.mode")?.default, "safe");
 * ```
 */
export const CORE_SCHEMA: readonly ConfigKeySpec[] = Object.freeze([
  // [model]
  row(
    "model.provider",
    "string",
    "unknown",
    "none",
    "Provider capsule of the default model",
    {
      env: "ASTRID_MODEL_PROVIDER",
    },
  ),
  row("model.model", "string", "unknown", "none", "Default model name", {
    env: "ASTRID_MODEL",
  }),
  row(
    "model.max_tokens",
    "integer",
    4096,
    "none",
    "Maximum output tokens per request",
    {
      min: 1,
      max: 1_000_000,
    },
  ),
  row("model.temperature", "number", 0.7, "none", "Sampling temperature", {
    min: 0,
    max: 2,
  }),
  // A workspace may raise the price (charge more), never lower it.
  row(
    "model.input_usd_per_mtok",
    "number",
    3,
    "increase",
    "USD charged to the budget per million prompt tokens a provider reports",
    { min: 0, max: 1_000 },
  ),
  row(
    "model.output_usd_per_mtok",
    "number",
    15,
    "increase",
    "USD charged to the budget per million completion tokens a provider reports",
    { min: 0, max: 1_000 },
  ),
  row(
    "model.api_url",
    "string",
    "",
    "forbidden",
    "Provider base URL ('' = provider default)",
    {
      env: "ASTRID_MODEL_API_URL",
      check: httpUrl,
    },
  ),
  row("model.api_key", "string", "", "forbidden", "Provider API key", {
    env: "ASTRID_MODEL_API_KEY",
    secret: true,
  }),
  // [security]
  row(
    "security.require_signatures",
    "boolean",
    false,
    "boolToTrue",
    "Capsules must be signed",
  ),
  row(
    "security.approval_timeout_secs",
    "integer",
    300,
    "decrease",
    "Approval wait before deferral",
    {
      min: 1,
      max: DAY_SECS,
    },
  ),
  row(
    "security.allow_private_networks",
    "boolean",
    false,
    "boolToFalse",
    "Allow private, link-local and metadata addresses",
  ),
  row(
    "security.allow_unsandboxed_spawn",
    "boolean",
    false,
    "boolToFalse",
    "Run processes unconfined when no sandbox is available",
  ),
  row(
    "security.always_token_ttl_secs",
    "integer",
    3600,
    "decrease",
    "TTL of 'Allow Always' tokens",
    {
      min: 1,
      max: 365 * DAY_SECS,
    },
  ),
  // [security.policy]
  row(
    "security.policy.blocked_commands",
    "string[]",
    [
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
    ],
    "unionDenyList",
    "Commands that never run",
  ),
  row(
    "security.policy.blocked_tools",
    "string[]",
    [],
    "unionDenyList",
    "MCP tools never called",
  ),
  row(
    "security.policy.approval_required_tools",
    "string[]",
    [],
    "unionDenyList",
    "MCP tools that always need approval",
  ),
  row(
    "security.policy.blocked_capsules",
    "string[]",
    [],
    "unionDenyList",
    "Capsules always denied",
  ),
  row(
    "security.policy.denied_paths",
    "string[]",
    [
      "/etc/**",
      "/boot/**",
      "/sys/**",
      "/proc/**",
      "/dev/**",
    ],
    "unionDenyList",
    "Path globs never touched",
  ),
  row(
    "security.policy.denied_hosts",
    "string[]",
    [],
    "unionDenyList",
    "Hosts never contacted",
  ),
  row(
    "security.policy.allowed_paths",
    "string[]",
    [],
    "subsetAllowList",
    "Only these paths",
    {
      emptyMeansAll: true,
    },
  ),
  row(
    "security.policy.allowed_hosts",
    "string[]",
    [],
    "subsetAllowList",
    "Only these hosts",
    {
      emptyMeansAll: true,
    },
  ),
  row(
    "security.policy.max_argument_size",
    "integer",
    1_048_576,
    "decrease",
    "Max argument bytes",
    {
      min: 0,
      max: 1_073_741_824,
      zeroMeansUnlimited: true,
    },
  ),
  row(
    "security.policy.require_approval_for_delete",
    "boolean",
    true,
    "boolToTrue",
    "Deleting always needs approval",
  ),
  row(
    "security.policy.require_approval_for_network",
    "boolean",
    true,
    "boolToTrue",
    "Network requests always need approval",
  ),
  // [budget]
  row(
    "budget.session_max_usd",
    "number",
    100,
    "decrease",
    "Session spending cap (USD)",
    {
      min: 0,
      max: MAX_USD,
      env: "ASTRID_BUDGET_SESSION_MAX_USD",
    },
  ),
  row(
    "budget.per_action_max_usd",
    "number",
    10,
    "decrease",
    "Per-action spending cap (USD)",
    {
      min: 0,
      max: MAX_USD,
      env: "ASTRID_BUDGET_PER_ACTION_MAX_USD",
    },
  ),
  row(
    "budget.workspace_max_usd",
    "number",
    undefined,
    "decrease",
    "Workspace cap (unset = none)",
    {
      min: 0,
      max: MAX_USD,
      optional: true,
    },
  ),
  row(
    "budget.warn_at_percent",
    "number",
    80,
    "decrease",
    "Warn at this % of the session cap",
    {
      min: 0,
      max: 100,
    },
  ),
  // [workspace]
  row("workspace.mode", "enum", "safe", "enumOrder", "Approval mode", {
    values: ["safe", "guided", "autonomous", "yolo"],
    env: "ASTRID_WORKSPACE_MODE",
  }),
  row(
    "workspace.escape_policy",
    "enum",
    "ask",
    "enumOrder",
    "Actions outside the workspace",
    {
      values: ["deny", "ask", "allow"],
    },
  ),
  row(
    "workspace.auto_allow_read",
    "string[]",
    [],
    "subsetAllowList",
    "Read without asking",
  ),
  row(
    "workspace.roots",
    "string[]",
    [],
    "forbidden",
    "Directories the daemon may work in",
  ),
  row(
    "workspace.auto_allow_write",
    "string[]",
    [],
    "subsetAllowList",
    "Write without asking",
  ),
  row(
    "workspace.never_allow",
    "string[]",
    [
      "/etc",
      "/var",
      "/usr",
      "/bin",
      "/sbin",
      "/boot",
      "/root",
    ],
    "unionDenyList",
    "Path prefixes never touched",
  ),
]);
