/**
 * Flags mode under the gate: before a `flags`-mode MCP server starts, every
 * value that becomes an `--allow-*` flag is decided by the gate as the exact
 * `mcp_permission_check` a broker-mode server would send for it — each net
 * host, each read and write root (but the capsule's own dir), each env name.
 * The policy therefore judges flags exactly as it judges everything else
 * (a host granted `127.0.0.1` or `localhost` is refused unless
 * `security.allow_private_networks`, whatever spelling the server would
 * later use), and the audit chain holds one decision per flag value, taken
 * before the launch. One refusal refuses the launch.
 *
 * What this does not give: Deno enforces the flags on its own afterwards,
 * so what a flags-mode server then reads, writes or connects to — allowed or
 * refused — is not audited per operation. That needs broker mode.
 *
 * @module
 */
import { type ErrorCode, KernelError } from "../../../core/errors.ts";
import type { BrokerDecide, BrokerRequest } from "./permission_broker.ts";
import {
  grantedEnvNames,
  grantedHosts,
  grantedRoots,
  type LaunchGrants,
  type LaunchOptions,
} from "./launch_flags.ts";

/** Gate codes a refusal may carry through to the caller. */
const REFUSALS: ReadonlySet<string> = new Set<ErrorCode>([
  "MANIFEST_DENIED",
  "POLICY_BLOCKED",
  "APPROVAL_DENIED",
  "APPROVAL_DEFERRED",
  "BUDGET_EXCEEDED",
  "AUDIT_FAILED",
]);

/**
 * The permission checks that a flags-mode launch stands for, in flag order.
 *
 * @param grants The manifest grants.
 * @param options Capsule dir, workspace, principal home.
 * @returns One request per flag value.
 * @throws {KernelError} `MANIFEST_INVALID` for a malformed grant.
 *
 * @example Hosts, roots and env names become checks; the capsule dir does not
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagChecks } from "./flags_decisions.ts";
 * const checks = flagChecks(
 *   { fs_read: ["cwd://docs"], fs_write: [], net: ["127.0.0.1"], env: ["TOKEN"] },
 *   { capsuleDir: "/caps/x", workspace: "/ws" },
 * );
 * assert.deepEqual(checks, [
 *   { permission: "read", value: "/ws/docs" },
 *   { permission: "net", value: "127.0.0.1" },
 *   { permission: "env", value: "TOKEN" },
 * ]);
 * ```
 */
export function flagChecks(
  grants: LaunchGrants,
  options: Omit<LaunchOptions, "denoPath" | "mode">,
): BrokerRequest[] {
  const roots = grantedRoots(grants, options);
  // The capsule's own dir is always readable (its code); it is no grant.
  const own = grantedRoots({ ...grants, fs_read: [] }, options).read;
  const checks: BrokerRequest[] = [];
  for (const r of roots.read) {
    if (!own.includes(r)) checks.push({ permission: "read", value: r });
  }
  for (const w of roots.write) checks.push({ permission: "write", value: w });
  for (const h of grantedHosts(grants)) {
    checks.push({ permission: "net", value: h });
  }
  for (const n of grantedEnvNames(grants)) {
    checks.push({ permission: "env", value: n });
  }
  return checks;
}

/**
 * Decides every flag value of a flags-mode launch through the gate; throws
 * at the first refusal, naming the grant.
 *
 * @param decide The server's gate-backed decider (one decision, one audit
 *   entry and one call id per check).
 * @param checks From {@linkcode flagChecks}.
 * @param server The server id, for the message.
 * @throws {KernelError} The gate's code (`POLICY_BLOCKED`, `MANIFEST_DENIED`,
 *   `APPROVAL_DENIED`, …) when a flag value is refused; `ABORTED`.
 */
export async function decideFlags(
  decide: BrokerDecide,
  checks: readonly BrokerRequest[],
  server: string,
): Promise<void> {
  for (const check of checks) {
    const verdict = await decide(check);
    if (verdict.allow) continue;
    const reason = verdict.reason;
    const code: ErrorCode = REFUSALS.has(reason)
      ? reason as ErrorCode
      : "POLICY_BLOCKED";
    throw new KernelError(
      code,
      `Cannot start MCP server '${server}' in flags mode as the gate refused its ${check.permission} grant '${check.value}' (${reason}); flags only carry grants the policy allows`,
      { data: { server, permission: check.permission, value: check.value } },
    );
  }
}
