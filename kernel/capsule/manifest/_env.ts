/**
 * `[env.<KEY>]` (reference §2.5): configuration asked from the user.
 *
 * @module
 */
import type { EnvDef, EnvType } from "./manifest_types.ts";
import { dropUndefined } from "./_package.ts";
import { describe, join, type Reader, type Table } from "./_reader.ts";

const KEYS = [
  "type",
  "request",
  "description",
  "default",
  "enum_values",
  "placeholder",
] as const;

const TYPES: readonly EnvType[] = [
  "string",
  "secret",
  "integer",
  "number",
  "boolean",
  "array",
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const RESERVED_PREFIX = "ASTRID_";

function readDefault(
  r: Reader,
  t: Table,
  key: string,
  type: EnvType | undefined,
): string | undefined {
  const v = t["default"];
  if (v === undefined || type === undefined) return undefined;
  const at = join(key, "default");
  switch (type) {
    case "secret":
      return r.fail(at, "a secret cannot have a default; remove 'default'");
    case "array":
      return Array.isArray(v) && v.every((x) => typeof x === "string")
        ? JSON.stringify(v)
        : r.expected(at, "an array of strings for type 'array'", v);
    case "integer":
      return Number.isSafeInteger(v) ||
          (typeof v === "string" && /^-?\d+$/.test(v))
        ? String(v)
        : r.expected(at, "an integer for type 'integer'", v);
    case "number":
      return (typeof v === "number" && Number.isFinite(v)) ||
          (typeof v === "string" && v.trim() !== "" &&
            Number.isFinite(Number(v)))
        ? String(v)
        : r.expected(at, "a number for type 'number'", v);
    case "boolean":
      return typeof v === "boolean" || v === "true" || v === "false"
        ? String(v)
        : r.expected(at, "a boolean for type 'boolean'", v);
    case "string":
      return typeof v === "string" || typeof v === "number" ||
          typeof v === "boolean"
        ? String(v)
        : r.expected(at, "a string, number or boolean", v);
  }
}

function readOne(r: Reader, name: string, raw: unknown): EnvDef | undefined {
  const key = join("env", name);
  if (!ENV_NAME.test(name)) {
    return r.fail(
      key,
      `invalid variable name '${name}': expected [A-Za-z_][A-Za-z0-9_]*`,
    );
  }
  if (name.toUpperCase().startsWith(RESERVED_PREFIX)) {
    return r.fail(
      key,
      `variable names starting with ${RESERVED_PREFIX} are reserved for the kernel`,
    );
  }
  const t = r.table(raw, key);
  if (t === undefined) return undefined;
  r.known(t, key, KEYS);
  const type = r.required(t, key, "type", {
    test: (s) => (TYPES as readonly string[]).includes(s),
    what: `one of ${TYPES.join(", ")}`,
  }) as EnvType | undefined;
  const enumValues = r.strings(t, key, "enum_values");
  const fallback = readDefault(r, t, key, type);
  if (
    fallback !== undefined && enumValues.length > 0 &&
    !enumValues.includes(fallback)
  ) {
    r.fail(
      join(key, "default"),
      `expected one of enum_values, got ${describe(fallback)}`,
    );
  }
  const optional = dropUndefined({
    description: r.string(t, key, "description"),
    placeholder: r.string(t, key, "placeholder"),
    default: fallback,
  });
  const request = r.string(t, key, "request") ??
    `Please enter value for ${name}`;
  if (type === undefined) return undefined;
  return { key: name, type, request, enum_values: enumValues, ...optional };
}

/** Reads every `[env.<KEY>]`, in file order. */
export function readEnv(r: Reader, root: Table): EnvDef[] {
  const raw = root["env"];
  if (raw === undefined) return [];
  const t = r.table(raw, "env");
  if (t === undefined) return [];
  const out: EnvDef[] = [];
  for (const [name, value] of Object.entries(t)) {
    const def = readOne(r, name, value);
    if (def !== undefined) out.push(def);
  }
  return out;
}
