/**
 * The bridge between MCP requests and the daemon's tool gateway, for
 * `astrid mcp serve` (`serve.ts`): one {@linkcode Relay} per serve, one MCP
 * server instance per connection (stdio) or request (http) built by it.
 *
 * - `tools/list`, `resources/list`, `prompts/list` → the gateway's lists.
 * - `tools/call` → `POST /v1/sessions/:id/tools/call` (SSE). While the call
 *   waits on an approval: a host that declared elicitation is asked (an
 *   `input_required` result; the v2 SDK's shim turns it into
 *   `elicitation/create` on 2025-era stdio) and its answer goes to `POST
 *   /v1/approvals/:id` (declining = `deny`); otherwise the call keeps
 *   waiting for another client's answer, reporting progress when the host
 *   asked for it. A refusal is a JSON-RPC error with Astrid's code and
 *   reason (`-32001`; `-32602` for an unknown tool).
 * - `resources/read`, `prompts/get` → the gateway's read / fetch.
 *
 * Security model: the multi-round-trip `requestState` is HMAC-sealed with a
 * per-process key, bound to the method, expires with the pending call (10
 * min) and names only a random call id of this process; the decision a host
 * may send is checked against the options the sealed state carries (and
 * again by the daemon). Nothing is allowed without an answer.
 *
 * @module
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  McpServer,
  ProtocolError,
  ResourceNotFoundError,
  type ServerContext,
} from "@modelcontextprotocol/server";
import {
  type ApiClient,
  type ApprovalInfo,
  type GatewayItem,
  type GatewayTool,
  KernelError,
  type ToolCallStreamEvent,
} from "../../kernel/api/client_kit.ts";
import type { CommandIo } from "../commands/command_io.ts";
import { VERSION } from "../../version.ts";

/** JSON-RPC error code of a call the gate refused (application range). */
export const REFUSED = -32001;
/** JSON-RPC error code of invalid params (also: an unknown tool). */
const INVALID_PARAMS = -32602;
/** How long a call waiting for the host's answer is kept (the codec's TTL). */
const PENDING_TTL_MS = 600_000;
/** How often a call that waits reports progress to the host (ms). */
export const HEARTBEAT_MS = 15_000;
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

/** The bridge between MCP requests and the daemon's tool gateway. */
export class Relay {
  readonly #client: ApiClient;
  readonly session: string;
  readonly #capsules: readonly string[] | undefined;
  readonly #io: CommandIo;
  readonly #pending = new Map<string, Pending>();
  readonly #heartbeatMs: number;
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
    heartbeatMs: number,
  ) {
    this.#heartbeatMs = heartbeatMs;
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
    let waitingOn: string | undefined;
    let ticks = 0;
    try {
      while (true) {
        const next = await this.#next(
          pending,
          () => this.#heartbeat(ctx, ++ticks, waitingOn),
        );
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
        if (e.type === "approval_decision") waitingOn = undefined;
        if (e.type !== "approval_required") continue;
        if (
          !canAsk || !hostElicits(server, ctx) ||
          this.#asking.has(e.request_id)
        ) {
          // It waits in the daemon's queue; another client answers.
          waitingOn = e.request_id;
          continue;
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

  /**
   * The call's next event; every `heartbeatMs` while none comes, `tick`
   * (a progress notification keeps a host's request timeout from firing
   * while a human decides).
   */
  async #next(
    pending: Pending,
    tick: () => Promise<void>,
  ): Promise<IteratorResult<ToolCallStreamEvent>> {
    const step = pending.events.next();
    while (true) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const beat = new Promise<"beat">((r) =>
        timer = setTimeout(() => r("beat"), this.#heartbeatMs)
      );
      try {
        const r = await Promise.race([step, beat]);
        if (r !== "beat") return r;
      } finally {
        clearTimeout(timer);
      }
      await tick().catch(() => {}); // silent-ok: a lost heartbeat is harmless
    }
  }

  /** A progress notification, when the host asked for progress. */
  async #heartbeat(
    ctx: ServerContext,
    progress: number,
    waitingOn: string | undefined,
  ): Promise<void> {
    const token = ctx.mcpReq._meta?.progressToken;
    if (token === undefined) return;
    await ctx.mcpReq.notify({
      method: "notifications/progress",
      params: {
        progressToken: token,
        progress,
        message: waitingOn === undefined
          ? "running"
          : `waiting for approval ${waitingOn} (astrid approvals list)`,
      },
    });
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
