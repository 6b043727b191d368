/**
 * JSON that stays text inside a `js` capsule: QuickJS parses and writes JSON
 * far slower than the kernel, so a capsule that only passes a large value on
 * (an orchestrator's history, a provider's messages) can keep it as text.
 *
 * - In: the engine sends the large fields of a payload as text and parses
 *   one only when the handler reads it; {@linkcode rawJsonOf} gives the text
 *   of a field not read yet.
 * - Out: {@linkcode rawJson} wraps a JSON text to put in a host call's
 *   parameters (a bus payload, a KV value); the SDK writes it into the call's
 *   JSON as it is, without parsing it. The kernel parses every host call's
 *   JSON before it acts on it, so a malformed text fails the call
 *   (`INVALID_INPUT`) — it can never change anything but the capsule's own
 *   parameters.
 *
 * @module
 */
import { RAW_JSON_KEY } from "./capsule.ts";

const RAW = Symbol.for(RAW_JSON_KEY);
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The serialisation in progress that collects raw texts (see `toJSON`), and
 * its placeholder prefix, made when the first raw text is met.
 */
let collecting: { mark: string; readonly texts: string[] } | null = null;

/**
 * A JSON text to be sent as it is; made by {@linkcode rawJson}. Serialised
 * by any other `JSON.stringify` it is parsed (same result, slower).
 */
export class RawJson {
  /** The JSON text. */
  readonly text: string;

  /**
   * Wraps a JSON text (not checked: see the module doc).
   *
   * @param text One JSON value.
   */
  constructor(text: string) {
    this.text = text;
  }

  /**
   * Inside the SDK's serialisation a placeholder, else the parsed value.
   *
   * @returns What `JSON.stringify` writes for this value.
   */
  toJSON(): unknown {
    if (collecting === null) return JSON.parse(this.text);
    // An unguessable placeholder: a string that happens to equal it is not
    // replaced by a raw text.
    if (collecting.mark === "") {
      collecting.mark = `\u0000raw:${Math.random().toString(36).slice(2)}:`;
    }
    collecting.texts.push(this.text);
    return `${collecting.mark}${collecting.texts.length - 1}`;
  }
}

/**
 * Wraps a JSON text to send as it is inside host-call parameters.
 *
 * @param text One JSON value, e.g. kept from an earlier answer.
 * @returns The wrapper; put it where the value goes.
 *
 * @example A payload with a pre-serialised field
 * ```ts
 * import { rawJson, stringifyWithRaw } from "./raw_json.ts";
 * const json = stringifyWithRaw({ id: "r1", messages: rawJson('[{"role":"user"}]') });
 * console.assert(json === '{"id":"r1","messages":[{"role":"user"}]}');
 * ```
 */
export function rawJson(text: string): RawJson {
  return new RawJson(String(text));
}

/**
 * The JSON text of field `key` of a payload object when the engine sent it as
 * text and the handler has not read (or replaced) it yet.
 *
 * @param value A payload object (or anything).
 * @param key The field.
 * @returns The text, or `undefined` (then read the field itself).
 *
 * @example Nothing raw on an ordinary object
 * ```ts
 * import { rawJsonOf } from "./raw_json.ts";
 * console.assert(rawJsonOf({ messages: [] }, "messages") === undefined);
 * ```
 */
export function rawJsonOf(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (!hasOwn.call(value, RAW)) return undefined;
  const raw = (value as Record<symbol, Record<string, string>>)[RAW]!;
  return hasOwn.call(raw, key) ? raw[key] : undefined;
}

/**
 * `JSON.stringify` that writes each {@linkcode RawJson} as its text.
 *
 * @param value A JSON value, possibly holding `RawJson` values.
 * @returns Its JSON text.
 * @throws {TypeError} What `JSON.stringify` throws (e.g. a cycle).
 */
export function stringifyWithRaw(value: unknown): string {
  const outer = collecting;
  const c = { mark: "", texts: [] as string[] };
  collecting = c;
  let json: string;
  try {
    json = JSON.stringify(value) ?? "null";
  } finally {
    collecting = outer;
  }
  if (c.texts.length === 0) return json;
  const quoted = JSON.stringify(c.mark).slice(0, -1);
  let out = "";
  let at = 0;
  for (let i = 0; i < c.texts.length; i++) {
    const token = `${quoted}${i}"`;
    const found = json.indexOf(token, at);
    if (found === -1) {
      throw new TypeError("A raw JSON value was not written where expected");
    }
    out += json.slice(at, found) + c.texts[i];
    at = found + token.length;
  }
  return out + json.slice(at);
}
