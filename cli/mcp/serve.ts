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
 * request on 2025-era connections) and its answer is sent to the daemon's
 * `POST /v1/approvals/:id` (audited there like every answer). Declining
 * answers `deny`. Without elicitation, the request stays in the daemon's
 * queue — answerable from `astrid chat` or `astrid approvals` — and the call
 * waits. Nothing is ever allowed without an answer.
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
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  inputRequired,
  inputResponse,
  localhostAllowedOrigins,
  McpServer,
  originValidationResponse,
  ProtocolError,
  ResourceNotFoundError,
  type ServerContext,
  type Transport,
} from "@modelcontextprotocol/server";
import {
  serveStdio,
  StdioServerTransport,
} from "@modelcontextprotocol/server/stdio";
import {
  type ApiClient,
  type ApprovalInfo,
  constantTimeEqual,
  type GatewayItem,
  type GatewayTool,
  KernelError,
  type SessionInfo,
  type ToolCallStreamEvent,
} from "../../kernel/api/client_kit.ts";
import type { CommandIo } from "../commands/command_io.ts";
import { VERSION } from "../../version.ts";

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
}

/** JSON-RPC error code of a call the gate refused (application range). */
export const REFUSED = -32001;
/** JSON-RPC error code of invalid params (also: an unknown tool). */
const INVALID_PARAMS = -32602;
/** How long a call waiting for the host's answer is kept (the codec's TTL). */
const PENDING_TTL_MS = 600_000;
/** The largest HTTP body read (the daemon's own bound). */
const MAX_BODY_BYTES = 1024 * 1024;
/** The form key of the approval answer. */
const APPROVAL_KEY = "astrid_approval";

/** A daemon call in flight, kept across a host's retried rounds. */
interface Pending {
  readonly tool: string;
  readonly events: AsyncIterator<ToolCallStreamEvent>;
  readonly abort: AbortController;
  /** The approval request put to the host for this call, if any. */
  asking?: string;
  timer: ReturnType<typeof setTimeout>;
}

interface RoundState {
  readonly call: string;
  readonly request: string;
  readonly decisions: readonly string[];
}

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
  const relay = new Relay(client, session.id, options.capsules, io);
  const stop = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
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
  if (generated) {
    io.err(`astrid mcp serve: bearer token ${token} (shown once)`);
  }
  options.onListen?.(url);
  await server.finished;
  await mcp.close().catch(() => {});
}

/** The bridge between MCP requests and the daemon's tool gateway. */
class Relay {
  readonly #client: ApiClient;
  readonly session: string;
  readonly #capsules: readonly string[] | undefined;
  readonly #io: CommandIo;
  readonly #pending = new Map<string, Pending>();
  /** Approval requests put to the host now (one elicitation per request). */
  readonly #asking = new Set<string>();
  readonly #codec = createRequestStateCodec<RoundState>({
    key: crypto.getRandomValues(new Uint8Array(32)),
    ttlSeconds: PENDING_TTL_MS / 1000,
    bind: (ctx) => ctx.mcpReq.method,
  });

  constructor(
    client: ApiClient,
    session: string,
    capsules: readonly string[] | undefined,
    io: CommandIo,
  ) {
    this.#client = client;
    this.session = session;
    this.#capsules = capsules;
    this.#io = io;
  }

  /**
   * A server instance for one connection (stdio) or request (http).
   *
   * @param era The protocol generation it serves.
   * @param transport How: a 2025-era request over stateless HTTP cannot
   *   carry a server-to-client request (the host's answer would reach
   *   another instance), so approvals then wait in the daemon's queue.
   * @returns The server.
   */
  server(era: "legacy" | "modern", transport: "stdio" | "http"): McpServer {
    const canAsk = era === "modern" || transport === "stdio";
    const mcp = new McpServer({
      name: "astrid",
      version: VERSION,
    }, {
      capabilities: {
        tools: { listChanged: false },
        resources: {},
        prompts: {},
        completions: {},
        logging: {},
      },
      requestState: { verify: (s, ctx) => this.#codec.verify(s, ctx) },
      instructions:
        "Tools of the capsules installed in Astrid. Every call passes Astrid's security gate, budget and signed audit chain; a call may wait for a human's approval.",
    });
    const server = mcp.server;
    server.setRequestHandler("tools/list", async () => ({
      tools: (await this.#tools()).map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: t.input_schema as { type: "object" },
      })),
    }));
    server.setRequestHandler(
      "tools/call",
      (request, ctx) => this.#call(server, request.params, ctx, canAsk),
    );
    // Completions are not relayed from the capsules' servers: none offered.
    server.setRequestHandler("completion/complete", () => ({
      completion: { values: [], total: 0, hasMore: false },
    }));
    // Nothing is logged to the host (the capsules' logs stay in the daemon).
    server.setRequestHandler("logging/setLevel", () => ({}));
    server.setRequestHandler("resources/list", async () => ({
      resources: (await this.#items("resources")) as never[],
    }));
    server.setRequestHandler("resources/templates/list", () => ({
      resourceTemplates: [],
    }));
    server.setRequestHandler(
      "resources/read",
      async (request) =>
        await this.#get("resources", request.params.uri) as never,
    );
    server.setRequestHandler("prompts/list", async () => ({
      prompts: (await this.#items("prompts")) as never[],
    }));
    server.setRequestHandler(
      "prompts/get",
      async (request) =>
        await this.#get(
          "prompts",
          request.params.name,
          request.params.arguments,
        ) as never,
    );
    return mcp;
  }

  /** Follows the session's events until `signal` aborts (stderr notes). */
  async watch(signal: AbortSignal): Promise<void> {
    try {
      for await (
        const e of this.#client.stream<{ type: string; request_id?: string }>(
          "sessionEvents",
          { params: { id: this.session }, signal },
        )
      ) {
        if (e.type === "approval_required" && e.request_id !== undefined) {
          if (!this.#asking.has(e.request_id)) {
            this.#io.err(
              `astrid mcp serve: approval ${e.request_id} waits (astrid approvals list)`,
            );
          }
        }
      }
    } catch (err) {
      if (!signal.aborted) {
        this.#io.err(
          `astrid mcp serve: the daemon's event stream ended: ${
            err instanceof Error ? err.message : String(err)
          }`,
        );
      }
    }
  }

  /** Cancels every call still waiting. */
  close(): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.abort.abort();
      if (p.asking !== undefined) this.#asking.delete(p.asking);
      this.#pending.delete(id);
    }
  }

  async #tools(): Promise<GatewayTool[]> {
    return await this.#client.call<GatewayTool[]>("sessionTools", {
      params: { id: this.session },
      query: { capsule: this.#capsules?.join(",") },
    });
  }

  /** The capsules' resources or prompts, as their servers described them. */
  async #items(kind: "resources" | "prompts"): Promise<unknown[]> {
    const items = await this.#client.call<GatewayItem[]>(
      kind === "resources" ? "sessionResources" : "sessionPrompts",
      {
        params: { id: this.session },
        query: { capsule: this.#capsules?.join(",") },
      },
    );
    return items.map(({ capsule: _c, server: _s, ...item }) => item);
  }

  async #get(
    kind: "resources" | "prompts",
    key: string,
    args?: Record<string, string>,
  ): Promise<unknown> {
    try {
      return await this.#client.call(
        kind === "resources" ? "sessionResourceRead" : "sessionPromptGet",
        {
          params: { id: this.session },
          body: {
            key,
            ...(args ? { arguments: args } : {}),
            ...(this.#capsules ? { capsules: this.#capsules } : {}),
          },
        },
      );
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      if (err.code === "NOT_FOUND" && kind === "resources") {
        throw new ResourceNotFoundError(key);
      }
      throw new ProtocolError(
        err.code === "NOT_FOUND" || err.code === "INVALID_INPUT" ||
          err.code === "API_BAD_REQUEST"
          ? INVALID_PARAMS
          : REFUSED,
        `${err.code}: ${err.message}`,
        { code: err.code, reason: err.message },
      );
    }
  }

  async #call(
    server: McpServer["server"],
    params: { name: string; arguments?: Record<string, unknown> | undefined },
    ctx: ServerContext,
    canAsk: boolean,
  ) {
    const state = ctx.mcpReq.requestState<RoundState>();
    let id: string;
    let pending: Pending;
    if (state !== undefined && typeof state === "object") {
      const found = this.#pending.get(state.call);
      if (found === undefined || found.tool !== params.name) {
        throw new ProtocolError(
          INVALID_PARAMS,
          "This call is no longer waiting (it expired or was answered); call the tool again",
        );
      }
      id = state.call;
      pending = found;
      await this.#answer(state, ctx);
    } else {
      id = crypto.randomUUID();
      pending = this.#start(id, params.name, params.arguments ?? {});
    }
    const onCancel = () => this.#drop(id);
    ctx.mcpReq.signal.addEventListener("abort", onCancel, { once: true });
    try {
      while (true) {
        const next = await pending.events.next();
        if (next.done) {
          this.#drop(id);
          throw new ProtocolError(
            REFUSED,
            "The daemon ended the call without a result",
          );
        }
        const e = next.value;
        if (e.type === "result") {
          this.#drop(id);
          return server.projectCallToolResult({
            content: resultContent(e),
            isError: e.is_error,
            ...(isObject(e.structured_content)
              ? { structuredContent: e.structured_content }
              : {}),
          }, undefined);
        }
        if (e.type === "error") {
          this.#drop(id);
          throw new ProtocolError(
            e.code === "NOT_FOUND" || e.code === "INVALID_INPUT"
              ? INVALID_PARAMS
              : REFUSED,
            `${e.code}: ${e.message}`,
            { code: e.code, reason: e.message },
          );
        }
        if (e.type !== "approval_required") continue;
        if (
          !canAsk || !hostElicits(server, ctx) ||
          this.#asking.has(e.request_id)
        ) {
          continue; // it waits in the daemon's queue; another client answers
        }
        this.#asking.add(e.request_id);
        pending.asking = e.request_id;
        const summary = await this.#summary(e.request_id);
        return inputRequired({
          inputRequests: {
            [APPROVAL_KEY]: inputRequired.elicit({
              message: `Astrid asks for your approval: ${
                summary ?? `${e.action} ${e.resource}`
              } (risk: ${e.risk})`,
              requestedSchema: {
                type: "object",
                properties: {
                  decision: {
                    type: "string",
                    title: "Decision",
                    enum: [...e.options],
                  },
                },
                required: ["decision"],
              },
            }),
          },
          requestState: await this.#codec.mint({
            call: id,
            request: e.request_id,
            decisions: [...e.options],
          }, ctx),
        });
      }
    } finally {
      ctx.mcpReq.signal.removeEventListener("abort", onCancel);
    }
  }

  #start(
    id: string,
    tool: string,
    args: Record<string, unknown>,
  ): Pending {
    const abort = new AbortController();
    const events = this.#client.stream<ToolCallStreamEvent>(
      "sessionToolCall",
      {
        params: { id: this.session },
        body: {
          name: tool,
          arguments: args,
          ...(this.#capsules ? { capsules: this.#capsules } : {}),
        },
        signal: abort.signal,
      },
    );
    const pending: Pending = {
      tool,
      events: wrapErrors(events),
      abort,
      timer: setTimeout(() => this.#drop(id), PENDING_TTL_MS),
    };
    this.#pending.set(id, pending);
    return pending;
  }

  #drop(id: string): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.abort.abort();
    if (p.asking !== undefined) this.#asking.delete(p.asking);
  }

  /** Sends the host's answer to the daemon (declined: `deny`). */
  async #answer(state: RoundState, ctx: ServerContext): Promise<void> {
    this.#asking.delete(state.request);
    const view = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_KEY);
    if (view.kind !== "elicit" || view.action === "cancel") {
      return; // unanswered: it stays in the daemon's queue
    }
    const chosen = view.content?.["decision"];
    const decision = view.action === "accept" &&
        typeof chosen === "string" && state.decisions.includes(chosen)
      ? chosen
      : "deny";
    try {
      await this.#client.call("approvalsAnswer", {
        params: { id: state.request },
        body: {
          decision,
          reason: view.action === "accept"
            ? "answered by the MCP host (elicitation)"
            : "declined by the MCP host (elicitation)",
        },
      });
    } catch (err) {
      // Answered meanwhile (another client, or it expired): the call's
      // stream says what happened.
      if (!KernelError.is(err, "NOT_FOUND")) throw err;
    }
  }

  async #summary(requestId: string): Promise<string | undefined> {
    const list = await this.#client.call<ApprovalInfo[]>("approvalsList", {
      query: { session: this.session },
    }).catch(() => []);
    return list.find((a) => a.request_id === requestId)?.summary;
  }
}

/** Turns a stream failure into an `error` event (the daemon went away). */
async function* wrapErrors(
  events: AsyncIterable<ToolCallStreamEvent>,
): AsyncGenerator<ToolCallStreamEvent> {
  try {
    yield* events;
  } catch (err) {
    const code = err instanceof KernelError ? err.code : "DAEMON_UNAVAILABLE";
    yield {
      type: "error",
      code,
      message: err instanceof Error ? err.message : String(err),
    };
  }
}

function resultContent(
  e: Extract<ToolCallStreamEvent, { type: "result" }>,
): { type: "text"; text: string }[] {
  if (Array.isArray(e.mcp_content) && e.mcp_content.length > 0) {
    return e.mcp_content as { type: "text"; text: string }[];
  }
  return [{ type: "text", text: e.content }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Whether the host declared form elicitation (per request, or at initialize). */
function hostElicits(server: McpServer["server"], ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] as
    | { elicitation?: unknown }
    | undefined;
  const caps = declared ?? server.getClientCapabilities();
  return isObject(caps?.elicitation);
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
