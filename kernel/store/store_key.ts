/**
 * Validation, sizing and display of {@linkcode StoreKey}s, shared by every
 * backend so that all of them accept exactly the same keys.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { StoreKey, StoreKeyPart } from "./store.ts";

/**
 * Max UTF-8 bytes of a namespace.
 *
 * @example A namespace at the limit
 * ```ts
 * import { MAX_NAMESPACE_BYTES, validateKey } from "./store_key.ts";
 * validateKey(["n".repeat(MAX_NAMESPACE_BYTES), "k"]);
 * ```
 */
export const MAX_NAMESPACE_BYTES = 256;

/**
 * Default max encoded key size (Deno KV's write limit).
 *
 * @example The largest key with one string part
 * ```ts
 * import { DEFAULT_MAX_KEY_BYTES, keySize } from "./store_key.ts";
 * console.assert(keySize(["ns", "x".repeat(2042)]) === DEFAULT_MAX_KEY_BYTES);
 * ```
 */
export const DEFAULT_MAX_KEY_BYTES = 2048;

/** Options of {@linkcode validateKey}. */
export interface ValidateKeyOptions {
  /** Accept a namespace alone (a list prefix). Default `false`. */
  readonly prefix?: boolean;
  /** Max encoded size (default {@linkcode DEFAULT_MAX_KEY_BYTES}). */
  readonly maxKeyBytes?: number;
}

/**
 * Checks a key and returns a frozen, normalised copy (`-0` becomes `0`), so
 * later changes to the caller's array cannot alter what was checked.
 *
 * Rules: an array whose first element, the namespace, is a string of 1–256
 * UTF-8 bytes; then at least one part (none needed for a prefix), each a
 * non-empty string or a safe integer; strings must be well-formed Unicode
 * (a lone surrogate would be stored as U+FFFD and collide with another key)
 * and contain no NUL; the encoded size ({@linkcode keySize}) is within the limit.
 *
 * @param key Untrusted input.
 * @param options Prefix mode and size limit.
 * @returns The checked key.
 * @throws {KernelError} `STORE_KEY_INVALID`, naming the bad part and why.
 *
 * @example Accept a key, reject an empty part
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateKey } from "./store_key.ts";
 * import { KernelError } from "../core/errors.ts";
 * assert.deepEqual(validateKey(["caps:tokens", "t1", -0]), ["caps:tokens", "t1", 0]);
 * assert.throws(() => validateKey(["caps:tokens", ""]), (e) => KernelError.is(e, "STORE_KEY_INVALID"));
 * ```
 */
export function validateKey(
  key: unknown,
  options: ValidateKeyOptions = {},
): StoreKey {
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  if (!Array.isArray(key)) {
    throw invalid(
      `Cannot use ${typeof key} as a store key: expected an array`,
      undefined,
    );
  }
  const ns: unknown = key[0];
  if (typeof ns !== "string") {
    throw invalid(
      `Cannot use store key ${formatKey(key)} as its namespace is not a string`,
      key,
    );
  }
  checkString(ns, "the namespace", key);
  if (utf8Length(ns) > MAX_NAMESPACE_BYTES) {
    throw invalid(
      `Cannot use store key ${
        formatKey(key)
      } as its namespace is over ${MAX_NAMESPACE_BYTES} UTF-8 bytes`,
      key,
    );
  }
  if (key.length < 2 && options.prefix !== true) {
    throw invalid(
      `Cannot use store key ${
        formatKey(key)
      } as it has no part after the namespace`,
      key,
    );
  }
  const out: StoreKeyPart[] = [ns];
  for (let i = 1; i < key.length; i++) out.push(checkPart(key[i], i, key));
  const size = keySize(out as unknown as StoreKey);
  if (size > maxKeyBytes) {
    throw invalid(
      `Cannot use store key ${
        formatKey(key)
      } as it is ${size} bytes encoded (limit ${maxKeyBytes})`,
      key,
      { size, limit: maxKeyBytes },
    );
  }
  return Object.freeze(out) as unknown as StoreKey;
}

/**
 * The encoded size of a checked key: each string part (the namespace
 * included) costs its UTF-8 length + 2 bytes, each number 9 bytes. This is
 * Deno KV's own accounting, and the size other backends must accept.
 *
 * @param key A key that passed {@linkcode validateKey}.
 * @returns The size in bytes.
 *
 * @example Size of a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { keySize } from "./store_key.ts";
 * assert.equal(keySize(["ns", "é", 7]), 4 + 4 + 9);
 * ```
 */
export function keySize(key: StoreKey): number {
  let size = 0;
  for (const part of key) {
    size += typeof part === "number" ? 9 : utf8Length(part) + 2;
  }
  return size;
}

/**
 * A short, readable rendering of a key for error messages: JSON, with long
 * string parts cut to 40 characters.
 *
 * @param key Any value used as a key.
 * @returns The text, at most a few hundred characters.
 *
 * @example Render a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatKey } from "./store_key.ts";
 * assert.equal(formatKey(["ns", "a", 1]), '["ns","a",1]');
 * ```
 */
export function formatKey(key: unknown): string {
  if (!Array.isArray(key)) return typeof key;
  const shown = key.slice(0, 8).map((p: unknown) => {
    if (typeof p === "string") {
      return JSON.stringify(p.length > 40 ? `${p.slice(0, 40)}…` : p);
    }
    if (typeof p === "number" || typeof p === "boolean") return String(p);
    return p === null ? "null" : typeof p;
  });
  if (key.length > 8) shown.push(`…${key.length - 8} more`);
  return `[${shown.join(",")}]`;
}

/**
 * A string that identifies a checked key exactly, for use as a `Map` key.
 *
 * @param key A key that passed {@linkcode validateKey}.
 * @returns A string equal for equal keys and different for different keys.
 *
 * @example Strings and numbers stay distinct
 * ```ts
 * import { keyId } from "./store_key.ts";
 * console.assert(keyId(["ns", 1]) !== keyId(["ns", "1"]));
 * ```
 */
export function keyId(key: StoreKey): string {
  return JSON.stringify(key);
}

function checkPart(
  part: unknown,
  index: number,
  key: readonly unknown[],
): StoreKeyPart {
  if (typeof part === "string") {
    checkString(part, `part ${index}`, key);
    return part;
  }
  if (typeof part === "number") {
    if (!Number.isSafeInteger(part)) {
      throw invalid(
        `Cannot use store key ${
          formatKey(key)
        } as part ${index} (${part}) is not a safe integer`,
        key,
      );
    }
    return part === 0 ? 0 : part;
  }
  const type = typeof part;
  const kind = part === null || type === "undefined"
    ? String(part)
    : part instanceof Uint8Array
    ? "a Uint8Array"
    : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
  throw invalid(
    `Cannot use store key ${
      formatKey(key)
    } as part ${index} is ${kind}: only strings and safe integers are allowed`,
    key,
  );
}

function checkString(
  value: string,
  what: string,
  key: readonly unknown[],
): void {
  if (value.length === 0) {
    throw invalid(
      `Cannot use store key ${formatKey(key)} as ${what} is an empty string`,
      key,
    );
  }
  if (value.includes("\0")) {
    throw invalid(
      `Cannot use store key ${
        formatKey(key)
      } as ${what} contains a NUL character`,
      key,
    );
  }
  if (!value.isWellFormed()) {
    throw invalid(
      `Cannot use store key ${
        formatKey(key)
      } as ${what} contains a lone surrogate (not valid Unicode)`,
      key,
    );
  }
}

function invalid(
  message: string,
  key: readonly unknown[] | undefined,
  extra: Record<string, unknown> = {},
): KernelError {
  const data = key === undefined ? extra : { key: formatKey(key), ...extra };
  return new KernelError("STORE_KEY_INVALID", message, { data });
}

/** UTF-8 length of a well-formed string, without allocating. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const KEY_STRING = 0x02;
const KEY_NUMBER = 0x21;

/**
 * The byte encoding of a checked key, the tuple layer that Deno KV uses:
 * each string part is `0x02` + its UTF-8 + `0x00` (no NUL can occur inside,
 * see {@linkcode validateKey}); each number is `0x21` + its IEEE-754 double,
 * big-endian, with the sign bit flipped (all bits flipped when negative).
 * Byte order of the encodings is key order (strings before numbers at the
 * same position, strings by UTF-8 bytes, numbers numerically), a key's
 * encoding is a byte prefix of the encodings of the keys under it, and its
 * length is {@linkcode keySize}. Backends that sort raw bytes (PostgreSQL
 * `bytea`) store this.
 *
 * @param key A key that passed {@linkcode validateKey} (a prefix is fine).
 * @returns The encoding (a fresh array).
 *
 * @example A number sorts by value, after every string
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKey } from "./store_key.ts";
 * assert.deepEqual([...encodeKey(["ns", 1])].slice(4), [0x21, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0]);
 * assert.ok(encodeKey(["ns", "z"])[4]! < encodeKey(["ns", 1])[4]!);
 * ```
 */
export function encodeKey(key: StoreKey): Uint8Array {
  const out = new Uint8Array(keySize(key));
  const view = new DataView(out.buffer);
  const utf8 = new TextEncoder();
  let at = 0;
  for (const part of key) {
    if (typeof part === "number") {
      out[at] = KEY_NUMBER;
      view.setFloat64(at + 1, part);
      if (out[at + 1]! & 0x80) {
        for (let i = at + 1; i < at + 9; i++) out[i] = ~out[i]! & 0xff;
      } else out[at + 1] = out[at + 1]! ^ 0x80;
      at += 9;
    } else {
      out[at] = KEY_STRING;
      at += 1 + utf8.encodeInto(part, out.subarray(at + 1)).written;
      out[at++] = 0x00;
    }
  }
  return out;
}

/**
 * Decodes what {@linkcode encodeKey} produced.
 *
 * @param bytes An encoded key.
 * @returns The key's parts, namespace first.
 * @throws {KernelError} `INTERNAL` when the bytes are not such an encoding.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKey, encodeKey } from "./store_key.ts";
 * assert.deepEqual(decodeKey(encodeKey(["ns", "a", -3])), ["ns", "a", -3]);
 * ```
 */
export function decodeKey(bytes: Uint8Array): (string | number)[] {
  const out: (string | number)[] = [];
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let at = 0;
  try {
    while (at < bytes.length) {
      const tag = bytes[at];
      if (tag === KEY_STRING) {
        const end = bytes.indexOf(0x00, at + 1);
        if (end < 0) throw new Error("an unterminated string");
        out.push(utf8.decode(bytes.subarray(at + 1, end)));
        at = end + 1;
      } else if (tag === KEY_NUMBER && at + 9 <= bytes.length) {
        const raw = new Uint8Array(8); // a copy, whatever `bytes` views
        raw.set(bytes.subarray(at + 1, at + 9));
        if (raw[0]! & 0x80) raw[0] = raw[0]! ^ 0x80;
        else for (let i = 0; i < 8; i++) raw[i] = ~raw[i]! & 0xff;
        out.push(new DataView(raw.buffer).getFloat64(0));
        at += 9;
      } else throw new Error(`tag ${tag} at byte ${at}`);
    }
  } catch (err) {
    throw new KernelError(
      "INTERNAL",
      `Cannot decode a stored key as it is not a key encoding (${
        err instanceof Error ? err.message : String(err)
      })`,
      { cause: err },
    );
  }
  return out;
}
