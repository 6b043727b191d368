/**
 * The turn events: what every frontend (CLI `--json`, the chat TUI, the
 * daemon's SSE stream, the web console) receives while an agent works on one
 * prompt. One turn is a stream of these events ending with exactly one
 * `final` or `error`. The shape is versioned by {@linkcode TURN_EVENTS_VERSION};
 * fields are only ever added within a version.
 *
 * @module
 */
import type { Usage } from "./llm.ts";

/** The version of the turn event shapes. */
export const TURN_EVENTS_VERSION = 1 as const;

/** The answers a human may give to an approval request. */
export type ApprovalAnswer =
  | "allow_once"
  | "allow_session"
  | "allow_workspace"
  | "allow_always"
  | "deny";

/** The risk of an action awaiting approval. */
export type RiskLevel = "low" | "medium" | "high" | "critical";

/** A text fragment of the model's answer, as it streams. */
export interface TextDeltaEvent {
  /** Discriminator. */
  readonly type: "text_delta";
  /** The fragment. */
  readonly text: string;
}

/** The agent calls a tool. */
export interface ToolCallEvent {
  /** Discriminator. */
  readonly type: "tool_call";
  /** The call's id. */
  readonly id: string;
  /** The tool. */
  readonly name: string;
  /** Its arguments. */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** A tool call ended. */
export interface ToolResultEvent {
  /** Discriminator. */
  readonly type: "tool_result";
  /** The {@linkcode ToolCallEvent.id} it answers. */
  readonly id: string;
  /** Whether it failed (refusals by the gate included). */
  readonly is_error: boolean;
  /** The result text the model sees. */
  readonly content: string;
}

/** The gate needs a human before an effect; answer it with the request id. */
export interface ApprovalRequiredEvent {
  /** Discriminator. */
  readonly type: "approval_required";
  /** Pass it to the answer call. */
  readonly request_id: string;
  /** The action kind, e.g. `fs_write`, `process_spawn`. */
  readonly action: string;
  /** What it touches, e.g. the file path or the command line. */
  readonly resource: string;
  /** How dangerous it is. */
  readonly risk: RiskLevel;
  /** The answers offered. */
  readonly options: readonly ApprovalAnswer[];
}

/** An approval request was answered (by a human, a stored allowance or a timeout). */
export interface ApprovalDecisionEvent {
  /** Discriminator. */
  readonly type: "approval_decision";
  /** The request answered. */
  readonly request_id: string;
  /** The answer. */
  readonly decision: ApprovalAnswer;
}

/** Money spent so far in the session, after a model or tool call. */
export interface BudgetEvent {
  /** Discriminator. */
  readonly type: "budget";
  /** Spent in the session, in USD. */
  readonly spent_usd: number;
  /** The session's limit in USD, or `null` when unlimited. */
  readonly limit_usd: number | null;
}

/** The turn ended with an answer. */
export interface FinalEvent {
  /** Discriminator. */
  readonly type: "final";
  /** The answer's full text. */
  readonly text: string;
  /** Tokens used by all model calls of the turn. */
  readonly usage: Usage;
}

/** The turn ended without an answer. */
export interface ErrorEvent {
  /** Discriminator. */
  readonly type: "error";
  /** A kernel error code, e.g. `ABORTED`, `CAPSULE_TIMEOUT`, `PROVIDER_FAILED`. */
  readonly code: string;
  /** What failed and why. */
  readonly message: string;
}

/** One event of a turn. */
export type TurnEvent =
  | TextDeltaEvent
  | ToolCallEvent
  | ToolResultEvent
  | ApprovalRequiredEvent
  | ApprovalDecisionEvent
  | BudgetEvent
  | FinalEvent
  | ErrorEvent;

/** The `type` of every turn event. */
export const TURN_EVENT_TYPES: readonly TurnEvent["type"][] = Object.freeze([
  "text_delta",
  "tool_call",
  "tool_result",
  "approval_required",
  "approval_decision",
  "budget",
  "final",
  "error",
]);

/**
 * Whether an event ends its turn.
 *
 * @param event A turn event.
 * @returns `true` for `final` and `error`.
 *
 * @example
 * ```ts
 * import { isTerminal } from "./turn.ts";
 * console.assert(isTerminal({ type: "error", code: "ABORTED", message: "cancelled" }));
 * console.assert(!isTerminal({ type: "text_delta", text: "Hi" }));
 * ```
 */
export function isTerminal(event: TurnEvent): event is FinalEvent | ErrorEvent {
  return event.type === "final" || event.type === "error";
}
