import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import { type AbiFixture, makeAbi } from "./_abi_fixture_test.ts";
import { MAX_OPEN_STREAMS } from "./_http_streams.ts";

const P = { read: true, write: true, env: true, run: true, net: true } as const;
const code = (c: string) => (e: unknown) => KernelError.is(e, c as never);

/**
 * A loopback server whose responses the test drives: `/hold` sends "first"
 * and holds the connection until `release()`; `/big` sends 64 KiB; `/utf8`
 * splits a multi-byte character across two writes.
 */
function holdingServer() {
  const seen: { path: string; authorization: string | null }[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let cancelled = false;
  const enc = new TextEncoder();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      seen.push({ path, authorization: req.headers.get("authorization") });
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          if (path === "/big") {
            c.enqueue(new Uint8Array(64 * 1024));
            c.close();
            return;
          }
          if (path === "/utf8") {
            const bytes = enc.encode("é€");
            c.enqueue(bytes.slice(0, 1));
            await new Promise((r) => setTimeout(r, 10));
            c.enqueue(bytes.slice(1));
            c.close();
            return;
          }
          c.enqueue(enc.encode("first"));
          await released;
          if (!cancelled) {
            c.enqueue(enc.encode("second"));
            c.close();
          }
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream" },
      });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    seen,
    release,
    get cancelled() {
      return cancelled;
    },
    async close() {
      release();
      await server.shutdown();
    },
  };
}

type Server = ReturnType<typeof holdingServer>;

async function withStreams(
  fn: (f: AbiFixture, s: Server) => Promise<void>,
  grants: { net?: string[]; secrets?: string[] } = {},
): Promise<void> {
  const s = holdingServer();
  const port = new URL(s.base).port;
  const f = await makeAbi({
    policy: { allowPrivateNetworks: true },
    grants: {
      fs: { net: grants.net ?? [`127.0.0.1:${port}`], ...grants },
      other: { net: [`127.0.0.1:${port}`] },
    },
  });
  try {
    await fn(f, s);
  } finally {
    await f.dispose();
    await s.close();
  }
}

/** One invoke of capsule `capsule`: its calls share a signal that ends it. */
function invoke(f: AbiFixture, capsule = "fs") {
  const ac = new AbortController();
  const d = f.dispatcher(capsule);
  return {
    call: (fn: string, payload: JsonValue) =>
      d.call(fn, payload, { signal: ac.signal }),
    end: () => ac.abort(),
    unload: () => d.unload(),
    dispatcher: d,
  };
}

type Opened = { stream_id: string; status: number };
type Read = { chunk: string; done: boolean };

Deno.test({
  name:
    "host call http_stream_read delivers a chunk while the server still holds the connection, then the rest and done",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        const o = await inv.call("http_stream_open", {
          url: `${s.base}/hold`,
        }) as Opened;
        assert.equal(o.status, 200);
        const id = { stream_id: o.stream_id };
        // The server has not finished: "first" arrives before release().
        assert.deepEqual(await inv.call("http_stream_read", id), {
          chunk: "first",
          done: false,
        });
        s.release();
        let rest = "";
        while (true) {
          const r = await inv.call("http_stream_read", id) as Read;
          rest += r.chunk;
          if (r.done) break;
        }
        assert.equal(rest, "second");
        assert.deepEqual(await inv.call("http_stream_close", id), { ok: true });
      } finally {
        inv.end();
        inv.unload();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_read decodes a UTF-8 character split across network chunks",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        const o = await inv.call("http_stream_open", {
          url: `${s.base}/utf8`,
        }) as Opened;
        let text = "";
        while (true) {
          const r = await inv.call("http_stream_read", {
            stream_id: o.stream_id,
          }) as Read;
          text += r.chunk;
          if (r.done) break;
        }
        assert.equal(text, "é€");
      } finally {
        inv.end();
        inv.unload();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_read stops a stream past max_bytes with ABI_STREAM_TOO_LARGE and forgets its id",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        const o = await inv.call("http_stream_open", {
          url: `${s.base}/big`,
          max_bytes: 1024,
        }) as Opened;
        const id = { stream_id: o.stream_id };
        await assert.rejects(
          inv.call("http_stream_read", id),
          code("ABI_STREAM_TOO_LARGE"),
        );
        await assert.rejects(
          inv.call("http_stream_read", id),
          code("NOT_FOUND"),
        );
      } finally {
        inv.end();
        inv.unload();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_read stops a stream past timeout_ms (kernel clock) with ABI_STREAM_TIMEOUT and forgets its id",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        const o = await inv.call("http_stream_open", {
          url: `${s.base}/hold`,
          timeout_ms: 1_000,
        }) as Opened;
        const id = { stream_id: o.stream_id };
        assert.equal(
          (await inv.call("http_stream_read", id) as Read).chunk,
          "first",
        );
        const pending = assert.rejects(
          inv.call("http_stream_read", id),
          code("ABI_STREAM_TIMEOUT"),
        );
        await f.clock.advance(1_000);
        await pending;
        await assert.rejects(
          inv.call("http_stream_read", id),
          code("NOT_FOUND"),
        );
      } finally {
        inv.end();
        inv.unload();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_open to a host outside the grant is refused and audited before any connection",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        await assert.rejects(
          inv.call("http_stream_open", { url: `${s.base}/hold` }),
          code("MANIFEST_DENIED"),
        );
        assert.equal(s.seen.length, 0, "no connection was made");
        await f.gate.flush();
        const d = (await f.audit.query({ principal: "default" as PrincipalId }))
          .filter((e) => e.capsule === "fs" && e.decision !== "info");
        assert.deepEqual(d.map((e) => e.decision), ["denied"]);
      } finally {
        inv.end();
        inv.unload();
      }
    }, { net: ["api.example.com"] });
  },
});

Deno.test({
  name:
    "host call http_stream_open substitutes a secret placeholder after its own secret_use decision; the guest never sees the value",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      await f.secrets.set("fs" as never, "API_KEY", "sk-real");
      const inv = invoke(f);
      try {
        const o = await inv.call("http_stream_open", {
          url: `${s.base}/big`,
          headers: { authorization: "Bearer {{secret:API_KEY}}" },
        }) as Opened;
        assert.equal(
          s.seen[0]?.authorization,
          "Bearer sk-real",
        );
        assert.ok(!JSON.stringify(o).includes("sk-real"));
        await f.gate.flush();
        const actions = (await f.audit.query({
          principal: "default" as PrincipalId,
        })).filter((e) => e.decision === "allowed")
          .map((e) => (e.action as { type: string }).type);
        assert.deepEqual(actions, ["capsule_http_request", "secret_use"]);
      } finally {
        inv.end();
        inv.unload();
      }
    }, { secrets: ["API_KEY"] });
  },
});

Deno.test({
  name:
    "host call http_stream_read refuses another capsule's stream id (NOT_FOUND) and leaves the stream to its owner",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const mine = invoke(f, "fs");
      const theirs = invoke(f, "other");
      try {
        const o = await mine.call("http_stream_open", {
          url: `${s.base}/hold`,
        }) as Opened;
        const id = { stream_id: o.stream_id };
        await assert.rejects(
          theirs.call("http_stream_read", id),
          code("NOT_FOUND"),
        );
        await assert.rejects(
          theirs.call("http_stream_close", id),
          code("NOT_FOUND"),
        );
        assert.equal(
          (await mine.call("http_stream_read", id) as Read).chunk,
          "first",
        );
      } finally {
        mine.end();
        theirs.end();
        mine.unload();
        theirs.unload();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_* streams are closed when the invoke that opened them ends: the server sees the cancel, the id is gone",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const first = invoke(f);
      const o = await first.call("http_stream_open", {
        url: `${s.base}/hold`,
      }) as Opened;
      const id = { stream_id: o.stream_id };
      assert.equal(
        (await first.call("http_stream_read", id) as Read).chunk,
        "first",
      );
      first.end();
      // The next invoke of the same capsule instance cannot reach it.
      const next = {
        call: (fn: string, p: JsonValue) =>
          first.dispatcher.call(fn, p, {
            signal: new AbortController().signal,
          }),
      };
      await assert.rejects(
        next.call("http_stream_read", id),
        code("NOT_FOUND"),
      );
      for (let i = 0; i < 50 && !s.cancelled; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(s.cancelled, true, "the server saw the stream cancelled");
      first.unload();
    });
  },
});

Deno.test({
  name:
    "host call http_stream_open refuses past the open-stream cap with ABI_STREAM_LIMIT before connecting; unload closes them all",
  permissions: P,
  async fn() {
    await withStreams(async (f, s) => {
      const inv = invoke(f);
      try {
        for (let i = 0; i < MAX_OPEN_STREAMS; i++) {
          await inv.call("http_stream_open", { url: `${s.base}/hold` });
        }
        await assert.rejects(
          inv.call("http_stream_open", { url: `${s.base}/hold` }),
          code("ABI_STREAM_LIMIT"),
        );
        assert.equal(s.seen.length, MAX_OPEN_STREAMS);
      } finally {
        inv.unload();
        inv.end();
      }
    });
  },
});

Deno.test({
  name:
    "host call http_stream_open to a granted host that refuses the connection fails with HOST_IO",
  permissions: P,
  async fn() {
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = closed.addr.port;
    closed.close();
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: [`127.0.0.1:${port}`] } },
    });
    const inv = invoke(f);
    try {
      await assert.rejects(
        inv.call("http_stream_open", { url: `http://127.0.0.1:${port}/` }),
        code("HOST_IO"),
      );
    } finally {
      inv.end();
      inv.unload();
      await f.dispose();
    }
  },
});
