/**
 * Routes the kernel's approval requests to the frontend of the session that
 * asked. The `ApprovalManager` holds one handler; several sessions (turn
 * APIs) share a kernel, so this router is that handler and each session
 * registers a listener for its own requests. A request of a session with no
 * listener is not answered (the manager then defers or denies it, as it does
 * without a frontend).
 *
 * @module
 */
import type { SessionId } from "../core/ids.ts";
import type {
  ApprovalHandler,
  ApprovalHandlerRequestOptions,
  ApprovalRequest,
  ApprovalResponse,
} from "../security/approval/handler.ts";
import type { ApprovalManager } from "../security/approval/manager.ts";

/** Answers the approval requests of one session. */
export type SessionApprovalListener = (
  request: ApprovalRequest,
  options: ApprovalHandlerRequestOptions,
) => Promise<ApprovalResponse | null>;

/** The approval handler that dispatches by session. */
export class ApprovalRouter implements ApprovalHandler {
  readonly #listeners = new Map<SessionId, SessionApprovalListener>();

  /**
   * Registers the listener of a session (replacing an earlier one).
   *
   * @param session The session.
   * @param listener Its frontend.
   * @returns A function that removes it (only if still the registered one).
   */
  listen(session: SessionId, listener: SessionApprovalListener): () => void {
    this.#listeners.set(session, listener);
    return () => {
      if (this.#listeners.get(session) === listener) {
        this.#listeners.delete(session);
      }
    };
  }

  /** Whether any session has a frontend attached. */
  isAvailable(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Hands the request to its session's listener.
   *
   * @param request The request.
   * @param options Dismissal signal.
   * @returns The answer, or `null` when no listener serves that session.
   */
  request(
    request: ApprovalRequest,
    options: ApprovalHandlerRequestOptions,
  ): Promise<ApprovalResponse | null> {
    const listener = this.#listeners.get(request.ctx.session);
    return listener ? listener(request, options) : Promise.resolve(null);
  }
}

const routers = new WeakMap<ApprovalManager, ApprovalRouter>();

/**
 * The router installed as the manager's handler (installed on first use).
 *
 * @param approvals The kernel's approval manager.
 * @returns Its router.
 */
export function approvalRouterOf(approvals: ApprovalManager): ApprovalRouter {
  let router = routers.get(approvals);
  if (router === undefined) {
    router = new ApprovalRouter();
    routers.set(approvals, router);
    approvals.setHandler(router);
  }
  return router;
}
