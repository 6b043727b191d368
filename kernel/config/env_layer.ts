/**
 * The env layer: `ASTRID_*` variables mapped to config keys by the `env`
 * column of the schema. It sits just above the built-in defaults, so any
 * config file overrides it.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";
import type { ConfigValue } from "./astrid_config.ts";
import { type ConfigIssue, showValue } from "./issues.ts";
import type { Layer } from "./layer.ts";
import { CONFIG_SCHEMA } from "./schema.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/** The env layer and the variables that could not be parsed. */
export interface EnvLayerResult {
  /** The layer (`name: "env"`); `keySources` names the variable of each key. */
  readonly layer: Layer;
  /** Variables whose text is not a value of the key's type, named as the `file`. */
  readonly issues: readonly ConfigIssue[];
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Reads every variable named in the schema's `env` column. An unset or empty
 * variable is absent. Numbers, integers and booleans (`true`/`false`) are
 * parsed here; ranges and enum members are checked with the other layers.
 *
 * @param env The environment port.
 * @returns The layer plus parse issues, each naming the variable as its `file`.
 *
 * @example Map ASTRID_WORKSPACE_MODE to workspace.mode
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEnvLayer } from "./env_layer.ts";
 * const vars: Record<string, string> = { ASTRID_WORKSPACE_MODE: "guided" };
 * const { layer, issues } = readEnvLayer({ get: (name) => vars[name] });
 * assert(issues.length === 0);
 * assert(layer.keySources?.["workspace.mode"] === "ASTRID_WORKSPACE_MODE");
 * ```
 */
export function readEnvLayer(env: Env): EnvLayerResult {
  const values: Record<string, unknown> = {};
  const keySources: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  for (const spec of CONFIG_SCHEMA) {
    if (spec.env === undefined) continue;
    const raw = env.get(spec.env);
    if (raw === undefined || raw === "") continue;
    const parsed = parseEnvValue(spec, raw);
    if (parsed.ok) {
      setPath(values, spec.key, parsed.value);
      keySources[spec.key] = spec.env;
    } else {
      const got = spec.secret === true ? "<string>" : showValue(raw);
      issues.push({
        file: spec.env,
        key: spec.key,
        message: `expected ${parsed.expected}, got ${got}`,
      });
    }
  }
  return {
    layer: { name: "env", source: "environment", values, keySources },
    issues,
  };
}

type Parsed = { ok: true; value: ConfigValue } | {
  ok: false;
  expected: string;
};

function parseEnvValue(spec: ConfigKeySpec, raw: string): Parsed {
  const text = raw.trim();
  switch (spec.type) {
    case "string":
      return { ok: true, value: raw };
    case "enum":
      return { ok: true, value: text };
    case "number":
      return NUMBER.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, expected: "a number" };
    case "integer":
      return INTEGER.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, expected: "an integer" };
    case "boolean":
      if (text === "true" || text === "false") {
        return { ok: true, value: text === "true" };
      }
      return { ok: false, expected: "'true' or 'false'" };
    case "string[]":
      return {
        ok: true,
        value: text.split(",").map((part) => part.trim()).filter((part) =>
          part !== ""
        ),
      };
  }
}

function setPath(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  const parts = key.split(".");
  let table = target;
  for (const part of parts.slice(0, -1)) {
    const next = table[part];
    if (typeof next === "object" && next !== null) {
      table = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      table[part] = created;
      table = created;
    }
  }
  table[parts[parts.length - 1] ?? key] = value;
}
