/**
 * Approvals: the fourth layer of the gate. When the mode and the risk of an
 * action call for a human, the gate first looks for an allowance left by an
 * earlier Session or Workspace approval ({@linkcode AllowanceStore}), then
 * asks through the registered frontend ({@linkcode ApprovalManager}), and
 * when nobody can answer, queues the request ({@linkcode DeferredQueue}) so
 * the caller gets `APPROVAL_DEFERRED` and a human can resolve it later.
 *
 * - Options: Allow Once (no grant), Allow Session (allowance until the
 *   session is cleared), Allow Workspace (allowance bound to the exact
 *   workspace root), Allow Always (the gate mints a capability token),
 *   Deny.
 * - Allowance patterns (`exact_tool`, `server_tools`, `file_pattern`,
 *   `network_host`, `command_pattern`, `workspace_relative`,
 *   `capsule_capability`, `capsule_wildcard`, and for MCP requests
 *   `mcp_resource`, `mcp_prompt`, `mcp_elicitation`, `mcp_sampling`) match
 *   actions with the kernel glob or exact comparison; {@linkcode allowancePatternFor} builds the narrowest pattern for an
 *   approved action.
 * - Deferred resolutions persist for 24 h; resolving one takes it out of the
 *   queue and re-runs the gate with the stored action and context.
 *
 * Security model: nothing here ever allows by default. Missing, unavailable,
 * failing, silent or slow handlers defer; malformed answers defer; malformed
 * stored allowances grant nothing. Command allowances keep the arguments,
 * escape approved glob characters, and never match a line with a shell
 * metacharacter (`;` `&` `|` `` ` `` `$` `<` `>`, newline); file allowances
 * never match a path with a `..` segment. Allowances are isolated per
 * principal, bound to their session or exact workspace root, and consumed
 * atomically so a `max_uses` limit holds under concurrency. An
 * `AllowanceStore` keeps an in-memory copy of each principal's allowances to
 * find candidates without a store scan, but every use is still decided by the
 * stored record (one read, or the consuming transaction).
 *
 * @example Approve `git status` for the session, and only `git status`
 * ```ts
 * import assert from "node:assert/strict";
 * import { AllowanceStore } from "./mod.ts";
 * import { KvStore } from "../../store/kv_store.ts";
 * import { openKv } from "../../host/open_kv.ts";
 * import { FakeClock, SeededRandom } from "../../testing/mod.ts";
 * import type { GateContext } from "../context.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const allowances = new AllowanceStore({ store, clock: new FakeClock(0), random: new SeededRandom(7) });
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const run = (...args: string[]) => ({ type: "execute_command", command: "git", args }) as const;
 * await allowances.grant(run("status"), ctx, { scope: "session" });
 * assert.ok(await allowances.findAndConsume(run("status"), ctx));
 * assert.equal(await allowances.findAndConsume(run("push", "--force"), ctx), null);
 * assert.equal(await allowances.findAndConsume(run("status", "$(id)"), ctx), null);
 * ```
 *
 * @module
 */
export {
  allowanceApplies,
  isAllowanceValid,
  parseAllowance,
  parseAllowancePattern,
} from "./allowance.ts";
export type { Allowance, AllowanceScope } from "./allowance.ts";
export {
  capsuleCapabilityOf,
  describeAllowancePattern,
  matchesAllowancePattern,
  normalizeHost,
} from "./allowance_pattern.ts";
export type {
  AllowancePattern,
  AllowancePatternType,
  FilePermission,
  MatchOptions,
  WorkspacePermission,
} from "./allowance_pattern.ts";
export {
  describeMcpPattern,
  matchesMcpPattern,
  mcpPatternFor,
  parseMcpPattern,
} from "./mcp_pattern.ts";
export type { McpRequestPattern, PatternFields } from "./mcp_pattern.ts";
export {
  allowanceFromAction,
  allowancePatternFor,
} from "./allowance_from_action.ts";
export type { AllowanceFromActionOptions } from "./allowance_from_action.ts";
export { ALLOWANCE_NAMESPACE, AllowanceStore } from "./allowance_store.ts";
export type {
  AllowanceStoreDeps,
  AllowanceUse,
  GrantOptions,
  ListAllowancesOptions,
} from "./allowance_store.ts";
export {
  commandPatternFor,
  escapeGlob,
  hasShellMetacharacter,
  matchesCommandPattern,
  renderCommandLine,
} from "./command_line.ts";
export {
  DEFERRED_NAMESPACE,
  DEFERRED_TTL_MS,
  DeferredQueue,
} from "./deferred_queue.ts";
export type {
  DeferredLookupOptions,
  DeferredQueueDeps,
  DeferredResolution,
  DeferRequest,
} from "./deferred_queue.ts";
export {
  APPROVAL_OPTION_LABELS,
  APPROVAL_OPTIONS,
  MAX_REASON_LENGTH,
  parseApprovalResponse,
} from "./handler.ts";
export type {
  ApprovalHandler,
  ApprovalHandlerRequestOptions,
  ApprovalOption,
  ApprovalRequest,
  ApprovalResponse,
} from "./handler.ts";
export { ApprovalManager } from "./manager.ts";
export type { ApprovalManagerDeps, AskOptions, AskOutcome } from "./manager.ts";
