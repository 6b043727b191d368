import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { MAX_HEAD_BYTES, unixRequest } from "./_unix_http.ts";

const NET = { read: true, write: true, net: true } as const;
const enc = new TextEncoder();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid_uhttp_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A raw server: reads one request head and answers with `answer`'s bytes
 * (then closes); resolves with the request's text.
 */
function rawServer(
  path: string,
  answer: (write: (s: string) => Promise<void>) => Promise<void>,
): Promise<string> {
  const listener = Deno.listen({ transport: "unix", path });
  return (async () => {
    const conn = await listener.accept();
    listener.close();
    let got = "";
    const buf = new Uint8Array(65536);
    while (!got.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    try {
      await answer(async (s) => {
        await conn.write(enc.encode(s));
      });
    } catch {
      // silent-ok: the client hung up (abort tests)
    }
    try {
      conn.close();
    } catch {
      // silent-ok: closed
    }
    return got;
  })();
}

Deno.test({
  name:
    "unixRequest sends one request per connection (connection: close, content-length) and reads a JSON answer",
  permissions: NET,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/s.sock`;
      const server = Deno.serve({ path, onListen() {} }, async (req) => {
        return Response.json({
          method: req.method,
          host: req.headers.get("host"),
          target: `${new URL(req.url).pathname}${new URL(req.url).search}`,
          auth: req.headers.get("authorization"),
          body: await req.text(),
        }, { status: 201, headers: { "x-answer": "yes" } });
      });
      try {
        const res = await unixRequest(path, {
          method: "POST",
          target: "/v1/sessions?a=1",
          host: "astrid",
          headers: { authorization: "Bearer t", "content-type": "text/plain" },
          body: "héllo",
        });
        assert.equal(res.status, 201);
        assert.equal(res.headers["x-answer"], "yes");
        assert.deepEqual(JSON.parse(await res.text()), {
          method: "POST",
          host: "astrid",
          target: "/v1/sessions?a=1",
          auth: "Bearer t",
          body: "héllo",
        });
      } finally {
        await server.shutdown();
      }
      const seen = rawServer(path, (w) => w("HTTP/1.1 204 No Content\r\n\r\n"));
      const res = await unixRequest(path, { method: "GET", target: "/x" });
      assert.equal(res.status, 204);
      assert.equal(await res.text(), "");
      const head = (await seen).toLowerCase();
      assert.ok(head.startsWith("get /x http/1.1\r\n"), head);
      assert.ok(head.includes("\r\nconnection: close\r\n"), head);
    }),
});

Deno.test({
  name:
    "unixRequest streams a chunked body as it arrives (an event before the next one is sent)",
  permissions: NET,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/s.sock`;
      const next = Promise.withResolvers<void>();
      const server = Deno.serve({ path, onListen() {} }, () => {
        const body = new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(enc.encode("data: one\n\n"));
            await next.promise;
            c.enqueue(enc.encode("data: two\n\n"));
            c.close();
          },
        });
        return new Response(body, {
          headers: { "content-type": "text/event-stream" },
        });
      });
      try {
        const res = await unixRequest(path, { method: "GET", target: "/" });
        assert.equal(res.headers["transfer-encoding"], "chunked");
        const got: string[] = [];
        for await (const piece of res.body) {
          got.push(new TextDecoder().decode(piece));
          // The second piece is only sent once the first was read here.
          if (got.length === 1) next.resolve();
        }
        assert.deepEqual(got.join(""), "data: one\n\ndata: two\n\n");
        assert.equal(got[0], "data: one\n\n");
      } finally {
        next.resolve();
        await server.shutdown();
      }
    }),
});

Deno.test({
  name:
    "unixRequest refuses a request that could split or smuggle requests (INVALID_INPUT) before connecting",
  permissions: NET,
  fn: () =>
    withDir(async (dir) => {
      // No socket: a connection attempt would fail with NOT_FOUND instead.
      const path = `${dir}/none.sock`;
      const attacks = [
        { method: "GET", target: "/a HTTP/1.1\r\nx: y" },
        { method: "GET", target: "/a b" },
        { method: "GET", target: "http://evil/" },
        { method: "GET /x HTTP/1.1\r\n", target: "/" },
        { method: "GET", target: "/", host: "a\r\nx: y" },
        { method: "GET", target: "/", headers: { a: "b\r\nx: y" } },
        { method: "GET", target: "/", headers: { "a\r\nx": "y" } },
        { method: "GET", target: "/", headers: { "content-length": "0" } },
        { method: "GET", target: "/", headers: { "Transfer-Encoding": "x" } },
        { method: "GET", target: "/", headers: { host: "evil" } },
        { method: "GET", target: "/", headers: { connection: "keep-alive" } },
      ];
      for (const req of attacks) {
        await assert.rejects(
          unixRequest(path, req),
          (e) => KernelError.is(e, "INVALID_INPUT"),
          JSON.stringify(req),
        );
      }
    }),
});

Deno.test({
  name:
    "unixRequest rejects malformed answers with HOST_IO: status line, oversized head, chunk size, early end",
  permissions: NET,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/s.sock`;
      const cases: [
        string,
        (w: (s: string) => Promise<void>) => Promise<void>,
      ][] = [
        ["status line", (w) => w("SSH-2.0-OpenSSH\r\n\r\n")],
        ["head size", async (w) => {
          await w("HTTP/1.1 200 OK\r\n");
          const line = `x: ${"a".repeat(1000)}\r\n`;
          for (let n = 0; n <= MAX_HEAD_BYTES; n += line.length) await w(line);
        }],
        ["header line", (w) => w("HTTP/1.1 200 OK\r\nno colon\r\n\r\n")],
        [
          "content-length",
          (w) => w("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"),
        ],
      ];
      for (const [what, answer] of cases) {
        const served = rawServer(path, answer);
        await assert.rejects(
          unixRequest(path, { method: "GET", target: "/" }),
          (e) => KernelError.is(e, "HOST_IO"),
          what,
        );
        await served;
      }
      const bodies: [string, string][] = [
        [
          "chunk size",
          "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        ],
        [
          "early end",
          "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc",
        ],
        [
          "chunk end",
          "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        ],
      ];
      for (const [what, answer] of bodies) {
        const served = rawServer(path, (w) => w(answer));
        const res = await unixRequest(path, { method: "GET", target: "/" });
        await assert.rejects(
          res.text(),
          (e) => KernelError.is(e, "HOST_IO"),
          what,
        );
        await served;
      }
      // A well-formed chunked body with an extension and a trailer.
      const served = rawServer(
        path,
        (w) =>
          w(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nt: 1\r\n\r\n",
          ),
      );
      const ok = await unixRequest(path, { method: "GET", target: "/" });
      assert.equal(await ok.text(), "abcde");
      await served;
    }),
});

Deno.test({
  name:
    "unixRequest: aborting mid-body ends the read with ABORTED and closes the connection",
  permissions: NET,
  fn: () =>
    withDir(async (dir) => {
      const path = `${dir}/s.sock`;
      const hungUp = Promise.withResolvers<void>();
      const served = rawServer(path, async (w) => {
        await w("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        await w("3\r\nabc\r\n");
        // Keeps writing until the client's close makes a write fail.
        try {
          for (;;) {
            await new Promise((r) => setTimeout(r, 5));
            await w("1\r\nx\r\n");
          }
        } finally {
          hungUp.resolve();
        }
      });
      const ac = new AbortController();
      const res = await unixRequest(path, {
        method: "GET",
        target: "/",
        signal: ac.signal,
      });
      await assert.rejects(
        (async () => {
          for await (const _ of res.body) ac.abort();
        })(),
        (e) => KernelError.is(e, "ABORTED"),
      );
      await hungUp.promise;
      await served;
      await assert.rejects(
        unixRequest(path, {
          method: "GET",
          target: "/",
          signal: AbortSignal.abort(),
        }),
        (e) => KernelError.is(e, "ABORTED"),
      );
    }),
});
