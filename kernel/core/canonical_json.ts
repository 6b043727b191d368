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
  const w = new Writer();
  w.write(value);
  return w.out;
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

/**
 * One serialisation. The path of the value being written is kept as a stack
 * of keys and indexes and turned into text (`$["a"][1]`) only for an error:
 * building it for every member cost more than writing the member.
 */
class Writer {
  out = "";
  readonly #path: (string | number)[] = [];
  readonly #ancestors = new Set<object>();

  write(value: unknown): void {
    switch (typeof value) {
      case "string":
        this.out += this.#quote(value);
        return;
      case "number":
        if (!Number.isFinite(value)) {
          throw this.#unsupported(`JSON has no ${value} number`);
        }
        // Number::toString (RFC 8785 §3.2.2.3); it already writes -0 as "0".
        this.out += String(value);
        return;
      case "boolean":
        this.out += value ? "true" : "false";
        return;
      case "object":
        if (value === null) {
          this.out += "null";
          return;
        }
        if (this.#ancestors.has(value)) {
          throw this.#unsupported("it refers back to itself (a cycle)");
        }
        this.#ancestors.add(value);
        try {
          if (Array.isArray(value)) this.#array(value);
          else this.#object(value);
        } finally {
          this.#ancestors.delete(value);
        }
        return;
      default:
        throw this.#unsupported(`JSON has no ${typeof value} values`);
    }
  }

  #array(value: unknown[]): void {
    this.out += "[";
    const path = this.#path;
    for (let i = 0; i < value.length; i++) {
      if (i > 0) this.out += ",";
      path.push(i);
      if (!(i in value)) throw this.#unsupported("the array has a hole there");
      const item = value[i];
      if (item === undefined) {
        throw this.#unsupported("an array element is undefined");
      }
      this.write(item);
      path.pop();
    }
    this.out += "]";
  }

  #object(value: object): void {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor
        ?.name;
      const kind = typeof name === "string" && name !== "" ? name : "non-plain";
      throw this.#unsupported(
        `it is a ${kind} object, not a plain object`,
      );
    }
    if (
      Object.getOwnPropertySymbols(value).some((s) =>
        Object.prototype.propertyIsEnumerable.call(value, s)
      )
    ) {
      throw this.#unsupported("the object has a symbol-keyed property");
    }
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    this.out += "{";
    let first = true;
    const path = this.#path;
    for (const key of keys) {
      const item = record[key];
      if (item === undefined) continue;
      path.push(key);
      if (!first) this.out += ",";
      first = false;
      this.out += this.#quote(key) + ":";
      this.write(item);
      path.pop();
    }
    this.out += "}";
  }

  #quote(s: string): string {
    if (!s.isWellFormed()) {
      throw this.#unsupported(
        "the string has a lone surrogate (not valid Unicode)",
      );
    }
    // ECMAScript JSON.stringify string escaping is exactly RFC 8785 §3.2.2.2.
    return JSON.stringify(s);
  }

  #unsupported(why: string): KernelError {
    const path = "$" +
      this.#path.map((p) =>
        typeof p === "number" ? `[${p}]` : JSON.stringify([p])
      ).join("");
    return new KernelError(
      "CANONICAL_JSON_UNSUPPORTED",
      `Cannot canonicalize the value at ${path} as ${why}`,
      { data: { path } },
    );
  }
}
