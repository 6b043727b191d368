/**
 * The vocabulary of the config schema: value types, tighten rules and the
 * description of one key.
 *
 * @module
 */
import type { ConfigKey, ConfigValue } from "./astrid_config.ts";

/** The type a key's value must have. `integer` is a number without a fraction. */
export type ConfigValueType =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "string[]"
  | "enum";

/**
 * What the workspace layer may do with a key, compared with the baseline
 * (defaults < env < system < user merged):
 *
 * - `none`: anything; the workspace value wins.
 * - `decrease`: a number may only go down (see `zeroMeansUnlimited`; an absent
 *   optional baseline means "no cap", so any value tightens it).
 * - `increase`: a number may only go up.
 * - `boolToTrue` / `boolToFalse`: a boolean may only move to that value.
 * - `unionDenyList`: the workspace may add entries; the effective list is the union.
 * - `subsetAllowList`: every workspace entry must be in the baseline list (exact
 *   string match; see `emptyMeansAll`).
 * - `enumOrder`: the workspace value may not come later in `values` than the
 *   baseline (`values` is listed strictest first).
 * - `forbidden`: the workspace may not set the key at all.
 */
export type TightenRule =
  | "none"
  | "decrease"
  | "increase"
  | "boolToTrue"
  | "boolToFalse"
  | "unionDenyList"
  | "subsetAllowList"
  | "enumOrder"
  | "forbidden";

/** One row of the schema table: everything known about one key. */
export interface ConfigKeySpec {
  /** Dotted path, e.g. `"security.policy.denied_paths"`. */
  readonly key: ConfigKey;
  /** The value type. */
  readonly type: ConfigValueType;
  /** The built-in default; absent only for `optional` keys. */
  readonly default?: ConfigValue;
  /** The key may be absent (no default); `get()` then returns `undefined`. */
  readonly optional?: boolean;
  /** One line for `astrid config show`. */
  readonly description: string;
  /** Smallest allowed number (inclusive). */
  readonly min?: number;
  /** Largest allowed number (inclusive). */
  readonly max?: number;
  /** The members of an `enum`, strictest first when the rule is `enumOrder`. */
  readonly values?: readonly string[];
  /** What the workspace layer may do. */
  readonly tighten: TightenRule;
  /** `subsetAllowList`: an empty list means "everything allowed" (so emptying it widens). */
  readonly emptyMeansAll?: boolean;
  /** `decrease`: `0` means unlimited (so setting `0` widens). */
  readonly zeroMeansUnlimited?: boolean;
  /** The value is secret: never echoed in messages, redacted by `entries()`. */
  readonly secret?: boolean;
  /** The environment variable of the env layer that sets this key. */
  readonly env?: string;
  /** Extra format check of a well-typed value: returns what was expected, or `undefined`. */
  readonly check?: (value: ConfigValue) => string | undefined;
}
