/**
 * Large payload fields reach a js guest as JSON text, parsed on first use.
 *
 * QuickJS parses JSON about a hundred times slower than V8: a capsule that
 * only forwards a large part of its payload (an orchestrator's history, a
 * provider's messages) should not pay for parsing it. Before a call, the
 * engine takes the large object or array values out of the payload — the
 * payload's own properties and those of its `payload` property (an
 * interceptor's event) — and sends them beside the rest as text. The guest's
 * invoker (`./_guest_source.ts`) puts each back as an accessor that parses
 * its text on first access (and then becomes a plain data property), and
 * keeps the text, until then, where `rawJsonOf()` of the SDK finds it.
 *
 * What the handler sees is the same value: the same keys in the same order,
 * `JSON.stringify` and spreading work (they parse the field); only
 * `Object.getOwnPropertyDescriptor` tells an accessor from a data property.
 * The text is the kernel's own serialisation of a value it already holds as
 * JSON, so it always parses.
 *
 * @module
 */
import type { JsonValue } from "../../../store/store.ts";

/** Object or array values whose JSON is at least this long are sent lazily. */
export const LAZY_FIELD_CHARS = 1024;

/** At most this many fields of one payload are sent lazily. */
const MAX_LAZY_FIELDS = 8;

/** One field sent as text: where it is and its JSON. */
export interface LazyField {
  /** The keys from the payload to the field (1 or 2 of them). */
  readonly path: readonly string[];
  /** The field's JSON text. */
  readonly text: string;
}

/** A call's payload as sent to the guest. */
export interface GuestPayload {
  /** The payload's JSON, each lazy field's value replaced by `null`. */
  readonly json: string;
  /** The fields taken out, in the order they were found. */
  readonly lazy: readonly LazyField[];
}

type JsonObject = { [key: string]: JsonValue };

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Serialises a payload for the guest, taking its large fields out.
 *
 * @param payload The call's JSON payload.
 * @param minChars The least JSON length of a lazy field.
 * @returns The JSON and the lazy fields.
 * @throws {TypeError} When the payload is not JSON-serialisable.
 *
 * @example A large field travels apart
 * ```ts
 * import { splitPayload } from "./_lazy_fields.ts";
 * const p = splitPayload({ payload: { id: "r1", messages: [1, 2, 3] } }, 5);
 * console.assert(p.json === '{"payload":{"id":"r1","messages":null}}');
 * console.assert(p.lazy[0]!.path.join(".") === "payload.messages");
 * console.assert(p.lazy[0]!.text === "[1,2,3]");
 * ```
 */
export function splitPayload(
  payload: JsonValue,
  minChars: number = LAZY_FIELD_CHARS,
): GuestPayload {
  if (!isObject(payload)) {
    return { json: JSON.stringify(payload) ?? "null", lazy: [] };
  }
  // Most payloads are small: then no field can be large.
  const whole = JSON.stringify(payload);
  if (whole.length < minChars) return { json: whole, lazy: [] };
  const lazy: LazyField[] = [];
  const take = (
    obj: JsonObject,
    prefix: readonly string[],
    skip?: string,
  ): JsonObject => {
    let copy: JsonObject | undefined;
    for (const key of Object.keys(obj)) {
      if (key === skip) continue;
      const v = obj[key];
      if (v === null || typeof v !== "object") continue;
      if (lazy.length >= MAX_LAZY_FIELDS) break;
      const text = JSON.stringify(v);
      if (text.length < minChars) continue;
      copy ??= { ...obj };
      // Defined, not assigned: a key named `__proto__` stays a data field.
      Object.defineProperty(copy, key, {
        value: null,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      lazy.push({ path: [...prefix, key], text });
    }
    return copy ?? obj;
  };
  // An event's `payload` is looked into, not sent whole as one field.
  const inner = payload["payload"];
  let outer = take(payload, [], isObject(inner) ? "payload" : undefined);
  if (isObject(inner)) {
    const taken = take(inner, ["payload"]);
    if (taken !== inner) outer = { ...outer, payload: taken };
  }
  return { json: lazy.length === 0 ? whole : JSON.stringify(outer), lazy };
}
