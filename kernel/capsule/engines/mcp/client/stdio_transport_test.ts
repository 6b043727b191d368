import assert from "node:assert/strict";
import { createDenoSpawner } from "../../../../host/deno_spawner.ts";
import {
  createStdioTransport,
  type JsonRpcMessage,
  type McpTransport,
} from "./stdio_transport.ts";

const enc = new TextEncoder();

/** A transport over in-memory pipes, with what it delivered. */
function piped(maxLineBytes?: number) {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const fromServer = new TransformStream<Uint8Array, Uint8Array>();
  const transport = createStdioTransport(
    { stdin: toServer.writable, stdout: fromServer.readable },
    maxLineBytes === undefined ? {} : { maxLineBytes },
  );
  const messages: JsonRpcMessage[] = [];
  const errors: string[] = [];
  let closes = 0;
  const closed = Promise.withResolvers<void>();
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e.message);
  transport.onclose = () => {
    closes++;
    closed.resolve();
  };
  const server = fromServer.writable.getWriter();
  return {
    transport,
    messages,
    errors,
    closes: () => closes,
    closed: closed.promise,
    /** Writes raw server output (bytes or text). */
    write: (chunk: Uint8Array | string) =>
      server.write(typeof chunk === "string" ? enc.encode(chunk) : chunk),
    /** Ends server output (stdout EOF). */
    end: () => server.close(),
    /** What the client wrote to the server's stdin. */
    stdin: toServer.readable,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test({
  name:
    "`createStdioTransport()` reassembles a message split across chunks, also inside a UTF-8 character",
  permissions: "none",
  async fn() {
    const p = piped();
    await p.transport.start();
    const bytes = enc.encode(
      '{"jsonrpc":"2.0","method":"note","params":{"text":"héllo ✓"}}\n',
    );
    const cut = bytes.indexOf(0xc3) + 1; // inside "é"
    await p.write(bytes.subarray(0, 5));
    await p.write(bytes.subarray(5, cut));
    await p.write(bytes.subarray(cut));
    await p.end();
    await p.closed;
    assert.deepEqual(p.messages, [
      { jsonrpc: "2.0", method: "note", params: { text: "héllo ✓" } },
    ]);
    assert.deepEqual(p.errors, []);
    await p.stdin.cancel();
  },
});

Deno.test({
  name:
    "`createStdioTransport()` delivers several messages of one chunk in order and accepts CRLF",
  permissions: "none",
  async fn() {
    const p = piped();
    await p.transport.start();
    await p.write(
      '{"jsonrpc":"2.0","id":1,"result":{}}\r\n{"jsonrpc":"2.0","method":"a"}\n' +
        '{"jsonrpc":"2.0","id":"x","method":"b"}\n{"jsonrpc":"2.0","method":"no newline"}',
    );
    await p.end();
    await p.closed;
    assert.deepEqual(p.messages, [
      { jsonrpc: "2.0", id: 1, result: {} },
      { jsonrpc: "2.0", method: "a" },
      { jsonrpc: "2.0", id: "x", method: "b" },
    ]);
    await p.stdin.cancel();
  },
});

Deno.test({
  name:
    "`createStdioTransport()` reports a malformed line through onerror, skips it and keeps reading",
  permissions: "none",
  async fn() {
    const p = piped();
    await p.transport.start();
    await p.write('not json\n{"hello":"world"}\n[1,2]\n\n');
    await p.write('{"jsonrpc":"2.0","method":"after"}\n');
    await p.end();
    await p.closed;
    assert.deepEqual(p.messages, [{ jsonrpc: "2.0", method: "after" }]);
    assert.equal(p.errors.length, 4);
    for (const e of p.errors) {
      assert.match(e, /^Skipped a malformed line from the server: /);
      assert.ok(e.length < 260, e);
    }
    assert.equal(p.closes(), 1);
    await p.stdin.cancel();
  },
});

Deno.test({
  name:
    "`createStdioTransport()` drops a line longer than maxLineBytes and recovers on the next line",
  permissions: "none",
  async fn() {
    const p = piped(64);
    await p.transport.start();
    await p.write(`{"jsonrpc":"2.0","method":"${"x".repeat(100)}"}\n`);
    await p.write('{"jsonrpc":"2.0","method":"ok"}\n');
    await p.end();
    await p.closed;
    assert.deepEqual(p.messages, [{ jsonrpc: "2.0", method: "ok" }]);
    assert.ok(p.errors.length >= 1);
    assert.equal(
      p.errors[0],
      "Dropped a line from the server as it exceeds 64 bytes",
    );
    await p.stdin.cancel();
  },
});

Deno.test({
  name:
    "`createStdioTransport()` fires onclose once on stdout EOF and closes stdin; send then rejects",
  permissions: "none",
  async fn() {
    const p = piped();
    await p.transport.start();
    const stdinText = readAll(p.stdin);
    await p.end();
    await p.closed;
    await p.transport.close();
    assert.equal(p.closes(), 1);
    assert.equal(await stdinText, "");
    await assert.rejects(
      p.transport.send({ jsonrpc: "2.0", method: "late" }),
      /Not connected/,
    );
  },
});

Deno.test({
  name:
    "`McpTransport.close()` closes stdin, stops reading stdout and fires onclose once",
  permissions: "none",
  async fn() {
    const p = piped();
    await p.transport.start();
    const stdinText = readAll(p.stdin);
    await p.transport.send({ jsonrpc: "2.0", id: 1, method: "ping" });
    await Promise.all([p.transport.close(), p.transport.close()]);
    assert.equal(p.closes(), 1);
    assert.equal(await stdinText, '{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    // stdout was cancelled: the server side sees its writes fail.
    await assert.rejects(p.write('{"jsonrpc":"2.0","method":"x"}\n'));
    assert.deepEqual(p.messages, []);
  },
});

Deno.test({
  name:
    "`createStdioTransport()` refuses a second start and a non-positive maxLineBytes; records the protocol version",
  permissions: "none",
  async fn() {
    assert.throws(() => piped(0), RangeError);
    const p = piped();
    await p.transport.start();
    await assert.rejects(p.transport.start(), TypeError);
    assert.equal(p.transport.protocolVersion, undefined);
    p.transport.setProtocolVersion?.("2025-11-25");
    assert.equal(p.transport.protocolVersion, "2025-11-25");
    await p.transport.close();
    await p.stdin.cancel();
  },
});

function collect(t: McpTransport, want = 0) {
  const messages: JsonRpcMessage[] = [];
  const errors: string[] = [];
  const closed = Promise.withResolvers<void>();
  const enough = Promise.withResolvers<void>();
  t.onmessage = (m) => {
    messages.push(m);
    if (messages.length === want) enough.resolve();
  };
  t.onerror = (e) => errors.push(e.message);
  t.onclose = () => closed.resolve();
  return { messages, errors, closed: closed.promise, enough: enough.promise };
}

Deno.test({
  name:
    "`createStdioTransport()` round-trips messages through a real pipe (`cat`), which exits on close",
  permissions: { run: true },
  async fn() {
    const child = createDenoSpawner().spawn("cat", {
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    });
    const t = createStdioTransport({
      stdin: child.stdin!,
      stdout: child.stdout!,
    });
    const sent: JsonRpcMessage[] = Array.from({ length: 200 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      method: "echo",
      params: { text: "ü".repeat(i * 10) },
    }));
    const got = collect(t, sent.length);
    await t.start();
    for (const m of sent) await t.send(m);
    await got.enough;
    assert.deepEqual(got.messages, sent);
    await t.close();
    await got.closed;
    assert.equal((await child.status).success, true);
    assert.deepEqual(got.errors, []);
  },
});

Deno.test({
  name:
    "`createStdioTransport()` parses a real child's split writes, skips its garbage, and closes once on its exit",
  permissions: { run: true, read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const script = `${dir}/child.js`;
      await Deno.writeTextFile(
        script,
        `const e = new TextEncoder();
         const w = (s) => Deno.stdout.writeSync(e.encode(s));
         w('garbage line\\n{"jsonrpc":"2.0",');
         w('"method":"split"}\\n{"jsonrpc":"2.0","id":7,');
         w('"result":{"ok":true}}\\n');`,
      );
      const child = createDenoSpawner().spawn(Deno.execPath(), {
        args: ["run", "--no-config", script],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      });
      const t = createStdioTransport({
        stdin: child.stdin!,
        stdout: child.stdout!,
      });
      const got = collect(t);
      await t.start();
      await got.closed;
      assert.deepEqual(got.messages, [
        { jsonrpc: "2.0", method: "split" },
        { jsonrpc: "2.0", id: 7, result: { ok: true } },
      ]);
      assert.equal(got.errors.length, 1);
      assert.equal((await child.status).success, true);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A byte stream (as a child's stdout is) serving `data` `step` bytes per read. */
function byteStream(
  data: Uint8Array,
  step: number,
): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (at >= data.length) {
        controller.close();
        request?.respond(0);
        return;
      }
      const view = request!.view! as Uint8Array;
      const n = Math.min(step, view.byteLength, data.length - at);
      view.set(data.subarray(at, at + n));
      at += n;
      request!.respond(n);
    },
  });
}

Deno.test({
  name:
    "`createStdioTransport()` reads a byte stream into one reused buffer without corrupting lines split across reads",
  permissions: "none",
  async fn() {
    const sent: JsonRpcMessage[] = Array.from({ length: 50 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      result: { text: `${i}:${"é✓".repeat(i * 37)}` },
    }));
    const data = enc.encode(sent.map((m) => JSON.stringify(m) + "\n").join(""));
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    // 997 bytes per read: every line spans reads, cut inside characters too.
    const t = createStdioTransport({
      stdin: toServer.writable,
      stdout: byteStream(data, 997),
    });
    const got = collect(t);
    await t.start();
    await got.closed;
    assert.deepEqual(got.messages, sent);
    assert.deepEqual(got.errors, []);
    await toServer.readable.cancel();
  },
});

Deno.test({
  name:
    "`createStdioTransport()` drops an over-long line spread over several reads once and keeps the lines around it",
  permissions: "none",
  async fn() {
    const data = enc.encode(
      '{"jsonrpc":"2.0","method":"a"}\n' +
        `{"jsonrpc":"2.0","method":"${"x".repeat(300)}"}\r\n` +
        '{"jsonrpc":"2.0","method":"b"}\n',
    );
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const t = createStdioTransport(
      { stdin: toServer.writable, stdout: byteStream(data, 40) },
      { maxLineBytes: 64 },
    );
    const got = collect(t);
    await t.start();
    await got.closed;
    assert.deepEqual(got.messages, [
      { jsonrpc: "2.0", method: "a" },
      { jsonrpc: "2.0", method: "b" },
    ]);
    assert.deepEqual(got.errors, [
      "Dropped a line from the server as it exceeds 64 bytes",
    ]);
    await toServer.readable.cancel();
  },
});
