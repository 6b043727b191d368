import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { createDenoNet } from "./deno_net.ts";

const NET = { read: true, write: true, net: true } as const;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid_net_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "`createDenoNet().serveUnix()` round-trips HTTP over a real unix socket with mode 0600",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const path = `${dir}/system.sock`;
      const server = await net.serveUnix(path, async (req) => {
        const body = await req.text();
        return Response.json({
          method: req.method,
          path: new URL(req.url).pathname,
          body,
        });
      });
      assert.equal(server.path, path);
      const info = await Deno.lstat(path);
      assert.deepEqual([info.isFile, info.isDirectory, info.mode! & 0o777], [
        false,
        false,
        0o600,
      ]);
      const client = net.unixHttpClient(path);
      try {
        const res = await client.request({
          method: "POST",
          target: "/v1/status",
          body: "hi",
        });
        assert.deepEqual([res.status, JSON.parse(await res.text())], [200, {
          method: "POST",
          path: "/v1/status",
          body: "hi",
        }]);
      } finally {
        client.close();
      }
      await server.shutdown();
      await server.finished;
      assert.equal(
        await Deno.lstat(path).then(() => "present", () => "gone"),
        "gone",
      );
    }),
});

Deno.test({
  name: "`createDenoNet().serveUnix()` honours a custom socket mode",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const server = await net.serveUnix(
        `${dir}/s.sock`,
        () => new Response(),
        { mode: 0o660 },
      );
      try {
        assert.equal((await Deno.lstat(`${dir}/s.sock`)).mode! & 0o777, 0o660);
      } finally {
        await server.shutdown();
      }
    }),
});

Deno.test({
  name:
    "`createDenoNet().serveUnix()` answers 500 without detail when the handler throws, and logs it",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const logger = new MemoryLogger();
      const net = createDenoNet({ logger });
      const server = await net.serveUnix(`${dir}/s.sock`, () => {
        throw new Error("secret detail /home/u/.astrid");
      });
      const client = net.unixHttpClient(`${dir}/s.sock`);
      try {
        const res = await client.request({ method: "GET", target: "/" });
        assert.deepEqual([res.status, await res.text()], [
          500,
          "Internal Server Error",
        ]);
      } finally {
        client.close();
        await server.shutdown();
      }
      assert.deepEqual(logger.messages("error"), ["HTTP handler failed"]);
      assert.equal(
        (logger.records[0]?.fields.error as Error).message,
        "secret detail /home/u/.astrid",
      );
    }),
});

Deno.test({
  name: "`createDenoNet().serveUnix()` stops when its signal fires",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const ac = new AbortController();
      const server = await net.serveUnix(
        `${dir}/s.sock`,
        () => new Response(),
        { signal: ac.signal },
      );
      ac.abort();
      await server.finished;
      await assert.rejects(
        net.serveUnix(`${dir}/t.sock`, () => new Response(), {
          signal: AbortSignal.abort(),
        }),
        (e) => KernelError.is(e, "ABORTED"),
      );
    }),
});

Deno.test({
  name:
    "`createDenoNet().serveUnix()` refuses to replace an existing file (HOST_IO) or use a missing dir (NOT_FOUND)",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      await Deno.writeTextFile(`${dir}/taken`, "keep me");
      await assert.rejects(
        net.serveUnix(`${dir}/taken`, () => new Response()),
        (e) => KernelError.is(e, "HOST_IO"),
      );
      assert.equal(await Deno.readTextFile(`${dir}/taken`), "keep me");
      await assert.rejects(
        net.serveUnix(`${dir}/missing/s.sock`, () => new Response()),
        (e) => KernelError.is(e, "NOT_FOUND"),
      );
    }),
});

Deno.test({
  name:
    "`createDenoNet().unixHttpClient()` fails with NOT_FOUND without a socket and HOST_IO when nobody serves it",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const none = net.unixHttpClient(`${dir}/none.sock`);
      await assert.rejects(
        none.request({ method: "GET", target: "/" }),
        (e) => KernelError.is(e, "NOT_FOUND"),
      );
      // A stale socket file (a hard link outlives the listener's cleanup):
      // it exists, nothing listens — refused.
      const listening = `${dir}/l.sock`;
      const stale = `${dir}/stale.sock`;
      const l = Deno.listen({ transport: "unix", path: listening });
      await Deno.link(listening, stale);
      l.close();
      await assert.rejects(
        net.unixHttpClient(stale).request({ method: "GET", target: "/" }),
        (e) => KernelError.is(e, "HOST_IO"),
      );
    }),
});

Deno.test({
  name:
    "`createDenoNet()` maps a missing --allow-net to HOST_PERMISSION_DENIED",
  permissions: "none",
  async fn() {
    const net = createDenoNet({ logger: new MemoryLogger() });
    await assert.rejects(
      net.serveUnix("/tmp/astrid-denied.sock", () => new Response()),
      (e) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
    await assert.rejects(
      net.unixHttpClient("/tmp/astrid-denied.sock").request({
        method: "GET",
        target: "/",
      }),
      (e) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
    await assert.rejects(
      net.fetch("http://127.0.0.1:8799/"),
      (e) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
  },
});

Deno.test({
  name: "`createDenoNet().fetch()` is the web fetch",
  permissions: "none",
  async fn() {
    const res = await createDenoNet({ logger: new MemoryLogger() }).fetch(
      "data:text/plain,hello",
    );
    assert.equal(await res.text(), "hello");
  },
});

Deno.test({
  name:
    "`createDenoNet().listenUnix()` accepts raw stream connections on a 0600 socket and removes it on close",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const path = `${dir}/raw.sock`;
      const listener = await net.listenUnix(path);
      assert.equal(listener.path, path);
      assert.equal((await Deno.lstat(path)).mode! & 0o777, 0o600);
      const echoed = (async () => {
        for await (const conn of listener.accept()) {
          const reader = conn.readable.getReader();
          const { value } = await reader.read();
          reader.releaseLock();
          const writer = conn.writable.getWriter();
          await writer.write(value!);
          writer.releaseLock();
          conn.close();
          conn.close();
          return;
        }
      })();
      const client = await Deno.connect({ transport: "unix", path });
      await client.write(new TextEncoder().encode("ping\n"));
      const buf = new Uint8Array(16);
      const n = await client.read(buf);
      client.close();
      await echoed;
      assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "ping\n");
      await listener.close();
      await listener.close();
      assert.equal(
        await Deno.lstat(path).then(() => "present", () => "gone"),
        "gone",
      );
      for await (const _ of listener.accept()) {
        assert.fail("accepted after close");
      }
    }),
});

Deno.test({
  name:
    "`createDenoNet().listenUnix()` refuses an existing file and stops accepting when aborted",
  permissions: NET,
  fn: () =>
    withTempDir(async (dir) => {
      const net = createDenoNet({ logger: new MemoryLogger() });
      const taken = `${dir}/taken.sock`;
      await Deno.writeTextFile(taken, "x");
      await assert.rejects(
        net.listenUnix(taken),
        (e: unknown) => e instanceof KernelError && e.code === "HOST_IO",
      );
      const ac = new AbortController();
      const listener = await net.listenUnix(`${dir}/a.sock`, {
        signal: ac.signal,
      });
      const accepted: unknown[] = [];
      const loop = (async () => {
        for await (const c of listener.accept()) accepted.push(c);
      })();
      ac.abort();
      await loop;
      assert.equal(accepted.length, 0);
      await listener.close();
      assert.equal(
        await Deno.lstat(`${dir}/a.sock`).then(() => "present", () => "gone"),
        "gone",
      );
    }),
});
