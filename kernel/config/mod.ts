/**
 * Layered TOML configuration: built-in defaults < env (`ASTRID_*`) < system
 * file < user file < workspace file, validated against one data-driven
 * schema (`CONFIG_SCHEMA`), with per-key provenance for `astrid config show`.
 *
 * Every problem is reported, not only the first: `CONFIG_PARSE` (oversized,
 * non-UTF-8 or non-TOML files), `CONFIG_INVALID` (unknown keys with a "did you
 * mean", type and range errors, bad env values, bad `${VAR}` references) and
 * `CONFIG_WIDENING` each carry `data.issues: {file, key, message}[]`.
 *
 * Security model: the workspace file lives in the repository the agent works
 * on and is untrusted. It may only tighten security settings (mode, escape
 * policy, budgets, limits, allow-lists, require-* flags); deny-lists it sets
 * are unioned with the baseline; it may not set `model.api_key` or
 * `model.api_url`, and may only reference `ASTRID_*`/`ANTHROPIC_*` variables.
 * Any attempt to loosen is an error naming the key and both values — never a
 * silent revert. Config files are capped at 1 MiB. Secret values are never
 * echoed in messages and `entries()` redacts them.
 *
 * @example Resolve layers and ask where a value came from
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLayers } from "./mod.ts";
 * const config = resolveLayers([
 *   { name: "env", source: "environment", values: { logging: { level: "debug" } } },
 *   { name: "user", source: "/home/u/.astrid/config.toml", values: { budget: { session_max_usd: 25 } } },
 *   { name: "workspace", source: "/w/.astrid/config.toml", values: { budget: { session_max_usd: 5 } } },
 * ]);
 * assert(config.values.budget.session_max_usd === 5);
 * assert(config.origin("budget.session_max_usd").layer === "workspace");
 * assert(config.origin("logging.level").layer === "env");
 * ```
 *
 * @module
 */
export type {
  AstridConfig,
  AuditConfig,
  BudgetConfig,
  ConfigKey,
  ConfigLogFormat,
  ConfigLogLevel,
  ConfigValue,
  ConfigValueOf,
  EscapePolicy,
  LeafPaths,
  LoggingConfig,
  ModelConfig,
  PathValue,
  RateLimitsConfig,
  RetryConfig,
  SecurityConfig,
  SecurityPolicyConfig,
  SubagentsConfig,
  TimeoutsConfig,
  WorkspaceConfig,
  WorkspaceMode,
} from "./astrid_config.ts";
export type {
  ConfigKeySpec,
  ConfigValueType,
  TightenRule,
} from "./schema_types.ts";
export { CONFIG_SCHEMA, findKeySpec, isConfigKey } from "./schema.ts";
export type { ConfigIssue } from "./issues.ts";
export { configError } from "./issues.ts";
export type { Layer, LayerName, ValidatedLayer } from "./layer.ts";
export { LAYER_NAMES, validateLayer } from "./layer.ts";
export type { EnvLayerResult } from "./env_layer.ts";
export { readEnvLayer } from "./env_layer.ts";
export type { ExpandVarsOptions, ExpandVarsResult } from "./expand_vars.ts";
export { expandVars, isWorkspaceVariable } from "./expand_vars.ts";
export type {
  ConfigEntry,
  ConfigOrigin,
  EntriesOptions,
  ResolvedValue,
} from "./effective_config.ts";
export { BUILT_IN, EffectiveConfig } from "./effective_config.ts";
export type { WorkspaceMergeResult } from "./tighten.ts";
export { applyWorkspaceLayer } from "./tighten.ts";
export type { ResolveLayersOptions } from "./resolve_layers.ts";
export { resolveLayers } from "./resolve_layers.ts";
export type { LoadConfigDeps, LoadConfigOptions } from "./load_config.ts";
export { loadConfig, MAX_CONFIG_BYTES } from "./load_config.ts";
