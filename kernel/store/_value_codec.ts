/**
 * Private: the byte encoding of store values, shared by backends.
 *
 * An encoded value is one tag byte followed by the payload:
 * - `0x00` + raw bytes for a `Uint8Array`;
 * - `0x01` + the UTF-8 of the RFC 8785 canonical JSON text for JSON values.
 *
 * Measuring the encoded bytes before writing makes the size limit exact and
 * independent of any engine's internal serialisation.
 *
 * @module
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import { KernelError } from "../core/errors.ts";
import type { StoreValue } from "./store.ts";

/**
 * Names the key in error messages; a function is called only when a
 * message is made (rendering a key for every value written cost more than
 * encoding small values).
 */
export type What = string | (() => string);

const named = (what: What): string => typeof what === "string" ? what : what();

const UTF8_FATAL = new TextDecoder("utf-8", { fatal: true });

const TAG_BYTES = 0x00;
const TAG_JSON = 0x01;

/**
 * Encodes a value, checking its size.
 *
 * @param value The value to store.
 * @param options `maxBytes`: the limit on the encoded size; `what`: names the
 * key in messages.
 * @returns The encoded bytes (a fresh array).
 * @throws {KernelError} `CANONICAL_JSON_UNSUPPORTED` when the value is not
 * JSON-compatible; `STORE_VALUE_TOO_LARGE` when over the limit.
 */
export function encodeValue(
  value: StoreValue,
  options: { readonly maxBytes: number; readonly what: What },
): Uint8Array {
  const payload = value instanceof Uint8Array
    ? value
    : jsonBytes(value, options.what);
  const size = payload.byteLength + 1;
  if (size > options.maxBytes) {
    throw new KernelError(
      "STORE_VALUE_TOO_LARGE",
      `Cannot store a value of ${size} bytes encoded at ${
        named(options.what)
      } as the limit is ${options.maxBytes} bytes`,
      { data: { key: named(options.what), size, limit: options.maxBytes } },
    );
  }
  const out = new Uint8Array(size);
  out[0] = value instanceof Uint8Array ? TAG_BYTES : TAG_JSON;
  out.set(payload, 1);
  return out;
}

/**
 * Decodes what {@linkcode encodeValue} produced.
 *
 * @param raw The stored value as the backend returned it.
 * @param what Names the key in messages.
 * @returns The value.
 * @throws {KernelError} `INTERNAL` when the stored value was not written by
 * this codec (unknown tag, not bytes, bad JSON).
 */
export function decodeValue(raw: unknown, what: What): StoreValue {
  if (!(raw instanceof Uint8Array) || raw.byteLength === 0) {
    throw corrupt(what, "it is not an encoded store value");
  }
  const tag = raw[0];
  if (tag === TAG_BYTES) return raw.slice(1);
  if (tag === TAG_JSON) {
    try {
      return JSON.parse(
        UTF8_FATAL.decode(raw.subarray(1)),
      );
    } catch (err) {
      throw corrupt(what, "its JSON payload does not parse", err);
    }
  }
  throw corrupt(
    what,
    `its encoding tag 0x${(tag ?? 0).toString(16).padStart(2, "0")} is unknown`,
  );
}

function jsonBytes(value: unknown, what: What): Uint8Array {
  try {
    return canonicalBytes(value);
  } catch (err) {
    if (KernelError.is(err)) {
      throw new KernelError(
        err.code,
        `Cannot store the value at ${named(what)}: ${err.message}`,
        {
          ...(err.data ? { data: err.data } : {}),
          cause: err,
        },
      );
    }
    if (err instanceof RangeError) {
      // A structure nested deeply enough to exhaust the stack: bad input, not a crash.
      throw new KernelError(
        "CANONICAL_JSON_UNSUPPORTED",
        `Cannot store the value at ${named(what)} as it is nested too deeply`,
        { cause: err },
      );
    }
    throw err;
  }
}

function corrupt(of: What, why: string, cause?: unknown): KernelError {
  const what = named(of);
  return new KernelError(
    "INTERNAL",
    `Cannot decode the stored value at ${what} as ${why}`,
    cause === undefined
      ? { data: { key: what } }
      : { data: { key: what }, cause },
  );
}
