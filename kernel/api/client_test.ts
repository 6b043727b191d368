import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { ApiClient } from "./client.ts";

const NET = { read: true, write: true, net: true } as const;

/** A real HTTP server on a unix socket, with the daemon's error shape. */
async function withSocketServer(
  fn: (socket: string, hits: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid_client_" });
  const socket = `${dir}/s.sock`;
  const hits: string[] = [];
  const server = Deno.serve({ path: socket, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    hits.push(`${req.method} ${url.pathname}`);
    if (req.headers.get("authorization") !== "Bearer tok") {
      return Response.json(
        { error: { code: "API_UNAUTHORIZED", message: "bad token" } },
        { status: 401 },
      );
    }
    if (url.pathname === "/v1/status") {
      return Response.json({ version: "x", body: await req.text() });
    }
    if (url.pathname === "/v1/sessions/s1/prompt") {
      const { text } = await req.json();
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc.encode(`event: a\ndata: {"type":"echo","text":`));
            c.enqueue(enc.encode(`${JSON.stringify(text)}}\n\n`));
            c.enqueue(enc.encode(`data: {"type":"final"}\n\n`));
            c.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (url.pathname === "/v1/audit/export") {
      return new Response("x".repeat(1 << 20));
    }
    return Response.json(
      { error: { code: "NOT_FOUND", message: "no such route" } },
      { status: 404 },
    );
  });
  try {
    await fn(socket, hits);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "ApiClient over a unix socket: call() parses JSON, stream() yields the SSE events, errors keep the daemon's code",
  permissions: NET,
  fn: () =>
    withSocketServer(async (socket) => {
      using client = new ApiClient({ socket }, "tok");
      assert.deepEqual(await client.call("status"), { version: "x", body: "" });
      const events = [];
      for await (
        const e of client.stream("sessionPrompt", {
          params: { id: "s1" },
          body: { text: "hi" },
        })
      ) events.push(e);
      assert.deepEqual(events, [{ type: "echo", text: "hi" }, {
        type: "final",
      }]);
      await assert.rejects(
        client.call("sessionsShow", { params: { id: "nope" } }),
        (e) => KernelError.is(e, "NOT_FOUND") && e.message === "no such route",
      );
      using wrong = new ApiClient({ socket }, "other");
      await assert.rejects(
        wrong.call("status"),
        (e) => KernelError.is(e, "API_UNAUTHORIZED"),
      );
    }),
});

Deno.test({
  name:
    "ApiClient over a unix socket: raw() streams a Response, and a body cancelled unread closes its connection",
  permissions: NET,
  fn: () =>
    withSocketServer(async (socket) => {
      using client = new ApiClient({ socket }, "tok");
      const read = await client.raw("auditExport");
      assert.equal((await read.text()).length, 1 << 20);
      // A raw peer: answers, then waits for the client to hang up.
      const peer = `${socket}.peer`;
      const listener = Deno.listen({ transport: "unix", path: peer });
      const hungUp = (async () => {
        const conn = await listener.accept();
        listener.close();
        const buf = new Uint8Array(65536);
        await conn.read(buf);
        await conn.write(
          new TextEncoder().encode(
            "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nxx",
          ),
        );
        const timeout = setTimeout(() => conn.close(), 5000);
        const end = await conn.read(buf).catch(() => "timed out");
        clearTimeout(timeout);
        try {
          conn.close();
        } catch {
          // silent-ok: closed by the timeout
        }
        return end;
      })();
      using other = new ApiClient({ socket: peer }, "tok");
      const unread = await other.raw("auditExport");
      await unread.body?.cancel();
      assert.equal(await hungUp, null, "the client closed the connection");
      const status = await client.raw("status");
      assert.equal(status.headers.get("content-type"), "application/json");
      assert.deepEqual(await status.json(), { version: "x", body: "" });
    }),
});

Deno.test({
  name:
    "ApiClient over a unix socket: no socket is DAEMON_UNAVAILABLE, a fired signal is ABORTED",
  permissions: NET,
  fn: () =>
    withSocketServer(async (socket) => {
      using gone = new ApiClient({ socket: `${socket}.none` }, "tok");
      await assert.rejects(
        gone.call("status"),
        (e) => KernelError.is(e, "DAEMON_UNAVAILABLE"),
      );
      using client = new ApiClient({ socket }, "tok");
      await assert.rejects(
        client.call("status", { signal: AbortSignal.abort() }),
        (e) => KernelError.is(e, "ABORTED"),
      );
    }),
});
