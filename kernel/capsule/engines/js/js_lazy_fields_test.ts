/**
 * Large payload fields reach the guest as text parsed on first access
 * (`./_lazy_fields.ts`): the handler sees the same value either way.
 */
import assert from "node:assert/strict";
import { RAW_JSON_KEY } from "../../../../sdk/capsule.ts";
import { LAZY_FIELD_CHARS, splitPayload } from "./_lazy_fields.ts";
import { loadInline } from "./_js_fixture_test.ts";

const READ = { read: true } as const;

/** A history long enough to travel lazily. */
const HISTORY = Array.from({ length: 40 }, (_, i) => ({
  role: i % 2 === 0 ? "user" : "assistant",
  content: [{ type: "text", text: `message ${i} "quoted" é \u2028` }],
}));

const EVENT = {
  topic: "llm.v1.request.generate.x",
  source: "react",
  payload: {
    request_id: "r1",
    messages: HISTORY,
    tools: [],
    system: "s",
  },
};

/** Guest code: what the handler can observe of `payload.messages`. */
const PROBE = `const RAW = Symbol.for(${JSON.stringify(RAW_JSON_KEY)});
export function probe(event) {
  const p = event.payload;
  const d = Object.getOwnPropertyDescriptor(p, "messages");
  const before = { lazy: typeof d.get === "function", raw: p[RAW] ? p[RAW].messages : null };
  const first = p.messages[3].content[0].text;
  const after = Object.getOwnPropertyDescriptor(p, "messages");
  return {
    before,
    first,
    dataAfterRead: "value" in after && after.enumerable && after.writable,
    rawAfterRead: p[RAW] ? (p[RAW].messages ?? null) : null,
    keys: Object.keys(p),
    json: JSON.stringify(event),
  };
}
export function replace(event) {
  event.payload.messages = ["new"];
  return { messages: event.payload.messages, raw: event.payload[Symbol.for(${
  JSON.stringify(RAW_JSON_KEY)
})]?.messages ?? null };
}
export function spread(event) {
  return { ...event.payload };
}
export function small(event) {
  return typeof Object.getOwnPropertyDescriptor(event.payload, "messages").get;
}`;

Deno.test({
  name:
    "a large payload field reaches the guest as text, parsed on first access into the same value",
  permissions: READ,
  async fn() {
    const c = await loadInline(PROBE);
    const r = await c.invoke("probe", EVENT) as Record<string, unknown>;
    assert.deepEqual(r.before, {
      lazy: true,
      raw: JSON.stringify(HISTORY),
    });
    assert.equal(r.first, HISTORY[3]!.content[0]!.text);
    assert.equal(r.dataAfterRead, true);
    assert.equal(r.rawAfterRead, null, "the text is dropped once parsed");
    assert.deepEqual(r.keys, ["request_id", "messages", "tools", "system"]);
    assert.equal(r.json, JSON.stringify(EVENT));
    await c.unload();
  },
});

Deno.test({
  name:
    "a lazy field a handler assigns becomes that value and forgets its text; spreading parses it",
  permissions: READ,
  async fn() {
    const c = await loadInline(PROBE);
    assert.deepEqual(await c.invoke("replace", EVENT), {
      messages: ["new"],
      raw: null,
    });
    assert.deepEqual(await c.invoke("spread", EVENT), EVENT.payload);
    await c.unload();
  },
});

Deno.test({
  name:
    "a large field named __proto__ is delivered as that data field, never as the payload's prototype",
  permissions: READ,
  async fn() {
    const c = await loadInline(`export function proto(event) {
      const p = event.payload;
      return {
        prototypeIsObject: Object.getPrototypeOf(p) === Object.prototype,
        own: Object.keys(p),
        first: p["__proto__"][0].role,
        polluted: ({}).role === undefined ? false : true,
      };
    }`);
    const payload = JSON.parse(
      `{"__proto__": ${JSON.stringify(HISTORY)}, "n": 1}`,
    );
    assert.deepEqual(await c.invoke("proto", { payload }), {
      prototypeIsObject: true,
      own: ["__proto__", "n"],
      first: "user",
      polluted: false,
    });
    await c.unload();
  },
});

Deno.test({
  name: "a small field is an ordinary data property",
  permissions: READ,
  async fn() {
    const c = await loadInline(PROBE);
    const event = { payload: { messages: HISTORY.slice(0, 1) } };
    assert.equal(await c.invoke("small", event), "undefined");
    await c.unload();
  },
});

Deno.test({
  name:
    "`splitPayload()` takes out large object fields of the payload and of its `payload`, keeping everything else",
  fn() {
    const big = "x".repeat(LAZY_FIELD_CHARS);
    const list = [big];
    const p = splitPayload({
      a: list,
      s: big, // a string stays inline
      payload: { b: { v: big }, n: 1 },
    });
    assert.deepEqual(p.lazy.map((f) => f.path), [["a"], ["payload", "b"]]);
    assert.equal(p.lazy[0]!.text, JSON.stringify(list));
    assert.deepEqual(JSON.parse(p.json), {
      a: null,
      s: big,
      payload: { b: null, n: 1 },
    });
    assert.deepEqual(splitPayload([list]), {
      json: JSON.stringify([list]),
      lazy: [],
    });
    assert.deepEqual(splitPayload(null), { json: "null", lazy: [] });
  },
});
