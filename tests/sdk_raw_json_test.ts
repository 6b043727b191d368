import assert from "node:assert/strict";
import { RAW_JSON_KEY } from "../sdk/capsule.ts";
import { callHost, HostCallError } from "../sdk/host.ts";
import { rawJson, rawJsonOf, stringifyWithRaw } from "../sdk/raw_json.ts";

const HISTORY =
  '[{"role":"user","content":[{"type":"text","text":"hi \\"x\\""}]}]';

Deno.test({
  name:
    "stringifyWithRaw() writes each raw value's text where the value is, at any depth",
  permissions: "none",
  fn() {
    const value = {
      id: "r1",
      messages: rawJson(HISTORY),
      nested: { list: [1, rawJson("2.5"), rawJson('"s"')] },
      last: rawJson("{}"),
    };
    const json = stringifyWithRaw(value);
    assert.equal(
      json,
      `{"id":"r1","messages":${HISTORY},"nested":{"list":[1,2.5,"s"]},"last":{}}`,
    );
    assert.equal(stringifyWithRaw(rawJson("[1]")), "[1]");
    assert.equal(stringifyWithRaw({ a: 1 }), '{"a":1}');
  },
});

Deno.test({
  name:
    "a raw value serialised by plain JSON.stringify is parsed: the same JSON, no placeholder",
  permissions: "none",
  fn() {
    const value = { messages: rawJson(HISTORY) };
    assert.equal(
      JSON.stringify(value),
      `{"messages":${JSON.stringify(JSON.parse(HISTORY))}}`,
    );
  },
});

Deno.test({
  name:
    "a string that looks like a raw placeholder is written as a string, never replaced",
  permissions: "none",
  fn() {
    for (const s of ["\u0000raw:0", "\u0000raw:abc:0", '"\\u0000raw:x:0"']) {
      const value = { s, m: rawJson("[1]") };
      assert.deepEqual(JSON.parse(stringifyWithRaw(value)), { s, m: [1] });
    }
  },
});

Deno.test({
  name:
    "a host call with a malformed raw text fails with the kernel parse's INVALID_INPUT",
  permissions: "none",
  async fn() {
    const g = globalThis as Record<string, unknown>;
    const sent: string[] = [];
    // Stands in for the engine's binding: it parses the JSON as the kernel does.
    g.__astrid_host = (_fn: string, json: string) => {
      sent.push(json);
      try {
        JSON.parse(json);
      } catch {
        return Promise.reject(
          Object.assign(new Error("the payload is not JSON"), {
            code: "INVALID_INPUT",
          }),
        );
      }
      return Promise.resolve('{"ok":true}');
    };
    try {
      await callHost("ipc_publish", {
        topic: "t",
        payload: { m: rawJson(HISTORY) },
      });
      assert.deepEqual(JSON.parse(sent[0]!), {
        topic: "t",
        payload: { m: JSON.parse(HISTORY) },
      });
      await assert.rejects(
        callHost("ipc_publish", { topic: "t", payload: rawJson("[1,") }),
        (e) => e instanceof HostCallError && e.code === "INVALID_INPUT",
      );
    } finally {
      delete g.__astrid_host;
    }
  },
});

Deno.test({
  name:
    "rawJsonOf() gives the text kept under the engine's symbol, and nothing for other objects",
  permissions: "none",
  fn() {
    const payload = { messages: null };
    Object.defineProperty(payload, Symbol.for(RAW_JSON_KEY), {
      value: { messages: HISTORY },
    });
    assert.equal(rawJsonOf(payload, "messages"), HISTORY);
    assert.equal(rawJsonOf(payload, "tools"), undefined);
    assert.equal(rawJsonOf(payload, "toString"), undefined);
    assert.equal(rawJsonOf({ messages: [] }, "messages"), undefined);
    assert.equal(rawJsonOf(null, "messages"), undefined);
    assert.equal(rawJsonOf("text", "length"), undefined);
  },
});
