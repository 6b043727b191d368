/**
 * The daemon's HTTP API: routes and the JSON shapes they exchange. One
 * contract, served on the daemon's Unix socket (`run/system.sock`), by the
 * headless server (`kernel/serve.ts`, TCP with bearer auth), and read by
 * every client (the CLI, the chat TUI, the web console).
 *
 * Conventions:
 * - Every route lives under {@linkcode API_PREFIX}; bodies are JSON
 *   (at most {@linkcode MAX_BODY_BYTES}); every request carries
 *   `Authorization: Bearer <token>`.
 * - A failure answers a 4xx/5xx status with {@linkcode ApiErrorBody}: a
 *   stable code and a message (never a host path or a stack).
 * - Streams are Server-Sent Events: `event:` is the event's `type`, `data:`
 *   its JSON. A prompt streams the turn events of `sdk/turn.ts`
 *   (`TURN_EVENTS_VERSION`), preceded by one {@linkcode TurnStartEvent}.
 *
 * @module
 */
import type { WireError } from "../core/errors.ts";
import type {
  ApprovalAnswer,
  ApprovalDecisionEvent,
  ApprovalRequiredEvent,
  ErrorEvent,
  RiskLevel,
  TurnEvent,
} from "../../sdk/turn.ts";

/** The version of this API; the prefix of every route. */
export const API_VERSION = 1 as const;

/** Every route starts with this. */
export const API_PREFIX = "/v1";

/** The largest request body the API reads (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The body of every failed request. */
export interface ApiErrorBody {
  /** Code and message, as on every other boundary. */
  readonly error: WireError;
}

/** The routes: method and path pattern (`:name` is one path segment). */
export const ROUTES = {
  status: "GET /v1/status",
  /** This node, the cluster's nodes, store and NATS reachability: `ClusterStatus` (`kernel/cluster/cluster_status.ts`). */
  clusterStatus: "GET /v1/cluster",
  shutdown: "POST /v1/shutdown",
  sessionsList: "GET /v1/sessions",
  sessionsCreate: "POST /v1/sessions",
  sessionsShow: "GET /v1/sessions/:id",
  sessionsDelete: "DELETE /v1/sessions/:id",
  sessionMessages: "GET /v1/sessions/:id/messages",
  /** Body {@linkcode PromptBody}; answers an SSE stream of turn events. */
  sessionPrompt: "POST /v1/sessions/:id/prompt",
  sessionCancel: "POST /v1/sessions/:id/cancel",
  /** The session's and its workspace's spend and the limits: {@linkcode SessionBudget}. */
  sessionBudget: "GET /v1/sessions/:id/budget",
  /** SSE: the session's events (approval requests and answers, turn events of any client). */
  sessionEvents: "GET /v1/sessions/:id/events",
  workspaceDiff: "GET /v1/sessions/:id/workspace/diff",
  /** Body {@linkcode WorkspacePathsBody}. */
  workspaceCommit: "POST /v1/sessions/:id/workspace/commit",
  /** Body {@linkcode WorkspacePathsBody}. */
  workspaceDiscard: "POST /v1/sessions/:id/workspace/discard",
  /** Query `capsule=<name>` (repeatable) narrows to those capsules' tools; answers {@linkcode GatewayTool}`[]`. */
  sessionTools: "GET /v1/sessions/:id/tools",
  /** Body {@linkcode ToolCallBody}; answers an SSE stream of {@linkcode ToolCallStreamEvent}. */
  sessionToolCall: "POST /v1/sessions/:id/tools/call",
  /** Query `capsule` as for tools; answers {@linkcode GatewayItem}`[]` (each with `uri`). */
  sessionResources: "GET /v1/sessions/:id/resources",
  /** Body {@linkcode ItemGetBody} (`key` = the URI); answers the server's `ReadResourceResult`. */
  sessionResourceRead: "POST /v1/sessions/:id/resources/read",
  /** Query `capsule` as for tools; answers {@linkcode GatewayItem}`[]` (each with `name`). */
  sessionPrompts: "GET /v1/sessions/:id/prompts",
  /** Body {@linkcode ItemGetBody} (`key` = the name); answers the server's `GetPromptResult`. */
  sessionPromptGet: "POST /v1/sessions/:id/prompts/get",
  /** Query `session=<id>` narrows to one session. */
  approvalsList: "GET /v1/approvals",
  /** Body {@linkcode ApprovalAnswerBody}. */
  approvalsAnswer: "POST /v1/approvals/:id",
  capsulesList: "GET /v1/capsules",
  capsulesTree: "GET /v1/capsules/tree",
  /** Body {@linkcode CapsuleInstallBody}; answers an SSE stream of {@linkcode ProgressEvent}. */
  capsulesInstall: "POST /v1/capsules/install",
  /** Answers an SSE stream of {@linkcode ProgressEvent}. */
  capsulesUpdate: "POST /v1/capsules/:name/update",
  capsulesRemove: "DELETE /v1/capsules/:name",
  capsulesReload: "POST /v1/capsules/reload",
  /** Query: `session`, `capsule`, `action`, `decision`, `limit`. */
  auditList: "GET /v1/audit",
  auditShow: "GET /v1/audit/entries/:id",
  auditVerify: "POST /v1/audit/verify",
  /** Answers JSON lines (`application/x-ndjson`). */
  auditExport: "GET /v1/audit/export",
  auditStats: "GET /v1/audit/stats",
  keys: "GET /v1/keys",
  config: "GET /v1/config",
} as const;

/** The name of a route. */
export type RouteName = keyof typeof ROUTES;

/**
 * The path of a route with its parameters filled in (each one URL-encoded).
 *
 * @param route The route name.
 * @param params Values of its `:name` segments.
 * @returns Method and path.
 *
 * @example
 * ```ts
 * import { routePath } from "./contract.ts";
 * const r = routePath("sessionsShow", { id: "a b" });
 * console.assert(r.path === "/v1/sessions/a%20b" && r.method === "GET");
 * ```
 */
export function routePath(
  route: RouteName,
  params: Readonly<Record<string, string>> = {},
): { method: string; path: string } {
  const [method, pattern] = ROUTES[route].split(" ") as [string, string];
  const path = pattern.replace(/:([a-z]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`route ${route} needs :${name}`);
    return encodeURIComponent(v);
  });
  return { method, path };
}

/** What `GET /v1/status` answers. */
export interface StatusInfo {
  /** The kernel version. */
  readonly version: string;
  /** The Deno version the daemon runs on. */
  readonly deno: string;
  /** The daemon's process id (`null` on a platform without one). */
  readonly pid: number | null;
  /** The principal served. */
  readonly principal: string;
  /** Milliseconds since the daemon started. */
  readonly uptime_ms: number;
  /** Sessions known (persisted) and live (a runtime is booted). */
  readonly sessions: { readonly known: number; readonly live: number };
  /** Each engine and whether it can run here. */
  readonly engines: readonly EngineStatus[];
  /** The runtime key id (signs tokens and audit entries). */
  readonly key_id: string;
  /** `socket` for the daemon, `serve` for the headless server. */
  readonly mode: "socket" | "serve";
  /** Idle timeout of an ephemeral daemon in ms, or `null` when it stays. */
  readonly idle_timeout_ms: number | null;
}

/** Whether an engine can run on this host. */
export interface EngineStatus {
  /** `js`, `wasm`, `static`, `mcp`. */
  readonly name: string;
  /** Whether capsules of this engine load. */
  readonly available: boolean;
  /** Why not, when not. */
  readonly reason?: string;
}

/** A session as the API shows it (persisted; survives restarts). */
export interface SessionInfo {
  /** The session id. */
  readonly id: string;
  /** The workspace (absolute path). */
  readonly workspace: string;
  /** Creation time, ms since the epoch. */
  readonly created_at: number;
  /** Last activity, ms since the epoch. */
  readonly updated_at: number;
  /** Turns started in it. */
  readonly turns: number;
  /** The first prompt's first line (for lists), or `null`. */
  readonly title: string | null;
  /** Whether a turn runs now. */
  readonly busy: boolean;
  /** Approval requests of the session waiting for an answer. */
  readonly pending_approvals: number;
}

/** What `GET /v1/sessions/:id/budget` answers (US dollars). */
export interface SessionBudget {
  /** The session. */
  readonly session: string;
  /** Its workspace. */
  readonly workspace: string;
  /** Spent by the session. */
  readonly session_spent_usd: number;
  /** Spent in the workspace (every session of the principal there). */
  readonly workspace_spent_usd: number;
  /** The limits. */
  readonly limits: {
    /** The most one action may cost. */
    readonly per_action_max_usd: number;
    /** The most one session may spend. */
    readonly session_max_usd: number;
    /** The most one workspace may spend; `null` = uncapped. */
    readonly workspace_max_usd: number | null;
    /** Warn once this percentage of a cap is used. */
    readonly warn_at_percent: number;
  };
}

/** Body of `POST /v1/sessions`. */
export interface CreateSessionBody {
  /** The workspace (absolute path); must lie inside the daemon's roots. */
  readonly workspace: string;
}

/** Body of `POST /v1/sessions/:id/prompt`. */
export interface PromptBody {
  /** The user's prompt. */
  readonly text: string;
  /** The provider (`llm.v1.request.generate.<provider>`); absent = configured default. */
  readonly provider?: string;
  /** The model; absent = the provider's default. */
  readonly model?: string;
}

/** The first event of a prompt stream. */
export interface TurnStartEvent {
  /** Discriminator. */
  readonly type: "turn_start";
  /** The turn id. */
  readonly turn_id: string;
  /** The session id. */
  readonly session: string;
}

/** One event of a prompt stream. */
export type PromptStreamEvent = TurnStartEvent | TurnEvent;

/** An approval request as the API lists it. */
export interface ApprovalInfo {
  /** Answer it with `POST /v1/approvals/:id`. */
  readonly request_id: string;
  /** `pending`: a turn or commit waits now; `deferred`: queued, nobody answered in time. */
  readonly kind: "pending" | "deferred";
  /** The session that asked. */
  readonly session: string;
  /** The action kind, e.g. `fs_write`. */
  readonly action: string;
  /** What it touches. */
  readonly resource: string;
  /** How dangerous it is. */
  readonly risk: RiskLevel;
  /** A one-line human summary. */
  readonly summary: string;
  /** Why it was deferred, for a deferred one. */
  readonly reason?: string;
  /** The answers offered. */
  readonly options: readonly ApprovalAnswer[];
  /** When it was asked, ms since the epoch. */
  readonly created_at: number;
}

/** Body of `POST /v1/approvals/:id`. */
export interface ApprovalAnswerBody {
  /** One of the options offered. */
  readonly decision: ApprovalAnswer;
  /** Why (kept in the audit log). */
  readonly reason?: string;
  /**
   * The person's client when the caller relays an answer (the web console:
   * `{via: "web", address}`); kept in the audit entry beside the caller.
   */
  readonly on_behalf_of?: AnswerOrigin;
}

/** Where a relayed approval answer came from (e.g. a browser of the web console). */
export interface AnswerOrigin {
  /** The relaying client, e.g. `web`. */
  readonly via: string;
  /** The person's address as the relaying client saw it. */
  readonly address?: string;
}

/** Body of `POST /v1/sessions/:id/workspace/commit` and `/discard`. */
export interface WorkspacePathsBody {
  /** Workspace-relative paths; absent = every change. */
  readonly paths?: readonly string[];
}

/** One change waiting in a session's overlay. */
export interface WorkspaceChange {
  /** `added`, `modified`, `deleted`. */
  readonly change: string;
  /** Workspace-relative path. */
  readonly path: string;
  /** A unified line diff, when the file is text and small. */
  readonly diff?: string;
}

/** Body of `POST /v1/capsules/install`. */
export interface CapsuleInstallBody {
  /** A directory (absolute path) or `npm:<package>`. */
  readonly source: string;
  /** Install an MCP capsule without bubblewrap confinement (the operator's explicit choice). */
  readonly unconfined?: boolean;
}

/** A step of a long operation (install, update), streamed as SSE. */
export interface ProgressEvent {
  /** `progress` while working; the stream ends with `done` or `error`. */
  readonly type: "progress" | "done" | "error";
  /** What is happening / what was done / what failed. */
  readonly message: string;
  /** Steps done and total, when known. */
  readonly step?: number;
  /** Total steps, when known. */
  readonly total?: number;
  /** The error, for `error`. */
  readonly error?: WireError;
  /** The result, for `done`. */
  readonly result?: Readonly<Record<string, unknown>>;
}

/** A tool of a session's capsules, as the tool gateway offers it to an MCP host. */
export interface GatewayTool {
  /** The tool's name (`tool.v1.execute.<name>`). */
  readonly name: string;
  /** What it does. */
  readonly description: string;
  /** JSON Schema of its arguments (an object schema). */
  readonly input_schema: Readonly<Record<string, unknown>>;
  /** The capsule that offers it. */
  readonly capsule: string;
}

/** Body of `POST /v1/sessions/:id/tools/call`. */
export interface ToolCallBody {
  /** The tool's name. */
  readonly name: string;
  /** Its arguments (a JSON object; absent = `{}`). */
  readonly arguments?: Readonly<Record<string, unknown>>;
  /** Only tools of these capsules may be called (absent = every capsule's). */
  readonly capsules?: readonly string[];
}

/** The last event of a successful tool call stream: the tool's result. */
export interface ToolCallResultEvent {
  /** Discriminator. */
  readonly type: "result";
  /** The call's id (in the audit entries of its decision and outcome). */
  readonly call_id: string;
  /** Whether the tool failed (its own failure: the call itself was allowed). */
  readonly is_error: boolean;
  /** The result as text. */
  readonly content: string;
  /** An MCP capsule's tool: the MCP content blocks as the server sent them. */
  readonly mcp_content?: readonly unknown[];
  /** An MCP capsule's tool: its structured content. */
  readonly structured_content?: unknown;
}

/**
 * One event of a tool call stream: approval requests of the session while
 * the call waits (answer them with `POST /v1/approvals/:id`) and their
 * decisions, then exactly one `result` or `error` (a refusal: the gate's
 * code, e.g. `POLICY_BLOCKED`, `APPROVAL_DENIED`, and its reason).
 */
export type ToolCallStreamEvent =
  | ApprovalRequiredEvent
  | ApprovalDecisionEvent
  | ToolCallResultEvent
  | ErrorEvent;

/**
 * A resource or prompt of a session's MCP capsule, as its server described
 * it (`uri`, `name`, `description`, `mimeType`, `arguments`…), with the
 * capsule and server that offer it.
 */
export interface GatewayItem {
  /** The server's fields. */
  readonly [field: string]: unknown;
  /** The MCP capsule. */
  readonly capsule: string;
  /** Its server. */
  readonly server: string;
}

/** Body of `POST …/resources/read` and `POST …/prompts/get`. */
export interface ItemGetBody {
  /** The resource's URI, or the prompt's name. */
  readonly key: string;
  /** A prompt's arguments (strings). */
  readonly arguments?: Readonly<Record<string, string>>;
  /** Only items of these capsules (absent = every capsule's). */
  readonly capsules?: readonly string[];
}
