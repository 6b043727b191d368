/**
 * The port between the API routes and the daemon's sessions: what the
 * session, prompt, approval and workspace routes need. Implemented by
 * `kernel/turn/session_hub.ts`.
 *
 * @module
 */
import type { Message } from "../../sdk/llm.ts";
import type {
  ApprovalAnswerBody,
  ApprovalInfo,
  CreateSessionBody,
  GatewayItem,
  GatewayTool,
  ItemGetBody,
  PromptBody,
  PromptStreamEvent,
  SessionInfo,
  ToolCallBody,
  ToolCallStreamEvent,
  WorkspaceChange,
} from "./contract.ts";

/** Who sent an API request (kept in the audit entry of an approval answer). */
export interface ApiCaller {
  /** `socket`, `serve` or `web`. */
  readonly via: string;
  /** The remote address, when there is one. */
  readonly address?: string;
}

/** The daemon's sessions, as the API routes see them. */
export interface SessionHub {
  /** Every session known (persisted), newest first. */
  list(): Promise<SessionInfo[]>;
  /** Creates a session in a workspace inside the daemon's roots. */
  create(body: CreateSessionBody): Promise<SessionInfo>;
  /** One session (`NOT_FOUND`). */
  get(id: string): Promise<SessionInfo>;
  /** Deletes a session: its record, history and overlay (`TURN_BUSY` while a turn runs). */
  delete(id: string): Promise<void>;
  /** The session's history. */
  messages(id: string): Promise<Message[]>;
  /** Starts a turn; the stream begins with `turn_start` and ends with `final` or `error`. */
  prompt(
    id: string,
    body: PromptBody,
    signal: AbortSignal,
  ): Promise<AsyncIterable<PromptStreamEvent>>;
  /** The tools of the session's capsules (only those of `capsules` when given). */
  tools(id: string, capsules?: readonly string[]): Promise<GatewayTool[]>;
  /**
   * Calls a tool for an external MCP host (the tool gateway): gated,
   * budgeted and audited before the tool's capsule sees it; the stream
   * carries the session's approval requests while the call waits, then
   * one `result` or `error`. `TURN_BUSY` while a turn or commit runs.
   */
  callTool(
    id: string,
    body: ToolCallBody,
    signal: AbortSignal,
  ): Promise<AsyncIterable<ToolCallStreamEvent>>;
  /** The resources or prompts of the session's MCP capsules. */
  items(
    id: string,
    kind: "resources" | "prompts",
    capsules?: readonly string[],
  ): Promise<GatewayItem[]>;
  /**
   * Reads a resource or gets a prompt for an external MCP host (the MCP
   * capsule's gated `mcp_resource_read` / `mcp_prompt_get`; an approval it
   * asks for waits for any API client). `TURN_BUSY` while a turn runs.
   */
  getItem(
    id: string,
    kind: "resources" | "prompts",
    body: ItemGetBody,
    signal: AbortSignal,
  ): Promise<unknown>;
  /** Cancels the running turn of a session (no-op when idle). */
  cancel(id: string): Promise<void>;
  /** The session's live events (approval requests and answers, turn events). */
  events(id: string, signal: AbortSignal): AsyncIterable<PromptStreamEvent>;
  /** Pending and deferred approval requests, optionally of one session. */
  approvals(session?: string): Promise<ApprovalInfo[]>;
  /** Answers a pending or deferred request (audited with the caller). */
  answer(
    requestId: string,
    body: ApprovalAnswerBody,
    caller: ApiCaller,
  ): Promise<void>;
  /** The changes waiting in the session's overlay. */
  diff(id: string): Promise<WorkspaceChange[]>;
  /** Commits the overlay (gated; its approvals arrive like a turn's). */
  commit(id: string, paths?: readonly string[]): Promise<string[]>;
  /** Discards overlay changes. */
  discard(id: string, paths?: readonly string[]): Promise<string[]>;
  /** Reloads the installed capsules in every idle session. */
  reload(): Promise<void>;
  /** Sessions known and live. */
  counts(): Promise<{ known: number; live: number }>;
  /** Ends every turn, unloads every runtime, flushes. */
  close(): Promise<void>;
}
