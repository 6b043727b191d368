/**
 * Commits a session's overlay — a gated action of its own — while a
 * frontend answers the session's approval requests (the commit asks for
 * `overlay_commit` in every mode but `yolo`). One implementation for the CLI
 * (answers on the terminal) and the daemon (answers from any API client).
 *
 * @module
 */
import type { KernelHandle } from "../daemon/boot.ts";
import type { Runtime } from "../daemon/runtime.ts";
import type { SessionId } from "../core/ids.ts";
import type {
  ApprovalRequest,
  ApprovalResponse,
} from "../security/approval/handler.ts";
import { approvalRouterOf } from "./approval_router.ts";

/** A session's overlay (what `runtime.overlays.forSession` opens). */
export type SessionOverlay = Awaited<
  ReturnType<Runtime["overlays"]["forSession"]>
>;

/**
 * Answers one approval request of the commit: the answer, or `null` when
 * nobody answered (the manager then defers the request). `signal` fires when
 * the answer is no longer wanted.
 */
export type CommitApprover = (
  request: ApprovalRequest,
  signal: AbortSignal,
) => Promise<ApprovalResponse | null>;

/** Options of {@linkcode commitOverlayAnswering}. */
export interface CommitAnsweringOptions {
  /** Only these workspace-relative paths; absent = every change. */
  readonly paths?: readonly string[];
  /** Cancels between paths. */
  readonly signal?: AbortSignal;
}

/**
 * Commits the overlay while `approve` answers the session's approval
 * requests (registered on the kernel's approval router for the session for
 * the duration of the commit; the session must have no other listener then,
 * i.e. no running turn).
 *
 * @param kernel The kernel.
 * @param session The session whose overlay it is.
 * @param overlay The session's overlay.
 * @param approve Answers each request.
 * @param options Paths, cancellation.
 * @returns `"<op> <path>"` of every change committed.
 * @throws {KernelError} The gate's refusal (`APPROVAL_DENIED`, `APPROVAL_DEFERRED`, …).
 */
export async function commitOverlayAnswering(
  kernel: KernelHandle,
  session: SessionId,
  overlay: SessionOverlay,
  approve: CommitApprover,
  options: CommitAnsweringOptions = {},
): Promise<string[]> {
  const stop = approvalRouterOf(kernel.security.approvals).listen(
    session,
    (request, { signal }) => approve(request, signal),
  );
  try {
    const result = await overlay.commit({
      ...(options.paths ? { paths: options.paths } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return result.committed.map((c) => `${c.op} ${c.path}`);
  } finally {
    stop();
  }
}
