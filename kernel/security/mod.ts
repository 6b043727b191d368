/**
 * The security gate: every side effect a capsule causes passes
 * {@linkcode Gate.decide} — manifest grant, policy, capability token, budget,
 * approval — and every decision is appended to the signed audit chain before
 * the effect happens.
 *
 * Security model: deny beats allow; nothing overrides policy; a token skips
 * approval but never policy or budget; a failed audit write refuses the action
 * (fail closed); a budget reservation is refunded whenever the action does not
 * run; a deferred approval is resolved by re-running the whole gate; the
 * kernel's home (`$ASTRID_HOME`) is hard-denied to every action by the policy
 * ({@linkcode ProtectedHome}).
 *
 * @example Decide, act, settle
 * ```ts ignore
 * import { Gate, refusalError } from "./mod.ts";
 * const d = await gate.decide(action, ctx, { estimatedCostMicros: 1_000 });
 * if (!d.allowed) throw refusalError(d);
 * ```
 *
 * @module
 */
export { Gate, refusalError } from "./gate.ts";
export type { DecideOptions, GateDeps } from "./gate.ts";
export type {
  Allowed,
  Decision,
  DenyLayer,
  Proof,
  Refused,
  Settlement,
} from "./gate_types.ts";
export type {
  Action,
  ActionOf,
  ActionType,
  DenoPermission,
  Permission,
  RiskLevel,
} from "./action.ts";
export type { GateContext } from "./context.ts";
export { actionInfo } from "./action_info.ts";
export type { ActionInfo, ResourceMapping } from "./action_info.ts";
export { actionCostMicros, SAMPLING_PRICE } from "./action_cost.ts";
export type { ActionCostOptions, SamplingPrice } from "./action_cost.ts";
export {
  elicitationUrl,
  MAX_ELICITATION_MESSAGE_LENGTH,
  MAX_MCP_NAME_LENGTH,
  MAX_MCP_URI_LENGTH,
  MAX_SAMPLING_PROMPT_CHARS,
  MAX_SAMPLING_TOKENS,
  mcpRequestProblem,
} from "./mcp_request.ts";
export type { ElicitationUrl } from "./mcp_request.ts";
export { SecurityPolicy } from "./policy.ts";
export { policyConfigFromConfig } from "./policy_config.ts";
export type { PolicyConfig, PolicyDecision } from "./policy_config.ts";
export { classifyHost, hostFromUrl } from "./net_address.ts";
export { canonicalizePath } from "./path_rules.ts";
export { ProtectedHome } from "./protected_home.ts";
export type { ProtectedHit, ProtectedHomeOptions } from "./protected_home.ts";
export { checkManifestGrant, NO_GRANTS } from "./manifest_grant.ts";
export type { CapsuleGrants, GrantCheck } from "./manifest_grant.ts";
export { modeVerdict } from "./modes.ts";
export type { EscapePolicy, Mode, ModeSettings, ModeVerdict } from "./modes.ts";
export { BudgetLedger } from "./budget_ledger.ts";
export { budgetLimitsFromConfig, formatUsd, usdToMicros } from "./budget.ts";
export type { BudgetLimits } from "./budget.ts";
export {
  AllowanceStore,
  ApprovalManager,
  DeferredQueue,
} from "./approval/mod.ts";
export type {
  ApprovalHandler,
  ApprovalRequest,
  ApprovalResponse,
} from "./approval/mod.ts";
