/**
 * An MCP transport over the piped stdin/stdout of a server process:
 * newline-delimited JSON-RPC, as the MCP stdio transport specifies.
 *
 * Security model: everything read from stdout is untrusted. A line is parsed
 * only once complete; a line longer than `maxLineBytes` (default 10 MiB) is
 * dropped whole and reported once, so a server cannot grow the buffer without
 * bound; reading resumes after its line break. A line that is not JSON or not
 * a JSON-RPC message is reported through `onerror` and skipped; it never ends
 * the connection. The transport never spawns or kills anything: the process
 * belongs to the caller. A child's stdout (a byte stream) is read into one
 * reused buffer; what outlives a read (an unfinished line) is copied.
 *
 * @module
 */
import {
  type JSONRPCMessage,
  serializeMessage,
} from "@modelcontextprotocol/client";
import { parseMessage } from "./_parse_message.ts";
import type { McpStdio } from "./mcp_types.ts";

/** A JSON-RPC 2.0 message as the transport passes it on. */
export interface JsonRpcMessage {
  /** Always `2.0`. */
  readonly jsonrpc: "2.0";
  /** `id`, `method`, `params`, `result` or `error`. */
  readonly [key: string]: unknown;
}

/**
 * A message transport in the shape the MCP SDK's `Protocol` expects, so the
 * SDK (or a later protocol implementation) can drive it.
 */
export interface McpTransport {
  /** Starts reading stdout; call once, after setting the callbacks. */
  start(): Promise<void>;
  /** Writes one message as one line. Rejects when the connection has ended. */
  send(message: JsonRpcMessage): Promise<void>;
  /** Closes stdin, stops reading stdout and fires `onclose`; idempotent. */
  close(): Promise<void>;
  /** Fired exactly once when the connection ends (EOF, read error, `close()`). */
  onclose?: (() => void) | undefined;
  /** Non-fatal problems: a skipped malformed or over-long line. */
  onerror?: ((error: Error) => void) | undefined;
  /** Each parsed message, in order. */
  onmessage?: ((message: JsonRpcMessage) => void) | undefined;
  /** Records the negotiated protocol revision (called by the SDK client). */
  setProtocolVersion?(version: string): void;
  /** The negotiated protocol revision, once known. */
  readonly protocolVersion: string | undefined;
}

/** Options of {@linkcode createStdioTransport}. */
export interface StdioTransportOptions {
  /** The longest accepted line in bytes; default 10 MiB. */
  maxLineBytes?: number;
}

const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;
const MAX_ERROR_DETAIL = 200;

function shortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const flat = text.replace(/\s+/g, " ");
  return flat.length > MAX_ERROR_DETAIL
    ? `${flat.slice(0, MAX_ERROR_DETAIL)}…`
    : flat;
}

/** Bytes asked for per read of a byte stream (a child's stdout). */
const READ_BYTES = 64 * 1024;
const LF = 10;
const CR = 13;

/**
 * The unfinished line between two chunks, at most `max` bytes. It keeps
 * COPIES of what it holds: the reader fills one reused buffer. A line longer
 * than `max` is dropped whole (reported once through `onTooLong`); reading
 * resumes after its line break. (The SDK's `ReadBuffer` skips non-JSON lines
 * silently; every skipped line is reported here.)
 */
class LineBuffer {
  #parts: Uint8Array[] = [];
  #size = 0;
  #dropping = false;
  readonly #max: number;
  readonly #onTooLong: () => void;
  // ignoreBOM keeps a BOM in the text, so such a line is malformed JSON.
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(max: number, onTooLong: () => void) {
    this.#max = max;
    this.#onTooLong = onTooLong;
  }

  /** Keeps a copy of `chunk[start..]`, the start of an unfinished line. */
  keep(chunk: Uint8Array, start: number): void {
    const n = chunk.length - start;
    if (n <= 0 || this.#dropping) return;
    if (this.#size + n > this.#max) return this.#drop();
    this.#parts.push(chunk.slice(start));
    this.#size += n;
  }

  /**
   * Ends the line at `chunk[end]` (its `\n`).
   *
   * @returns The line without `\n` or `\r\n`, or `null` when it is dropped.
   */
  finish(chunk: Uint8Array, start: number, end: number): string | null {
    if (this.#dropping) {
      this.#dropping = false;
      return null;
    }
    if (this.#size + end - start > this.#max) {
      this.#drop();
      this.#dropping = false;
      return null;
    }
    let bytes = chunk.subarray(start, end);
    if (this.#parts.length > 0) {
      const whole = new Uint8Array(this.#size + bytes.length);
      let at = 0;
      for (const part of this.#parts) {
        whole.set(part, at);
        at += part.length;
      }
      whole.set(bytes, at);
      bytes = whole;
      this.clear();
    }
    const n = bytes.length > 0 && bytes[bytes.length - 1] === CR
      ? bytes.length - 1
      : bytes.length;
    return this.#decoder.decode(bytes.subarray(0, n));
  }

  clear(): void {
    this.#parts = [];
    this.#size = 0;
  }

  #drop(): void {
    this.clear();
    this.#dropping = true;
    this.#onTooLong();
  }
}

class StdioTransport implements McpTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage) => void) | undefined;
  readonly #io: McpStdio;
  readonly #buffer: LineBuffer;
  readonly #encoder = new TextEncoder();
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #reader:
    | ReadableStreamBYOBReader
    | ReadableStreamDefaultReader<Uint8Array>
    | null = null;
  #shutdown: Promise<void> | null = null;
  #protocolVersion: string | undefined;
  /**
   * No stderr here (the caller owns the process). With {@linkcode pid} it
   * marks the transport as stdio for the SDK's version probe: a server that
   * does not answer `server/discover` in time is a legacy server (on HTTP
   * silence is an outage).
   */
  readonly stderr = null;

  constructor(io: McpStdio, maxLineBytes: number) {
    this.#io = io;
    this.#buffer = new LineBuffer(
      maxLineBytes,
      () =>
        this.#report(
          `Dropped a line from the server as it exceeds ${maxLineBytes} bytes`,
        ),
    );
  }

  /** The process is the caller's; see {@linkcode stderr}. */
  get pid(): number | undefined {
    return undefined;
  }

  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  start(): Promise<void> {
    if (this.#reader !== null || this.#shutdown !== null) {
      return Promise.reject(
        new TypeError("The stdio transport was already started"),
      );
    }
    this.#writer = this.#io.stdin.getWriter();
    const reader = byobReader(this.#io.stdout) ?? this.#io.stdout.getReader();
    this.#reader = reader;
    void this.#readLoop(reader);
    return Promise.resolve();
  }

  send(message: JsonRpcMessage): Promise<void> {
    const writer = this.#writer;
    if (writer === null || this.#shutdown !== null) {
      return Promise.reject(new Error("Not connected"));
    }
    const line = serializeMessage(message as JSONRPCMessage);
    return writer.write(this.#encoder.encode(line));
  }

  close(): Promise<void> {
    this.#shutdown ??= this.#end(true);
    return this.#shutdown;
  }

  async #readLoop(
    reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>,
  ): Promise<void> {
    try {
      if (reader instanceof ReadableStreamBYOBReader) {
        // One buffer for every read (a byte stream would otherwise allocate
        // a fresh 64 KiB per read); #accept copies what it keeps.
        let view = new Uint8Array(READ_BYTES);
        while (true) {
          const { value, done } = await reader.read(view);
          if (done || value === undefined) break;
          await this.#accept(value);
          view = new Uint8Array(value.buffer);
        }
      } else {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          await this.#accept(value);
        }
      }
    } catch (err) {
      if (this.#shutdown === null) {
        this.#report(`Cannot read the server's stdout: ${shortReason(err)}`);
      }
    }
    this.#shutdown ??= this.#end(false);
  }

  /** Parses and delivers every line `chunk` ends; keeps the unfinished rest. */
  async #accept(chunk: Uint8Array): Promise<void> {
    let start = 0;
    while (true) {
      const end = chunk.indexOf(LF, start);
      if (end === -1) return this.#buffer.keep(chunk, start);
      const line = this.#buffer.finish(chunk, start, end);
      start = end + 1;
      if (line === null) continue;
      let message: JsonRpcMessage;
      try {
        message = parseMessage(line) as JsonRpcMessage;
      } catch (err) {
        this.#report(
          `Skipped a malformed line from the server: ${shortReason(err)}`,
        );
        continue;
      }
      if (this.#shutdown !== null) return;
      try {
        this.onmessage?.(message);
      } catch (err) {
        this.#report(`A message handler failed: ${shortReason(err)}`);
      }
      // The SDK runs notification handlers one microtask later but settles
      // responses at once; yielding keeps a notification (e.g. the last
      // progress) ahead of the response that follows it in the same chunk.
      if (!("id" in message)) await Promise.resolve();
    }
  }

  #report(message: string): void {
    try {
      this.onerror?.(new Error(message));
    } catch {
      // silent-ok: a failing error callback has nowhere else to report to.
    }
  }

  async #end(cancelReader: boolean): Promise<void> {
    const writer = this.#writer;
    const reader = this.#reader;
    this.#writer = null;
    this.#buffer.clear();
    if (writer !== null) {
      // Not awaited: a server that stopped reading must not block close();
      // the caller's process supervisor ends such a server.
      writer.close().catch(() => {
        // silent-ok: stdin is already closed or broken (the server exited).
      });
    }
    if (reader !== null && cancelReader) {
      await reader.cancel().catch(() => {
        // silent-ok: stdout already ended or failed; nothing left to read.
      });
    }
    try {
      this.onclose?.();
    } catch (err) {
      this.#report(`The close handler failed: ${shortReason(err)}`);
    }
  }
}

/** A BYOB reader when `stream` is a byte stream (a child's stdout), else `null`. */
function byobReader(
  stream: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | null {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    // silent-ok: not a byte stream (e.g. a TransformStream); read by chunks.
    return null;
  }
}

/**
 * Creates an MCP transport over a server's piped stdin and stdout. Each
 * message is one line of JSON; a malformed line is reported through
 * `onerror` and skipped; stdout EOF (or `close()`) fires `onclose` once and
 * closes stdin, so a well-behaved server exits.
 *
 * @param io The server's stdin and stdout.
 * @param options The longest accepted line.
 * @returns A transport for `connectMcpClient()` or the MCP SDK.
 * @throws {RangeError} When `maxLineBytes` is not a positive integer.
 *
 * @example Exchange lines over a pipe
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStdioTransport } from "./stdio_transport.ts";
 * const toServer = new TransformStream<Uint8Array, Uint8Array>();
 * const fromServer = new TransformStream<Uint8Array, Uint8Array>();
 * const t = createStdioTransport({ stdin: toServer.writable, stdout: fromServer.readable });
 * const got: unknown[] = [];
 * t.onmessage = (m) => got.push(m);
 * const closed = new Promise<void>((resolve) => (t.onclose = resolve));
 * await t.start();
 * const w = fromServer.writable.getWriter();
 * await w.write(new TextEncoder().encode('{"jsonrpc":"2.0","method":"ping","id":1}\n'));
 * await w.close();
 * await closed;
 * assert.deepEqual(got, [{ jsonrpc: "2.0", method: "ping", id: 1 }]);
 * await toServer.readable.cancel();
 * ```
 */
export function createStdioTransport(
  io: McpStdio,
  options: StdioTransportOptions = {},
): McpTransport {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new RangeError("maxLineBytes must be a positive integer");
  }
  return new StdioTransport(io, max);
}
