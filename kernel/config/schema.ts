/**
 * The config schema: one row per key with its type, default, range, env
 * variable and workspace tighten rule. Everything else in this folder is
 * driven by this table (rows live in `schema_core.ts` and `schema_runtime.ts`).
 *
 * @module
 */
import type { ConfigKey } from "./astrid_config.ts";
import { CORE_SCHEMA } from "./schema_core.ts";
import { RUNTIME_SCHEMA } from "./schema_runtime.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/**
 * Every configuration key Astrid knows, in `astrid config show` order.
 *
 * @example Look at a key's rule
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONFIG_SCHEMA } from "./schema.ts";
 * const mode = CONFIG_SCHEMA.find((s) => s.key === "workspace.mode");
 * assert.equal(mode?.tighten, "enumOrder");
 * assert.equal(mode?.default, "safe");
 * ```
 */
export const CONFIG_SCHEMA: readonly ConfigKeySpec[] = Object.freeze([
  ...CORE_SCHEMA,
  ...RUNTIME_SCHEMA,
]);

/**
 * Finds the schema row of a key.
 *
 * @param key A dotted key, possibly untrusted.
 * @returns The row, or `undefined` when the key is unknown.
 *
 * @example Look up a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { findKeySpec } from "./schema.ts";
 * assert(findKeySpec("budget.session_max_usd")?.default === 100);
 * assert(findKeySpec("budget.nope") === undefined);
 * ```
 */
export function findKeySpec(key: string): ConfigKeySpec | undefined {
  return CONFIG_SCHEMA.find((spec) => spec.key === key);
}

/**
 * Tells whether a string names a configuration key.
 *
 * @param key Any string, e.g. from the command line.
 * @returns `true` when `key` is a {@linkcode ConfigKey}.
 *
 * @example Narrow a user-supplied key
 * ```ts
 * import assert from "node:assert/strict";
 * import { isConfigKey } from "./schema.ts";
 * assert(isConfigKey("workspace.mode"));
 * assert(!isConfigKey("workspace"));
 * ```
 */
export function isConfigKey(key: string): key is ConfigKey {
  return findKeySpec(key) !== undefined;
}
