/**
 * `astrid mcp serve`: Astrid as an MCP server. An MCP host (Claude Code,
 * Claude Desktop, Cursor, another agent) sees the tools of the installed
 * capsules; every call goes through the daemon's tool gateway
 * (`POST /v1/sessions/:id/tools/call`), where the gate, the budget and the
 * audit chain decide it before the capsule sees it.
 *
 * Both protocol generations are served from one server factory by the v2
 * SDK: 2026-07-28 (stateless, `server/discover`) and 2025-11-25
 * (`initialize`), over stdio (`serveStdio`) or Streamable HTTP
 * (`createMcpHandler`).
 *
 * Approvals: while a call waits, the gate may ask a human (the session's
 * `approval_required` event). When the host declares elicitation, the
 * request is put to it as a form (multi-round-trip `input_required` on
 * 2026-07-28; the SDK's legacy shim turns it into an `elicitation/create`
 * request on 2025-era stdio connections) and its answer is sent to the
 * daemon's `POST /v1/approvals/:id` (audited there like every answer).
 * Declining answers `deny`. Without elicitation (or on a 2025-era request
 * over stateless HTTP, which cannot carry the question), the request stays
 * in the daemon's queue — answerable from `astrid chat` or `astrid
 * approvals` — and the call waits, reporting progress every 15 s when the
 * host asked for progress. Nothing is ever allowed without an answer. The
 * protocol bridge is `relay.ts`.
 *
 * Security model (HTTP):
 * - Loopback only unless `--host` names another address explicitly.
 * - A bearer token (`ASTRID_MCP_TOKEN`, else 32 random bytes printed once to
 *   stderr) on every request, compared in constant time; 401 otherwise.
 * - DNS rebinding: the `Host` header must name the address served (or
 *   `localhost` on loopback) and a browser `Origin` must be a loopback
 *   origin; 403 otherwise.
 * - Bodies are bounded (1 MiB, the daemon's own bound).
 * - The multi-round-trip `requestState` is HMAC-sealed with a per-process
 *   key and names only a pending call of this process (a random id).
 *
 * @module
 */
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedOrigins,
  originValidationResponse,
  type Transport,
} from "@modelcontextprotocol/server";
import {
  serveStdio,
  StdioServerTransport,
} from "@modelcontextprotocol/server/stdio";
import {
  type ApiClient,
  constantTimeEqual,
  linkSignals,
  type SessionInfo,
} from "../../kernel/api/client_kit.ts";
import type { CommandIo } from "../commands/command_io.ts";
import { HEARTBEAT_MS, Relay } from "./relay.ts";

export { REFUSED } from "./relay.ts";

/** Options of {@linkcode serveMcp}. */
export interface McpServeOptions {
  /** `stdio` (the host starts `astrid mcp serve`) or Streamable `http`. */
  readonly transport: "stdio" | "http";
  /** http only; default 127.0.0.1 (loopback only unless explicitly allowed). */
  readonly host?: string;
  /** http only; 0 = pick, printed to stderr. */
  readonly port?: number;
  /** The workspace (absolute). */
  readonly workspace: string;
  /** Reuse a daemon session; absent = a new one. */
  readonly session?: string;
  /** Only these capsules' tools; absent = all installed. */
  readonly capsules?: readonly string[];
  /** http only: the bearer token (default `ASTRID_MCP_TOKEN`, else generated). */
  readonly token?: string;
  /** Stops serving (stdio: also when the host closes stdin). */
  readonly signal?: AbortSignal;
  /** http only: called once listening, with the URL served. */
  readonly onListen?: (url: string) => void;
  /** How often a waiting call reports progress (default 15 s). */
  readonly heartbeatMs?: number;
}

/** The largest HTTP body read (the daemon's own bound). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Serves the session's tools to an MCP host until the host goes away (stdio)
 * or `signal` aborts / the process is interrupted (http).
 *
 * @param client The daemon's API.
 * @param options Transport, address, workspace, session, capsule filter.
 * @param io The terminal (stderr only: stdout is the protocol on stdio).
 * @returns The exit code.
 * @throws {KernelError} The daemon's refusal to create or find the session.
 */
export async function serveMcp(
  client: ApiClient,
  options: McpServeOptions,
  io: CommandIo,
): Promise<number> {
  const session = options.session === undefined
    ? await client.call<SessionInfo>("sessionsCreate", {
      body: { workspace: options.workspace },
    })
    : await client.call<SessionInfo>("sessionsShow", {
      params: { id: options.session },
    });
  const relay = new Relay(
    client,
    session.id,
    options.capsules,
    io,
    options.heartbeatMs ?? HEARTBEAT_MS,
  );
  const stop = new AbortController();
  // stop.abort() below also undoes the link to the caller's signal.
  const signal = linkSignals([options.signal, stop.signal]).signal;
  // An open event stream keeps an auto-started daemon from idling out while
  // a host is connected, and tells the user which approvals wait.
  const watching = relay.watch(signal);
  try {
    if (options.transport === "stdio") {
      io.err(`astrid mcp serve: session ${session.id} (stdio)`);
      await serveOnStdio(relay, signal);
    } else {
      await serveOnHttp(relay, options, io, signal);
    }
  } finally {
    stop.abort();
    relay.close();
    await watching;
  }
  return 0;
}

async function serveOnStdio(relay: Relay, signal: AbortSignal) {
  const transport = new WatchedTransport(new StdioServerTransport());
  const handle = serveStdio((ctx) => relay.server(ctx.era, "stdio"), {
    transport,
  });
  const onAbort = () => transport.closed.resolve();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await transport.closed.promise;
  } finally {
    signal.removeEventListener("abort", onAbort);
    await handle.close().catch(() => {});
  }
}

/** The stdio transport, telling when the host closed it (stdin ended). */
class WatchedTransport implements Transport {
  readonly #inner: StdioServerTransport;
  /** Resolves when the transport closed. */
  readonly closed: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport["onmessage"];

  constructor(inner: StdioServerTransport) {
    this.#inner = inner;
    inner.onclose = () => {
      this.onclose?.();
      this.closed.resolve();
    };
    inner.onerror = (e) => this.onerror?.(e);
    inner.onmessage = (m) => this.onmessage?.(m);
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: Parameters<Transport["send"]>[0]): Promise<void> {
    return this.#inner.send(message);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

async function serveOnHttp(
  relay: Relay,
  options: McpServeOptions,
  io: CommandIo,
  signal: AbortSignal,
) {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? randomToken();
  const generated = options.token === undefined;
  const mcp = createMcpHandler((ctx) => relay.server(ctx.era, "http"), {
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  const allowedHosts = allowedHostnames(host);
  const handler = async (request: Request): Promise<Response> => {
    const rebinding = hostHeaderValidationResponse(request, allowedHosts) ??
      originValidationResponse(request, localhostAllowedOrigins());
    if (rebinding) return rebinding;
    const url = new URL(request.url);
    if (url.pathname !== "/mcp") {
      return new Response("Not found", { status: 404 });
    }
    const auth = request.headers.get("authorization") ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (given === "" || !constantTimeEqual(given, token)) {
      return Response.json({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: -32001,
          message: "Unauthorized: a bearer token is required",
        },
      }, {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="astrid-mcp"' },
      });
    }
    return await mcp.fetch(request);
  };
  const listening = Promise.withResolvers<string>();
  const server = Deno.serve({
    hostname: host,
    port: options.port ?? 0,
    signal,
    onListen: ({ port }) => {
      const shown = host.includes(":") ? `[${host}]` : host;
      listening.resolve(`http://${shown}:${port}/mcp`);
    },
  }, handler);
  const url = await listening.promise;
  io.err(`astrid mcp serve: ${url} (session ${relay.session})`);
  if (allowedHosts.length === 1) {
    io.err(
      `astrid mcp serve: warning: serving beyond loopback on ${host}, over plain HTTP: anyone on that network who learns the token can call the tools`,
    );
  }
  if (generated) {
    io.err(`astrid mcp serve: bearer token ${token} (shown once)`);
  }
  options.onListen?.(url);
  await server.finished;
  await mcp.close().catch(() => {});
}

function allowedHostnames(host: string): string[] {
  const shown = host.includes(":") ? `[${host}]` : host;
  return host === "127.0.0.1" || host === "::1" || host === "localhost"
    ? ["127.0.0.1", "localhost", "[::1]"]
    : [shown];
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
