/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte-exact JSON text per
 * value, so that hashes and signatures over JSON are stable.
 *
 * What is serialised, and how:
 * - `null`, `true`, `false`: as literals.
 * - Strings: escaped exactly as ECMAScript `JSON.stringify` does (RFC 8785
 *   §3.2.2.2): `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other controls below
 *   U+0020 as lower-case `\u00xx`, everything else (including `/`, `'`, `€`,
 *   emoji) literally. A string with a lone surrogate is not valid Unicode and
 *   is rejected.
 * - Numbers: ECMAScript `Number::toString` (RFC 8785 §3.2.2.3); `-0` is `0`.
 *   `NaN` and `±Infinity` are rejected.
 * - Arrays keep their order. A hole or an `undefined` element is rejected
 *   (`JSON.stringify` would write `null`, which silently changes the data).
 * - Objects: plain objects (prototype `Object.prototype` or `null`). Own
 *   enumerable string keys are sorted by UTF-16 code units (RFC 8785 §3.2.3).
 *   A property whose value is `undefined` is omitted, as `JSON.stringify`
 *   does. A symbol-keyed property is rejected.
 * - Everything else is rejected: `undefined` (outside an object property),
 *   functions, symbols, bigints, and objects with any other prototype —
 *   including `Date`, `Map`, `Set`, typed arrays, boxed primitives and class
 *   instances. `toJSON()` is never called: convert such values explicitly
 *   (for example a `Date` to integer milliseconds) so that the signed bytes
 *   never depend on a hidden method.
 * - Cyclic structures are rejected. A shared, acyclic sub-object is fine and
 *   serialised at each place it appears.
 *
 * @module
 */
import { KernelError } from "./errors.ts";

/**
 * Serialises `value` as RFC 8785 canonical JSON text.
 *
 * @param value A JSON-compatible value (see the module doc for the rules).
 * @returns The canonical JSON text.
 * @throws {KernelError} `CANONICAL_JSON_UNSUPPORTED` when the value, or a part
 * of it, has no canonical JSON form (non-finite number, bigint, function,
 * symbol, `undefined` outside an object property, lone surrogate, non-plain
 * object, cycle).
 *
 * @example Keys are sorted and numbers normalised
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalize } from "./canonical_json.ts";
 * assert.equal(canonicalize({ b: [1e30, 4.50], a: "€" }), '{"a":"€","b":[1e+30,4.5]}');
 * ```
 *
 * @example Unsupported values throw
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalize } from "./canonical_json.ts";
 * import { KernelError } from "./errors.ts";
 * assert.throws(() => canonicalize({ n: NaN }), (e) => KernelError.is(e, "CANONICAL_JSON_UNSUPPORTED"));
 * ```
 */
export function canonicalize(value: unknown): string {
  // The fast path tracks no paths or ancestors; when it meets anything it
  // does not serialise, the exact path is found again by the checked path,
  // which throws (or, past the fast path's depth limit, serialises).
  const text = fast(value, 0);
  if (text !== undefined) return text;
  const parts: string[] = [];
  write(value, "$", parts, new Set<object>());
  return parts.join("");
}

/** Nesting the fast path follows before it leaves (cycles) to the checked one. */
const FAST_DEPTH = 64;

/** The canonical text, or `undefined` when the checked path must decide. */
function fast(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case "string":
      return value.isWellFormed() ? JSON.stringify(value) : undefined;
    case "number":
      return Number.isFinite(value) ? String(value) : undefined;
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= FAST_DEPTH) return undefined;
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) return undefined;
          const item = fast(value[i], depth + 1);
          if (item === undefined) return undefined;
          out += i === 0 ? item : "," + item;
        }
        return out + "]";
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      if (Object.getOwnPropertySymbols(value).length > 0) return undefined;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = "{";
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        const item = fast(v, depth + 1);
        if (item === undefined || !key.isWellFormed()) return undefined;
        out += (out.length === 1 ? "" : ",") + JSON.stringify(key) + ":" +
          item;
      }
      return out + "}";
    }
    default:
      return undefined;
  }
}

/**
 * Serialises `value` as RFC 8785 canonical JSON, encoded as UTF-8.
 *
 * @param value A JSON-compatible value (see {@linkcode canonicalize}).
 * @returns The UTF-8 bytes of the canonical JSON text.
 * @throws {KernelError} `CANONICAL_JSON_UNSUPPORTED` as {@linkcode canonicalize}.
 *
 * @example Bytes to hash or sign
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalBytes } from "./canonical_json.ts";
 * assert.deepEqual(canonicalBytes({ b: 1, a: "é" }), new TextEncoder().encode('{"a":"é","b":1}'));
 * ```
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return UTF8.encode(canonicalize(value));
}

const UTF8 = new TextEncoder();

function unsupported(path: string, why: string): KernelError {
  return new KernelError(
    "CANONICAL_JSON_UNSUPPORTED",
    `Cannot canonicalize the value at ${path} as ${why}`,
    { data: { path } },
  );
}

function write(
  value: unknown,
  path: string,
  out: string[],
  ancestors: Set<object>,
): void {
  switch (typeof value) {
    case "string":
      out.push(quote(value, path));
      return;
    case "number":
      out.push(number(value, path));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "object":
      if (value === null) {
        out.push("null");
        return;
      }
      if (ancestors.has(value)) {
        throw unsupported(path, "it refers back to itself (a cycle)");
      }
      ancestors.add(value);
      try {
        if (Array.isArray(value)) writeArray(value, path, out, ancestors);
        else writeObject(value, path, out, ancestors);
      } finally {
        ancestors.delete(value);
      }
      return;
    default:
      throw unsupported(path, `JSON has no ${typeof value} values`);
  }
}

function writeArray(
  value: unknown[],
  path: string,
  out: string[],
  ancestors: Set<object>,
): void {
  out.push("[");
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out.push(",");
    const at = `${path}[${i}]`;
    if (!(i in value)) throw unsupported(at, "the array has a hole there");
    const item = value[i];
    if (item === undefined) {
      throw unsupported(at, "an array element is undefined");
    }
    write(item, at, out, ancestors);
  }
  out.push("]");
}

function writeObject(
  value: object,
  path: string,
  out: string[],
  ancestors: Set<object>,
): void {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor
      ?.name;
    const kind = typeof name === "string" && name !== "" ? name : "non-plain";
    throw unsupported(path, `it is a ${kind} object, not a plain object`);
  }
  if (
    Object.getOwnPropertySymbols(value).some((s) =>
      Object.prototype.propertyIsEnumerable.call(value, s)
    )
  ) {
    throw unsupported(path, "the object has a symbol-keyed property");
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
  const keys = Object.keys(record).sort();
  out.push("{");
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    const at = `${path}${JSON.stringify([key])}`;
    if (!first) out.push(",");
    first = false;
    out.push(quote(key, at), ":");
    write(item, at, out, ancestors);
  }
  out.push("}");
}

function quote(s: string, path: string): string {
  if (!s.isWellFormed()) {
    throw unsupported(
      path,
      "the string has a lone surrogate (not valid Unicode)",
    );
  }
  // ECMAScript JSON.stringify string escaping is exactly RFC 8785 §3.2.2.2.
  return JSON.stringify(s);
}

function number(n: number, path: string): string {
  if (!Number.isFinite(n)) throw unsupported(path, `JSON has no ${n} number`);
  // Number::toString (RFC 8785 §3.2.2.3); it already writes -0 as "0".
  return String(n);
}
