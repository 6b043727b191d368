/**
 * {@linkcode ApiClient}: the one client of the daemon's API, used by the CLI,
 * the chat TUI and the tests. It speaks to the Unix socket of a daemon, to a
 * headless server over TCP, or — for in-process tests — straight to a fetch
 * handler. Failures arrive as {@linkcode KernelError}s with the daemon's code.
 *
 * Over the socket it speaks HTTP/1.1 itself (`Net.unixHttpClient`, one
 * connection per request) instead of `fetch`: a CLI process then never loads
 * Deno's fetch and web-stream code, reads the CA bundle or resolves a host
 * name — about 25 ms of every `astrid -p` / `astrid status`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { isErrorCode } from "../../sdk/error_codes.ts";
import { sseEvents } from "../../sdk/stream.ts";
import { type RouteName, routePath } from "./contract.ts";
import type {
  Logger,
  UnixHttpClient,
  UnixHttpResponse,
} from "../core/ports.ts";
import { createDenoNet } from "../host/deno_net.ts";

/** The client serves nothing, so the Net port's handler-error logger stays silent. */
const NO_LOGGER: Logger = {
  log() {},
  child: () => NO_LOGGER,
};

/** A 2xx answer, whichever transport carried it ({@linkcode ApiClient.send}). */
export interface ApiReply {
  /** The status code. */
  readonly status: number;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The body's bytes as they arrive (`null`: none). */
  body(): AsyncIterable<Uint8Array> | null;
  /** The answer as a web `Response`. */
  response(): Response;
}

function fetchReply(r: Response): ApiReply {
  return {
    status: r.status,
    text: () => r.text(),
    body: () => r.body,
    response: () => r,
  };
}

function socketReply(r: UnixHttpResponse): ApiReply {
  return {
    status: r.status,
    text: () => r.text(),
    body: () => r.body,
    response: () => {
      const init = { status: r.status, headers: r.headers };
      if (r.status === 204 || r.status === 304) {
        r.close();
        return new Response(null, init);
      }
      const chunks = r.body[Symbol.asyncIterator]();
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
          // A body never read is closed too (its connection with it).
          cancel: () => r.close(),
        }),
        init,
      );
    },
  };
}

/** Where an {@linkcode ApiClient} sends its requests. */
export type ApiTransport =
  /** The daemon's Unix socket. */
  | { readonly socket: string }
  /** A headless server, e.g. `http://127.0.0.1:8080`. */
  | { readonly baseUrl: string }
  /** A fetch handler in this process (tests). */
  | { readonly handler: (request: Request) => Promise<Response> };

/** Options of one request. */
export interface CallOptions {
  /** Values of the route's `:name` segments. */
  readonly params?: Readonly<Record<string, string>>;
  /** Query parameters. */
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** The JSON body. */
  readonly body?: unknown;
  /** Cancels the request (and a stream). */
  readonly signal?: AbortSignal;
}

/** The client of the daemon's API. */
export class ApiClient {
  readonly #transport: ApiTransport;
  readonly #token: string;
  #httpClient: UnixHttpClient | undefined;

  /**
   * @param transport Socket, base URL or in-process handler.
   * @param token The bearer token (`run/system.token` of the daemon).
   */
  constructor(transport: ApiTransport, token: string) {
    this.#transport = transport;
    this.#token = token;
  }

  /**
   * Sends a request and returns the raw response when it succeeded.
   *
   * @param route The route.
   * @param options Parameters, query, body, signal.
   * @returns The response (status 2xx).
   * @throws {KernelError} With the daemon's code; `DAEMON_UNAVAILABLE` when it cannot be reached.
   */
  async raw(route: RouteName, options: CallOptions = {}): Promise<Response> {
    return (await this.send(route, options)).response();
  }

  /**
   * Sends a request: what {@linkcode raw}, {@linkcode call} and
   * {@linkcode stream} go through (a subclass that reconnects overrides it).
   *
   * @param route The route.
   * @param options Parameters, query, body, signal.
   * @returns The answer (status 2xx).
   * @throws {KernelError} With the daemon's code; `DAEMON_UNAVAILABLE` when it cannot be reached.
   */
  async send(route: RouteName, options: CallOptions = {}): Promise<ApiReply> {
    const { method, path } = routePath(route, options.params);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) query.set(k, v);
    }
    const target = `${path}${query.size > 0 ? `?${query}` : ""}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      ...(options.body === undefined
        ? {}
        : { "content-type": "application/json" }),
    };
    const body = options.body === undefined
      ? undefined
      : JSON.stringify(options.body);
    let reply: ApiReply;
    try {
      if ("socket" in this.#transport) {
        // HTTP/1.1 on the socket itself: a CLI process never loads fetch.
        this.#httpClient ??= createDenoNet({ logger: NO_LOGGER })
          .unixHttpClient(this.#transport.socket);
        reply = socketReply(
          await this.#httpClient.request({
            method,
            target,
            host: "astrid",
            headers,
            ...(body === undefined ? {} : { body }),
            ...(options.signal ? { signal: options.signal } : {}),
          }),
        );
      } else {
        const base = "baseUrl" in this.#transport
          ? this.#transport.baseUrl.replace(/\/$/, "")
          : "http://astrid";
        const init: RequestInit = {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(options.signal ? { signal: options.signal } : {}),
        };
        reply = fetchReply(
          "handler" in this.#transport
            ? await this.#transport.handler(
              new Request(`${base}${target}`, init),
            )
            : await fetch(`${base}${target}`, init),
        );
      }
    } catch (err) {
      if (options.signal?.aborted) {
        throw new KernelError("ABORTED", "The request was cancelled", {
          cause: err,
        });
      }
      throw new KernelError(
        "DAEMON_UNAVAILABLE",
        `Cannot reach the daemon: ${
          err instanceof Error ? err.message : String(err)
        }`,
        { cause: err },
      );
    }
    if (reply.status >= 200 && reply.status < 300) return reply;
    let code = "INTERNAL";
    let message = `The daemon answered HTTP ${reply.status}`;
    let data: Record<string, unknown> | undefined;
    try {
      const body = JSON.parse(await reply.text());
      if (typeof body?.error?.code === "string") code = body.error.code;
      if (typeof body?.error?.message === "string") {
        message = body.error.message;
      }
      if (body?.error?.data && typeof body.error.data === "object") {
        data = body.error.data;
      }
    } catch {
      // silent-ok: a non-JSON error body keeps the status message
    }
    throw new KernelError(isErrorCode(code) ? code : "INTERNAL", message, {
      ...(data ? { data } : {}),
    });
  }

  /**
   * Sends a request and parses its JSON answer.
   *
   * @param route The route.
   * @param options Parameters, query, body, signal.
   * @returns The parsed body.
   */
  async call<T>(route: RouteName, options: CallOptions = {}): Promise<T> {
    const reply = await this.send(route, options);
    return JSON.parse(await reply.text()) as T;
  }

  /**
   * Sends a request whose answer is a Server-Sent-Events stream, and yields
   * each event's JSON `data`.
   *
   * @param route The route.
   * @param options Parameters, query, body, signal (aborting ends the stream).
   * @returns The events.
   */
  async *stream<T>(
    route: RouteName,
    options: CallOptions = {},
  ): AsyncGenerator<T> {
    const body = (await this.send(route, options)).body();
    if (body === null) return;
    for await (const e of sseEvents(body)) {
      yield JSON.parse(e.data) as T;
    }
  }

  /** Releases the client (a socket request has its own connection). */
  close(): void {
    this.#httpClient?.close();
    this.#httpClient = undefined;
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
