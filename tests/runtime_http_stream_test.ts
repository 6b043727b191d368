/**
 * End-to-end in the js engine: a capsule reads an HTTP stream through
 * `host.http.stream()` while the server still holds the connection, a byte
 * cap stops it with its code, and a stream left open is closed when the
 * invoke that opened it ends (another invoke cannot read it).
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertRefused,
  makeRuntime,
  PERMS,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

const HTTP_PERMS: Deno.PermissionOptionsObject = {
  ...PERMS,
  net: ["127.0.0.1"],
};

/**
 * `/sse` sends one event and holds the connection until `/ack` is asked
 * for; `/hold` sends one event and never ends (until cancelled).
 */
function sseServer() {
  const enc = new TextEncoder();
  let ack!: () => void;
  const acked = new Promise<void>((r) => ack = r);
  let cancelled!: () => void;
  const cancel = new Promise<void>((r) => cancelled = r);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ack") {
        ack();
        return new Response("ok");
      }
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(enc.encode("data: one\n\n"));
          if (path === "/hold") return;
          await acked;
          c.enqueue(enc.encode("data: two\n\n"));
          c.close();
        },
        cancel() {
          cancelled();
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream" },
      });
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    cancel,
    close: async () => {
      ack();
      await server.shutdown();
    },
  };
}

async function boot(port: number): Promise<RuntimeFixture> {
  const f = await makeRuntime({
    config: "[security]\nallow_private_networks = true\n",
  });
  try {
    await f.install({
      name: "js-stream",
      engine: "js",
      capabilities: [`net = ["127.0.0.1:${port}"]`],
    });
    assert.deepEqual((await f.boot()).loaded, ["js-stream"]);
  } catch (err) {
    await f.close();
    throw err;
  }
  return f;
}

Deno.test({
  name:
    "runtime (js): host.http.stream() delivers an event to the capsule while the server holds the connection; max_bytes stops it with ABI_STREAM_TOO_LARGE",
  permissions: HTTP_PERMS,
  async fn() {
    const server = sseServer();
    try {
      const f = await boot(server.port);
      try {
        // The server sends "two" only after the capsule acknowledged "one".
        assert.deepEqual(
          assertOk(
            await f.hostCall("js-stream", "http_stream", {
              url: `${server.base}/sse`,
              ack: `${server.base}/ack`,
            }),
          ),
          { status: 200, events: ["one", "two"] },
        );
        assertRefused(
          await f.hostCall("js-stream", "http_stream", {
            url: `${server.base}/hold`,
            max_bytes: 4,
          }),
          "ABI_STREAM_TOO_LARGE",
        );
        const decided = await f.audit("js-stream", "allowed");
        assert.ok(
          decided.some((e) =>
            (e.action as { type?: string }).type === "capsule_http_request"
          ),
        );
      } finally {
        await f.close();
      }
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "runtime (js): a stream left open is closed when its invoke ends — the server sees the cancel, a later invoke gets NOT_FOUND",
  permissions: HTTP_PERMS,
  async fn() {
    const server = sseServer();
    try {
      const f = await boot(server.port);
      try {
        const opened = assertOk(
          await f.hostCall("js-stream", "http_stream_leave", {
            url: `${server.base}/hold`,
          }),
        ) as { stream_id: string };
        await server.cancel; // the invoke ended: the kernel cancelled it
        assertRefused(
          await f.hostCall("js-stream", "http_stream_read", {
            stream_id: opened.stream_id,
          }),
          "NOT_FOUND",
        );
      } finally {
        await f.close();
      }
    } finally {
      await server.close();
    }
  },
});
