import assert from "node:assert/strict";
import { ndjsonLines, type SseEvent, sseEvents } from "../sdk/stream.ts";

async function* pieces<T>(...items: T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** Every way of cutting `text` in two. */
function cuts(text: string): [string, string][] {
  return [...Array(text.length + 1).keys()].map((
    i,
  ) => [text.slice(0, i), text.slice(i)]);
}

Deno.test({
  name:
    "sseEvents() yields the same events wherever the body is cut (inside a line, between \\r and \\n)",
  permissions: "none",
  async fn() {
    const body =
      'event: message_start\r\ndata: {"a":1}\r\n\r\n: keep-alive\n\nid: 7\nretry: 10\ndata:x\ndata: y\n\nevent: empty\n\ndata: last\n\n';
    const expected: SseEvent[] = [
      { event: "message_start", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
      { event: "message", data: "last" },
    ];
    for (const [a, b] of cuts(body)) {
      assert.deepEqual(await all(sseEvents(pieces(a, b))), expected, a);
    }
  },
});

Deno.test({
  name:
    "sseEvents() decodes byte pieces that split a UTF-8 character, and drops an unterminated event at the end",
  permissions: "none",
  async fn() {
    const bytes = new TextEncoder().encode("data: héllo €\n\ndata: cut");
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(
        await all(sseEvents(pieces(bytes.slice(0, i), bytes.slice(i)))),
        [{ event: "message", data: "héllo €" }],
      );
    }
  },
});

Deno.test({
  name:
    "ndjsonLines() yields one value per line wherever the body is cut, skips blank lines, parses a last line without newline",
  permissions: "none",
  async fn() {
    const body = '{"n":1}\r\n\n{"s":"é"}\n{"done":true}';
    for (const [a, b] of cuts(body)) {
      assert.deepEqual(await all(ndjsonLines(pieces(a, b))), [
        { n: 1 },
        { s: "é" },
        { done: true },
      ]);
    }
  },
});

Deno.test({
  name: "ndjsonLines() throws a SyntaxError quoting a malformed line",
  permissions: "none",
  async fn() {
    await assert.rejects(
      all(ndjsonLines(pieces('{"n":1}\n{"n":\n'))),
      (e: unknown) => e instanceof SyntaxError && /\{\\"n\\":/.test(e.message),
    );
  },
});
