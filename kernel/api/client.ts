/**
 * {@linkcode ApiClient}: the one client of the daemon's API, used by the CLI,
 * the chat TUI and the tests. It speaks to the Unix socket of a daemon, to a
 * headless server over TCP, or — for in-process tests — straight to a fetch
 * handler. Failures arrive as {@linkcode KernelError}s with the daemon's code.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { isErrorCode } from "../../sdk/error_codes.ts";
import { sseEvents } from "../../sdk/stream.ts";
import { type RouteName, routePath } from "./contract.ts";
import type { Logger, UnixHttpClient } from "../core/ports.ts";
import { createDenoNet } from "../host/deno_net.ts";

/** The client serves nothing, so the Net port's handler-error logger stays silent. */
const NO_LOGGER: Logger = {
  log() {},
  child: () => NO_LOGGER,
};

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
    const { method, path } = routePath(route, options.params);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) query.set(k, v);
    }
    const qs = query.size > 0 ? `?${query}` : "";
    const base = "baseUrl" in this.#transport
      ? this.#transport.baseUrl.replace(/\/$/, "")
      : "http://astrid";
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(options.body === undefined
          ? {}
          : { "content-type": "application/json" }),
      },
      ...(options.body === undefined
        ? {}
        : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    let response: Response;
    try {
      if ("handler" in this.#transport) {
        response = await this.#transport.handler(
          new Request(`${base}${path}${qs}`, init),
        );
      } else if ("socket" in this.#transport) {
        this.#httpClient ??= createDenoNet({ logger: NO_LOGGER })
          .unixHttpClient(this.#transport.socket);
        response = await this.#httpClient.fetch(`${base}${path}${qs}`, init);
      } else {
        response = await fetch(`${base}${path}${qs}`, init);
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
    if (response.ok) return response;
    let code = "INTERNAL";
    let message = `The daemon answered HTTP ${response.status}`;
    let data: Record<string, unknown> | undefined;
    try {
      const body = await response.json();
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
    const response = await this.raw(route, options);
    return await response.json() as T;
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
    const response = await this.raw(route, options);
    if (response.body === null) return;
    for await (const e of sseEvents(response.body)) {
      yield JSON.parse(e.data) as T;
    }
  }

  /** Releases the socket connection pool. */
  close(): void {
    this.#httpClient?.close();
    this.#httpClient = undefined;
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
