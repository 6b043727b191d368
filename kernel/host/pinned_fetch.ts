/**
 * `fetch` to a pinned address: the HTTP request for `url` goes over a TCP
 * connection to exactly `address` (the one the SSRF check approved), never
 * to whatever the name resolves to a moment later. TLS keeps the URL's host
 * name for SNI and certificate verification, and the `Host` header is the
 * URL's.
 *
 * How: Deno's `fetch` cannot be told which address to connect to (it
 * resolves the name itself and ignores a `Host` header), but it can send
 * its request through a forward proxy on a Unix socket. Each call opens a
 * one-shot proxy in-process: it accepts the request for `url` only (any
 * other target is answered 502), connects to `address`, starts TLS for
 * `https:`, rewrites the request line to origin form, and pipes the bytes.
 * The socket lives in a private directory (`ASTRID_HOME/run`) under a fixed
 * slot name (`f-<n>.sock`, `core/socket_slots.ts`: the daemon's Deno flags
 * allow exactly those paths), is removed when the response ends, and the
 * proxy serves nothing else.
 *
 * @module
 */
import { claimSocketSlot } from "../core/socket_slots.ts";
import { listenUnixReclaiming } from "./_unix_listen.ts";

/** Options of {@linkcode createPinnedFetch}. */
export interface PinnedFetchOptions {
  /** A private directory for the per-call proxy sockets (e.g. `ASTRID_HOME/run`). */
  readonly socketDir: string;
  /** Extra trusted root certificates (PEM), for tests. */
  readonly caCerts?: readonly string[];
}

/** What one pinned request sends. */
export interface PinnedInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/** A fetch bound to an address. */
export type PinnedFetch = (
  url: URL,
  init: PinnedInit,
  pin: { readonly address: string },
) => Promise<Response>;

const MAX_HEAD = 64 * 1024;
const UTF8 = new TextEncoder();

/**
 * Builds a fetch that connects to a given address.
 *
 * @param options Where the per-call sockets live.
 * @returns The pinned fetch; redirects are returned, not followed.
 *
 * @example Reach a server by a name that does not resolve
 * ```ts ignore
 * const fetchPinned = createPinnedFetch({ socketDir: "/run/astrid" });
 * await fetchPinned(new URL("http://api.invalid:8080/"), { method: "GET", headers: {}, signal }, { address: "127.0.0.1" });
 * ```
 */
export function createPinnedFetch(options: PinnedFetchOptions): PinnedFetch {
  return async (url, init, pin) => {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Cannot pin a ${url.protocol} URL`);
    }
    // A fixed slot name: the daemon's Deno flags allow exactly those paths.
    const slot = await claimSocketSlot(
      options.socketDir,
      "fetch",
      listenUnixReclaiming,
    );
    const { path, value: listener } = slot;
    let client: Deno.HttpClient;
    try {
      client = Deno.createHttpClient({
        proxy: { transport: "unix", path },
        http2: false,
      });
    } catch (err) {
      listener.close();
      await Deno.remove(path).catch(() => {/* silent-ok: already gone */});
      slot.release();
      throw err;
    }
    const conns = new Set<Deno.Conn>();
    let closed = false;
    const cleanup = async () => {
      if (closed) return;
      closed = true;
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // silent-ok: already closed by the other side
        }
      }
      try {
        listener.close();
      } catch {
        // silent-ok: already closed
      }
      client.close();
      await Deno.remove(path).catch(() => {/* silent-ok: already gone */});
      slot.release();
    };
    const serving = (async () => {
      for await (const conn of listener) {
        conns.add(conn);
        void proxy(conn, url, pin.address, options, conns).catch(() => {
          // silent-ok: closing the connection makes the fetch fail with it
          try {
            conn.close();
          } catch {
            // silent-ok: already closed
          }
        });
      }
    })().catch(() => {/* silent-ok: the listener was closed by cleanup */});
    try {
      const res = await fetch(url, {
        method: init.method,
        headers: init.headers,
        redirect: "manual",
        signal: init.signal,
        client,
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      init.signal.addEventListener("abort", () => void cleanup(), {
        once: true,
      });
      if (!res.body) {
        await cleanup();
        return res;
      }
      // The proxy lives until the body is read to the end, fails or is cancelled.
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              controller.close();
              await cleanup();
            } else controller.enqueue(value);
          } catch (err) {
            await cleanup();
            controller.error(err);
          }
        },
        async cancel(reason) {
          await reader.cancel(reason).catch(() => {
            // silent-ok: the response is being dropped anyway
          });
          await cleanup();
        },
      });
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } catch (err) {
      await cleanup();
      await serving;
      throw err;
    }
  };
}

async function readHead(
  conn: Deno.Conn,
): Promise<{ head: string; rest: Uint8Array } | null> {
  const buf = new Uint8Array(MAX_HEAD);
  let n = 0;
  while (n < MAX_HEAD) {
    const got = await conn.read(buf.subarray(n));
    if (got === null) return null;
    n += got;
    const text = new TextDecoder("latin1").decode(buf.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      return { head: text.slice(0, end + 4), rest: buf.slice(end + 4, n) };
    }
  }
  return null;
}

async function proxy(
  conn: Deno.Conn,
  url: URL,
  address: string,
  options: PinnedFetchOptions,
  conns: Set<Deno.Conn>,
): Promise<void> {
  const got = await readHead(conn);
  const line = got?.head.slice(0, got.head.indexOf("\r\n")) ?? "";
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(line);
  let target: URL | null = null;
  try {
    target = m ? new URL(m[2]!) : null;
  } catch {
    target = null; // silent-ok: answered 502 below
  }
  if (!got || !m || !target || target.origin !== url.origin) {
    await writeAll(
      conn,
      UTF8.encode("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"),
    ).catch(() => {/* silent-ok: the client is gone */});
    conn.close();
    conns.delete(conn);
    return;
  }
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let upstream: Deno.Conn;
  try {
    const tcp = await Deno.connect({ hostname: address, port });
    conns.add(tcp);
    upstream = url.protocol === "https:"
      ? await Deno.startTls(tcp, {
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        ...(options.caCerts ? { caCerts: [...options.caCerts] } : {}),
      })
      : tcp;
    if (url.protocol === "https:") {
      await (upstream as Deno.TlsConn).handshake();
    }
  } catch (err) {
    // The fetch sees a failed request, never a connection to anything else.
    conn.close();
    conns.delete(conn);
    throw err;
  }
  conns.add(upstream);
  const head = `${m[1]} ${target.pathname}${target.search} ${m[3]}` +
    got.head.slice(line.length);
  await writeAll(upstream, UTF8.encode(head));
  await writeAll(upstream, got.rest);
  await Promise.all([
    conn.readable.pipeTo(upstream.writable).catch(() => {
      // silent-ok: either side closing ends the exchange
    }),
    upstream.readable.pipeTo(conn.writable).catch(() => {
      // silent-ok: either side closing ends the exchange
    }),
  ]);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let o = 0;
  while (o < bytes.length) o += await conn.write(bytes.subarray(o));
}
