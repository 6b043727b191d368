/**
 * A session hub's live session: its runtime (booted lazily), what it is busy
 * with, its running turn, the approval requests it holds and its streams.
 *
 * @module
 */
import type { SessionId } from "../core/ids.ts";
import type { Runtime } from "../daemon/runtime.ts";
import type { ApprovalResponse } from "../security/approval/handler.ts";
import type { ApprovalInfo, PromptStreamEvent } from "../api/contract.ts";
import type { AgentSession, Turn } from "./agent_session.ts";
import type { EventQueue } from "./event_queue.ts";
import type { SessionCalls } from "./session_calls.ts";

/** A session's booted runtime and its agent. */
export interface Booted {
  readonly runtime: Runtime;
  readonly agent: AgentSession;
}

/** An approval request a session holds. */
export interface Pending {
  readonly info: ApprovalInfo;
  /** Whether it still waits. */
  readonly waiting: () => boolean;
  readonly answer: (response: ApprovalResponse) => void;
  /** Takes it back unanswered (the manager then defers it). */
  readonly dismiss: () => void;
}

/** A session the hub serves. */
export interface Live {
  readonly id: SessionId;
  boot: Promise<Booted> | undefined;
  busy: "turn" | "workspace" | "delete" | "tools" | null;
  /** Tool gateway calls in flight (`busy` is `tools` while there are any). */
  readonly calls: SessionCalls;
  turn: Turn | undefined;
  turnDone: Promise<void> | undefined;
  stale: boolean;
  /** When its runtime was last asked for (clock ms; 0: never). */
  lastUsed: number;
  readonly approvals: Map<string, Pending>;
  /** Prompt streams of the running turn. */
  readonly streams: Set<EventQueue<PromptStreamEvent>>;
  /** `events()` subscribers. */
  readonly subscribers: Set<EventQueue<PromptStreamEvent>>;
}
