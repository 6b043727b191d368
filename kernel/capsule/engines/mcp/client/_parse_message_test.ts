import assert from "node:assert/strict";
import { deserializeMessage } from "@modelcontextprotocol/client";
import { parseMessage } from "./_parse_message.ts";

function outcome(parse: (line: string) => unknown, line: string) {
  try {
    return { ok: true, value: parse(line) };
  } catch (err) {
    return { ok: false, error: (err as Error).name };
  }
}

// Result responses the shortcut takes, near misses it must leave to the
// schema, and the other message kinds.
const LINES = [
  '{"jsonrpc":"2.0","id":1,"result":{}}',
  '{"result":{"content":[{"type":"text","text":"Echo: hi"}]},"jsonrpc":"2.0","id":2}',
  '{"jsonrpc":"2.0","id":"a-1","result":{"content":[],"isError":true,"x":{"y":[1,null]}}}',
  '{"jsonrpc":"2.0","id":0,"result":{"structuredContent":{"n":1}}}',
  '{"jsonrpc":"2.0","id":-7,"result":{"nextCursor":"c"}}',
  '{"jsonrpc":"2.0","id":1,"id":3,"result":{}}',
  '{"jsonrpc":"2.0","id":1.5,"result":{}}',
  '{"jsonrpc":"2.0","id":9007199254740993,"result":{}}',
  '{"jsonrpc":"2.0","id":1e400,"result":{}}',
  '{"jsonrpc":"2.0","id":null,"result":{}}',
  '{"jsonrpc":"2.0","id":true,"result":{}}',
  '{"jsonrpc":"2.0","id":[1],"result":{}}',
  '{"jsonrpc":"2.0","result":{}}',
  '{"jsonrpc":"1.0","id":1,"result":{}}',
  '{"jsonrpc":2,"id":1,"result":{}}',
  '{"id":1,"result":{}}',
  '{"jsonrpc":"2.0","id":1,"result":[]}',
  '{"jsonrpc":"2.0","id":1,"result":null}',
  '{"jsonrpc":"2.0","id":1,"result":"ok"}',
  '{"jsonrpc":"2.0","id":1,"result":{},"extra":1}',
  '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}',
  '{"jsonrpc":"2.0","id":1,"result":{"_meta":{}}}',
  '{"jsonrpc":"2.0","id":1,"result":{"_meta":{"progressToken":1,"k":"v"}}}',
  '{"jsonrpc":"2.0","id":1,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":5}}}',
  '{"jsonrpc":"2.0","id":1,"result":{"_meta":"no"}}',
  '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  '{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1},"more":2}',
  '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}',
  '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}',
  '{"jsonrpc":"2.0","error":{"code":1.5,"message":"no"}}',
  "[1,2]",
  "null",
  '"2.0"',
  "not json",
  "",
];

Deno.test({
  name:
    "`parseMessage()` accepts exactly what the SDK's deserializeMessage accepts, with an equal value",
  permissions: "none",
  fn() {
    let shortcut = 0;
    for (const line of LINES) {
      const want = outcome(deserializeMessage, line);
      const got = outcome(parseMessage, line);
      assert.deepEqual(got, want, line);
      if (got.ok && "result" in (got.value as object)) shortcut++;
    }
    assert.ok(shortcut >= 6, "the result responses were parsed");
  },
});

Deno.test({
  name:
    "`parseMessage()` keeps a `__proto__` key of a result as data, never as the result's prototype",
  permissions: "none",
  fn() {
    const m = parseMessage(
      '{"jsonrpc":"2.0","id":1,"result":{"__proto__":{"isError":true,"_meta":{}}}}',
    ) as { result: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(m.result), Object.prototype);
    assert.equal(m.result.isError, undefined);
    assert.equal(m.result._meta, undefined);
    assert.ok(Object.hasOwn(m.result, "__proto__"));
  },
});
