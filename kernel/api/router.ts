/**
 * The API's router: matches `METHOD /path` against the route table of
 * `contract.ts`, checks the bearer token in constant time, reads bounded JSON
 * bodies, and turns every failure into a coded JSON error — a malformed or
 * hostile request gets a 4xx and never disturbs another client.
 *
 * @module
 */
import { KernelError, toWireError } from "../core/errors.ts";
import type { ErrorCode } from "../core/errors.ts";
import { type ApiErrorBody, MAX_BODY_BYTES, ROUTES } from "./contract.ts";
import type { RouteName } from "./contract.ts";

/** What a route handler receives. */
export interface RouteContext {
  /** The request. */
  readonly request: Request;
  /** Its parsed URL. */
  readonly url: URL;
  /** The decoded `:name` segments. */
  readonly params: Readonly<Record<string, string>>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** The client's address when the server knows it (TCP: its host name or IP). */
  readonly remoteAddress?: string;
  /** Reads the JSON body (at most `MAX_BODY_BYTES`); `{}` when empty. */
  json(): Promise<Record<string, unknown>>;
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Promise<Response> | Response;

const STATUS: Partial<Record<ErrorCode, number>> = {
  API_UNAUTHORIZED: 401,
  API_BAD_REQUEST: 400,
  INVALID_INPUT: 400,
  INVALID_ID: 400,
  CONFIG_INVALID: 400,
  MANIFEST_INVALID: 400,
  WORKSPACE_OUTSIDE_ROOTS: 403,
  API_BODY_TOO_LARGE: 413,
  API_NOT_FOUND: 404,
  NOT_FOUND: 404,
  CAPSULE_NOT_FOUND: 404,
  DEFERRED_NOT_FOUND: 404,
  VFS_NOT_FOUND: 404,
  API_METHOD_NOT_ALLOWED: 405,
  TURN_BUSY: 409,
  SESSION_ELSEWHERE: 409,
  SESSION_LEASE_LOST: 409,
  CAPSULE_RESOLVE: 409,
  VFS_CONFLICT: 409,
  STORE_CONFLICT: 409,
  KEY_EXISTS: 409,
  ENGINE_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  CLUSTER_UNAVAILABLE: 503,
};

/**
 * The HTTP status of an error code (400s for the caller's mistakes, 500 otherwise).
 *
 * @param code The error code.
 * @returns The status.
 */
export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? (code.startsWith("API_") ? 400 : 500);
}

/**
 * A coded JSON error response.
 *
 * @param err Anything thrown.
 * @returns The response (host paths redacted, no stack).
 */
export function errorResponse(err: unknown): Response {
  const wire = toWireError(err);
  const body: ApiErrorBody = { error: wire };
  return Response.json(body, { status: statusOf(wire.code) });
}

/**
 * A JSON response.
 *
 * @param value The body.
 * @param status The status (default 200).
 * @returns The response.
 */
export function jsonResponse(value: unknown, status = 200): Response {
  return Response.json(value, { status });
}

/**
 * Compares two strings in time independent of where they differ.
 *
 * @param a One.
 * @param b The other.
 * @returns Whether they are equal.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    throw new KernelError(
      "API_BODY_TOO_LARGE",
      `The request body is ${declared} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  if (request.body === null) return {};
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) {
      throw new KernelError(
        "API_BODY_TOO_LARGE",
        `The request body exceeds the limit of ${MAX_BODY_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new KernelError("API_BAD_REQUEST", "The request body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new KernelError(
      "API_BAD_REQUEST",
      "The request body must be a JSON object",
    );
  }
  return value as Record<string, unknown>;
}

interface Compiled {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/**
 * Matches a request path against a route's segments (`:name` captures one
 * non-empty, URL-decoded segment) — the one path matcher of the API and the
 * web console.
 *
 * @param segments The route's segments.
 * @param path The request path's segments.
 * @returns The captured parameters, or `null` when the path does not match
 * (or a parameter is empty or badly encoded).
 *
 * @example
 * ```ts
 * import { matchSegments } from "./router.ts";
 * console.assert(matchSegments(["v1", ":id"], ["v1", "a%20b"])?.id === "a b");
 * console.assert(matchSegments(["v1", ":id"], ["v1", ""]) === null);
 * ```
 */
export function matchSegments(
  segments: readonly string[],
  path: readonly string[],
): Record<string, string> | null {
  if (segments.length !== path.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const p = path[i]!;
    if (s.startsWith(":")) {
      let v: string;
      try {
        v = decodeURIComponent(p);
      } catch {
        return null;
      }
      if (v === "") return null;
      params[s.slice(1)] = v;
    } else if (s !== p) return null;
  }
  return params;
}

/** What a server tells a handler about the connection (`Deno.ServeHandlerInfo`, structurally). */
export interface ConnectionInfo {
  /** The peer: `hostname` for TCP, `transport: "unix"` for a socket. */
  readonly remoteAddr?: {
    readonly transport?: string;
    readonly hostname?: string;
  };
}

/** Options of {@linkcode Router.handler}. */
export interface HandlerOptions {
  /** The bearer token every request must carry; read on each request (it may rotate). */
  readonly token: () => string;
}

/**
 * The route table of the API.
 *
 * @example Serve one route
 * ```ts
 * import { jsonResponse, Router } from "./router.ts";
 * const router = new Router().on("status", () => jsonResponse({ ok: true }));
 * const handle = router.handler({ token: () => "t" });
 * const res = await handle(new Request("http://x/v1/status", {
 *   headers: { authorization: "Bearer t" },
 * }));
 * console.assert(res.status === 200);
 * ```
 */
export class Router {
  readonly #routes: Compiled[] = [];
  readonly #names = new Set<RouteName>();

  /** The routes registered so far. */
  get routes(): ReadonlySet<RouteName> {
    return this.#names;
  }

  /**
   * Registers the handler of a route of the contract.
   *
   * @param route The route name (`ROUTES`).
   * @param handler Its handler.
   * @returns This router.
   */
  on(route: RouteName, handler: RouteHandler): this {
    const [method, pattern] = ROUTES[route].split(" ") as [string, string];
    if (this.#names.has(route)) {
      throw new Error(`route ${route} registered twice`);
    }
    this.#names.add(route);
    this.#routes.push({ method, segments: pattern.split("/"), handler });
    return this;
  }

  /**
   * The fetch handler: auth, routing, body limits, coded errors.
   *
   * @param options The bearer token.
   * @returns A handler for `Deno.serve`.
   */
  handler(
    options: HandlerOptions,
  ): (request: Request, info?: ConnectionInfo) => Promise<Response> {
    return async (request, info) => {
      try {
        const auth = request.headers.get("authorization") ?? "";
        const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
        if (given === "" || !constantTimeEqual(given, options.token())) {
          throw new KernelError(
            "API_UNAUTHORIZED",
            "The request needs 'Authorization: Bearer <token>' with this daemon's token",
          );
        }
        const url = new URL(request.url);
        const path = url.pathname.split("/");
        let methodMismatch = false;
        for (const route of this.#routes) {
          const params = matchSegments(route.segments, path);
          if (params === null) continue;
          if (route.method !== request.method) {
            methodMismatch = true;
            continue;
          }
          const remote = info?.remoteAddr?.hostname;
          return await route.handler({
            request,
            url,
            params,
            signal: request.signal,
            ...(remote ? { remoteAddress: remote } : {}),
            json: () => readJson(request),
          });
        }
        throw methodMismatch
          ? new KernelError(
            "API_METHOD_NOT_ALLOWED",
            `${request.method} is not allowed on ${url.pathname}`,
          )
          : new KernelError(
            "API_NOT_FOUND",
            `No API route ${url.pathname.slice(0, 200)}`,
          );
      } catch (err) {
        return errorResponse(err);
      }
    };
  }
}

/**
 * A Server-Sent-Events response fed from an async iterable of events with a
 * `type`. The stream ends when the iterable ends or the client goes away.
 *
 * @param events The events.
 * @param onCancel Called when the client disconnects before the end.
 * @returns The response.
 */
export function sseResponse(
  events: AsyncIterable<{ readonly type: string }>,
  onCancel?: () => void,
): Response {
  const encoder = new TextEncoder();
  const iterator = events[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          return;
        }
        const e = next.value;
        controller.enqueue(
          encoder.encode(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`),
        );
      } catch (err) {
        const wire = toWireError(err);
        controller.enqueue(
          encoder.encode(
            `event: error\ndata: ${
              JSON.stringify({ type: "error", ...wire })
            }\n\n`,
          ),
        );
        controller.close();
      }
    },
    async cancel() {
      onCancel?.();
      await iterator.return?.();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
    },
  });
}

/**
 * Reads a required string field of a JSON body.
 *
 * @param body The body.
 * @param name The field.
 * @returns Its value.
 * @throws {KernelError} `API_BAD_REQUEST` when missing or not a non-empty string.
 */
export function stringField(
  body: Record<string, unknown>,
  name: string,
): string {
  const v = body[name];
  if (typeof v !== "string" || v === "") {
    throw new KernelError(
      "API_BAD_REQUEST",
      `The field '${name}' must be a non-empty string`,
    );
  }
  return v;
}

/** The route names, for tests that check every route is served. */
export const ROUTE_NAMES: readonly RouteName[] = Object.keys(
  ROUTES,
) as RouteName[];
