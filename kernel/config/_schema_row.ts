/**
 * Private helpers to write schema rows compactly.
 *
 * @module
 */
import type { ConfigKey, ConfigValue } from "./astrid_config.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/** One day in seconds. */
export const DAY_SECS = 86_400;
/** The largest budget accepted, in USD. */
export const MAX_USD = 1_000_000_000;

/** The optional columns of a row. */
export type Extra = Omit<
  ConfigKeySpec,
  "key" | "type" | "default" | "tighten" | "description"
>;

/** A seconds range. */
export function secs(min: number, max: number): Extra {
  return { min, max };
}

/** Builds one frozen schema row; lists are copied and frozen. */
export function row(
  key: ConfigKey,
  type: ConfigKeySpec["type"],
  def: ConfigValue,
  tighten: ConfigKeySpec["tighten"],
  description: string,
  extra: Extra = {},
): ConfigKeySpec {
  const value = Array.isArray(def) ? Object.freeze([...def]) : def;
  const spec = def === undefined
    ? { key, type, tighten, description, ...extra }
    : { key, type, default: value, tighten, description, ...extra };
  return Object.freeze(spec);
}
