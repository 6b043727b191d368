/**
 * The turn API: the one contract of every frontend (see `agent_session.ts`).
 *
 * @module
 */
export {
  AgentSession,
  type AgentSessionOptions,
  DEFAULT_TURN_TIMEOUT_MS,
  type Turn,
} from "./agent_session.ts";
export { ApprovalRouter, approvalRouterOf } from "./approval_router.ts";
export type { SessionApprovalListener } from "./approval_router.ts";
export { EventQueue } from "./event_queue.ts";
export {
  type CommitAnsweringOptions,
  type CommitApprover,
  commitOverlayAnswering,
  type SessionOverlay,
} from "./commit_answering.ts";
