/**
 * The `approval_required` turn event of a kernel approval request: what a
 * frontend shows (action kind, the path, host or summary it touches, risk,
 * the options offered).
 *
 * @module
 */
import { actionInfo } from "../security/action_info.ts";
import type {
  ApprovalOption,
  ApprovalRequest,
} from "../security/approval/handler.ts";
import type { ApprovalRequiredEvent } from "../../sdk/turn.ts";

/**
 * The event a frontend receives for an approval request.
 *
 * @param request The kernel's request.
 * @returns The `approval_required` event.
 */
export function approvalEventOf(
  request: ApprovalRequest,
): ApprovalRequiredEvent {
  const info = actionInfo(request.action);
  return {
    type: "approval_required",
    request_id: request.id,
    action: info.type,
    resource: info.paths[0] ?? info.hosts[0] ?? info.summary,
    risk: request.risk,
    options: [...request.options] as ApprovalOption[],
  };
}
