/**
 * Private: one HTTP/1.1 exchange over a unix socket, on `Deno.connect` and
 * bytes alone — the client half of {@linkcode Net.unixHttpClient}.
 *
 * Why not `fetch` with a unix-proxy `Deno.createHttpClient`: a short-lived
 * client process (`astrid -p`, `astrid status`) pays for `fetch` on first
 * use — Deno loads and compiles its fetch, `Headers`, `Request`, `Response`
 * and web-stream code lazily, the client reads the system's CA bundle, and
 * the URL's host name is resolved through DNS although the socket is the
 * only destination — about 25 ms of a CLI run on a 2-core machine. This
 * exchange touches none of those.
 *
 * Security model: the request line and headers are built here from checked
 * parts — a target that is not an origin-form path, a header name that is
 * not an HTTP token, or a value with a control character is refused
 * (`INVALID_INPUT`), so no caller can split or smuggle a request. Each
 * request has its own connection (`connection: close`): nothing of one
 * answer can be read as part of the next. The answer is parsed strictly and
 * within bounds (a head of at most {@linkcode MAX_HEAD_BYTES}, hexadecimal
 * chunk sizes, a decimal content length); anything else is `HOST_IO`. The
 * peer is whoever owns the socket file — the daemon's `run/` is `0700` and
 * its socket `0600`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { UnixHttpRequest, UnixHttpResponse } from "../core/ports.ts";
import { hostError } from "./_host_error.ts";

/** The largest status line plus headers accepted. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** An HTTP token (method, header name). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** An origin-form request target: a path and query, visible ASCII only. */
const TARGET = /^\/[\x21-\x7e]*$/;
/** A header value: no control characters but tab. */
const VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;

const encoder = new TextEncoder();

function bad(message: string): KernelError {
  return new KernelError("INVALID_INPUT", message);
}

function malformed(what: string): KernelError {
  return new KernelError(
    "HOST_IO",
    `The server's answer is malformed: ${what}`,
  );
}

/** The request's bytes; throws `INVALID_INPUT` for anything unsafe. */
function requestBytes(req: UnixHttpRequest): Uint8Array {
  if (!TOKEN.test(req.method)) {
    throw bad(`'${req.method}' is not an HTTP method`);
  }
  if (!TARGET.test(req.target)) {
    throw bad("The request target must be a path with visible characters");
  }
  const host = req.host ?? "localhost";
  if (!TOKEN.test(host)) throw bad("The host must be an HTTP token");
  const body = req.body === undefined ? undefined : encoder.encode(req.body);
  let head =
    `${req.method} ${req.target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    const lower = name.toLowerCase();
    if (
      !TOKEN.test(name) || lower === "host" || lower === "connection" ||
      lower === "content-length" || lower === "transfer-encoding"
    ) {
      throw bad(`The header '${name}' cannot be set`);
    }
    if (!VALUE.test(value)) {
      throw bad(`The header '${name}' has a control character`);
    }
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += "\r\n";
  const bytes = encoder.encode(head);
  if (body === undefined) return bytes;
  const all = new Uint8Array(bytes.length + body.length);
  all.set(bytes);
  all.set(body, bytes.length);
  return all;
}

/** Buffered reads from a connection. */
class Reader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Reads more bytes; `false` at the end of the stream. */
  async more(): Promise<boolean> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** The bytes up to (without) the first `\r\n\r\n` (the head). */
  async head(): Promise<string> {
    let from = 0;
    for (;;) {
      const end = indexOfCrlfCrlf(this.#buf, from);
      if (end >= 0) {
        const text = new TextDecoder().decode(this.#buf.subarray(0, end));
        this.#buf = this.#buf.subarray(end + 4);
        return text;
      }
      if (this.#buf.length > MAX_HEAD_BYTES) throw malformed("head too large");
      from = Math.max(0, this.#buf.length - 3);
      if (!(await this.more())) throw malformed("it ends in its head");
    }
  }

  /** One line ending in `\r\n` (without it), at most 4 KiB. */
  async line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(0x0a);
      if (i >= 0) {
        if (i === 0 || this.#buf[i - 1] !== 0x0d) throw malformed("a bare LF");
        const text = new TextDecoder().decode(this.#buf.subarray(0, i - 1));
        this.#buf = this.#buf.subarray(i + 1);
        return text;
      }
      if (this.#buf.length > 4096) throw malformed("a line too long");
      if (!(await this.more())) throw malformed("it ends in a line");
    }
  }

  /** Exactly `n` bytes, yielded as they arrive. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (this.#buf.length === 0 && !(await this.more())) {
        throw malformed("it ends before its body");
      }
      const piece = this.#buf.subarray(0, Math.min(n, this.#buf.length));
      this.#buf = this.#buf.subarray(piece.length);
      n -= piece.length;
      yield piece;
    }
  }

  /** Everything until the peer closes. */
  async *rest(): AsyncGenerator<Uint8Array> {
    do {
      if (this.#buf.length > 0) {
        const piece = this.#buf;
        this.#buf = new Uint8Array(0);
        yield piece;
      }
    } while (await this.more());
  }
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (
      buf[i] === 0x0d && buf[i + 1] === 0x0a && buf[i + 2] === 0x0d &&
      buf[i + 3] === 0x0a
    ) return i;
  }
  return -1;
}

/** A chunked body's data. */
async function* chunked(r: Reader): AsyncGenerator<Uint8Array> {
  for (;;) {
    const size = (await r.line()).split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw malformed("a chunk size");
    const n = parseInt(size, 16);
    if (n === 0) break;
    yield* r.take(n);
    if ((await r.line()) !== "") throw malformed("a chunk's end");
  }
  while ((await r.line()) !== ""); // trailers
}

/** Status and headers of a head. */
function parseHead(
  head: string,
): { status: number; headers: Record<string, string> } {
  const [statusLine = "", ...lines] = head.split("\r\n");
  const m = /^HTTP\/1\.[01] ([1-5][0-9]{2})(?: .*)?$/.exec(statusLine);
  if (m === null) throw malformed("its status line");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw malformed("a header line");
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return { status: Number(m[1]), headers };
}

/**
 * Sends one request over the unix socket at `path` and reads the answer's
 * head; the body streams from the connection (closed at its end, by
 * `close()`, or when `signal` fires).
 *
 * @param path The socket.
 * @param req Method, target, headers, body, signal.
 * @returns The answer.
 * @throws {KernelError} `INVALID_INPUT` for an unsafe request, `ABORTED`,
 *   `NOT_FOUND` (no socket), `HOST_PERMISSION_DENIED`, `HOST_IO` (refused,
 *   malformed answer).
 */
export async function unixRequest(
  path: string,
  req: UnixHttpRequest,
): Promise<UnixHttpResponse> {
  const what = `send ${req.method} ${req.target} to '${path}'`;
  const bytes = requestBytes(req);
  const signal = req.signal;
  const aborted = () =>
    new KernelError("ABORTED", `Cancelled ${what}`, { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (err) {
    throw hostError(err, what);
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener("abort", close);
    try {
      conn.close();
    } catch {
      // silent-ok: already closed
    }
  };
  const fail = (err: unknown): KernelError => {
    close();
    if (signal?.aborted) return aborted();
    return err instanceof KernelError ? err : hostError(err, what);
  };
  signal?.addEventListener("abort", close, { once: true });
  const r = new Reader(conn);
  let status: number;
  let headers: Record<string, string>;
  try {
    for (let done = 0; done < bytes.length;) {
      done += await conn.write(bytes.subarray(done));
    }
    ({ status, headers } = parseHead(await r.head()));
  } catch (err) {
    throw fail(err);
  }
  const length = headers["content-length"];
  if (length !== undefined && !/^[0-9]{1,15}$/.test(length)) {
    close();
    throw malformed("its content-length");
  }
  const source = req.method === "HEAD" || status === 204 || status === 304
    ? r.take(0)
    : headers["transfer-encoding"]?.toLowerCase() === "chunked"
    ? chunked(r)
    : length !== undefined
    ? r.take(Number(length))
    : r.rest();
  let used = false;
  async function* body(): AsyncGenerator<Uint8Array> {
    if (used) throw new KernelError("INVALID_INPUT", "The body was read");
    used = true;
    try {
      yield* source;
    } catch (err) {
      throw fail(err);
    } finally {
      close();
    }
  }
  return {
    status,
    headers,
    body: body(),
    async text() {
      const parts: Uint8Array[] = [];
      for await (const p of body()) parts.push(p);
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return new TextDecoder().decode(all);
    },
    close,
  };
}
