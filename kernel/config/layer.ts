/**
 * A config layer (one parsed file or the environment) and its validation
 * against the schema: unknown keys, wrong types and out-of-range values.
 *
 * @module
 */
import type { ConfigKey, ConfigValue } from "./astrid_config.ts";
import { type ConfigIssue, kindOf, showValue, suggest } from "./issues.ts";
import { CONFIG_SCHEMA, findKeySpec } from "./schema.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/** The layers, lowest precedence first. */
export type LayerName = "defaults" | "env" | "system" | "user" | "workspace";

/** The layer names in precedence order: a later layer overrides an earlier one. */
export const LAYER_NAMES: readonly LayerName[] = Object.freeze([
  "defaults",
  "env",
  "system",
  "user",
  "workspace",
]);

/** One source of configuration values. */
export interface Layer {
  /** Which layer this is. */
  readonly name: LayerName;
  /** Where the values came from: a file path, or `"environment"`. */
  readonly source: string;
  /** The parsed values: nested tables as TOML gives them. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Per-key sources that override `source` (the env layer names each variable). */
  readonly keySources?: Readonly<Record<string, string>>;
  /** Keys whose values must never be echoed in messages (e.g. from `${VAR}` expansion). */
  readonly sensitiveKeys?: readonly string[];
}

/** The checked, flattened values of a layer. */
export interface ValidatedLayer {
  /** The layer checked. */
  readonly layer: Layer;
  /** Every valid key the layer sets, with its value (lists frozen). */
  readonly values: ReadonlyMap<ConfigKey, ConfigValue>;
  /** Everything wrong with the layer. */
  readonly issues: readonly ConfigIssue[];
}

/**
 * Checks a layer against the schema and flattens it to dotted keys. Invalid
 * keys are left out of `values` and reported in `issues`; nothing is thrown.
 *
 * @param layer The layer to check.
 * @returns The valid values and all issues.
 *
 * @example Find a misspelt key
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateLayer } from "./layer.ts";
 * const v = validateLayer({ name: "user", source: "/u.toml", values: { budget: { sesion_max_usd: 5 } } });
 * assert(v.issues[0]?.key === "budget.sesion_max_usd");
 * assert(v.issues[0]?.message.includes("did you mean 'budget.session_max_usd'"));
 * ```
 */
export function validateLayer(layer: Layer): ValidatedLayer {
  const values = new Map<ConfigKey, ConfigValue>();
  const issues: ConfigIssue[] = [];
  const tables = tableNames();
  const known = [...CONFIG_SCHEMA.map((spec) => spec.key), ...tables];
  const sensitive = new Set(layer.sensitiveKeys ?? []);
  const fileOf = (key: string): string =>
    layer.keySources?.[key] ?? layer.source;

  const walk = (
    table: Readonly<Record<string, unknown>>,
    prefix: string,
  ): void => {
    for (const name of Object.keys(table)) {
      const key = prefix === "" ? name : `${prefix}.${name}`;
      const value = table[name];
      const spec = findKeySpec(key);
      if (spec !== undefined) {
        const redact = spec.secret === true || sensitive.has(key);
        const problem = checkValue(spec, value, redact);
        if (problem === undefined) {
          values.set(spec.key, freeze(value as ConfigValue));
        } else issues.push({ file: fileOf(key), key, message: problem });
      } else if (tables.includes(key)) {
        if (isTable(value)) walk(value, key);
        else {issues.push({
            file: fileOf(key),
            key,
            message: `expected a table, got ${kindOf(value)}`,
          });}
      } else {
        const hint = suggest(key, known);
        const message = hint === undefined
          ? "unknown key"
          : `unknown key (did you mean '${hint}'?)`;
        issues.push({ file: fileOf(key), key, message });
      }
    }
  };
  walk(layer.values, "");
  return { layer, values, issues };
}

/**
 * Checks one value against its schema row.
 *
 * @param spec The key's schema row.
 * @param value The parsed value.
 * @param redact Do not echo the value.
 * @returns `undefined` when valid, else "expected …, got …".
 */
export function checkValue(
  spec: ConfigKeySpec,
  value: unknown,
  redact = false,
): string | undefined {
  const got = (): string => describeGot(value, redact);
  const expected = expectedType(spec, value);
  if (expected !== undefined) return `expected ${expected}, got ${got()}`;
  if (typeof value === "number") {
    if (spec.min !== undefined && value < spec.min) {
      return `expected at least ${spec.min}, got ${got()}`;
    }
    if (spec.max !== undefined && value > spec.max) {
      return `expected at most ${spec.max}, got ${got()}`;
    }
  }
  const format = spec.check?.(value as ConfigValue);
  return format === undefined ? undefined : `expected ${format}, got ${got()}`;
}

function expectedType(spec: ConfigKeySpec, value: unknown): string | undefined {
  switch (spec.type) {
    case "string":
      return typeof value === "string" ? undefined : "a string";
    case "boolean":
      return typeof value === "boolean" ? undefined : "a boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : "a finite number";
    case "integer":
      return Number.isSafeInteger(value) ? undefined : "an integer";
    case "string[]":
      return Array.isArray(value) && value.every((v) => typeof v === "string")
        ? undefined
        : "an array of strings";
    case "enum": {
      const members = spec.values ?? [];
      return typeof value === "string" && members.includes(value)
        ? undefined
        : `one of ${members.map((m) => `'${m}'`).join(", ")}`;
    }
  }
}

function describeGot(value: unknown, redact: boolean): string {
  if (Array.isArray(value)) {
    const odd = value.find((v) => typeof v !== "string");
    return odd === undefined
      ? "an array"
      : `an array containing ${kindOf(odd)}`;
  }
  return redact || typeof value === "object" ? kindOf(value) : showValue(value);
}

function freeze(value: ConfigValue): ConfigValue {
  return Array.isArray(value) ? Object.freeze([...value]) : value;
}

function isTable(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Every table that holds schema keys, e.g. `"security"` and `"security.policy"`. */
function tableNames(): string[] {
  const names = new Set<string>();
  for (const { key } of CONFIG_SCHEMA) {
    const parts = key.split(".");
    for (let i = 1; i < parts.length; i++) {
      names.add(parts.slice(0, i).join("."));
    }
  }
  return [...names];
}
