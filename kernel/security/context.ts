/**
 * Who asks: the context every gate decision is made in.
 *
 * @module
 */
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";

/** The caller of a gated action. */
export interface GateContext {
  /** The user or agent identity the action runs for. */
  readonly principal: PrincipalId;
  /** The session (one conversation / overlay). */
  readonly session: SessionId;
  /** The capsule that asked; `undefined` for the kernel itself. */
  readonly capsule?: CapsuleId;
  /** The canonical absolute workspace root of the session. */
  readonly workspace: string;
  /** Correlates the decision with the host call and its audit entries. */
  readonly callId: string;
  /** The agent the call runs for (`turn-…`, `turn-…/t1`), named in the audit. */
  readonly agent?: string;
}
