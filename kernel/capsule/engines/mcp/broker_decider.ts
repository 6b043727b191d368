/**
 * Turns the permission checks of an MCP subprocess into gate decisions: each
 * broker request becomes the action
 * `{type: "mcp_permission_check", server, permission, value}` decided (and
 * audited) by the gate in the capsule's context.
 *
 * Values are passed on exactly as Deno sends them (Deno 2.9.6): `read`/`write`
 * absolute paths, `net` `host:port`, `env` a variable name, `sys` a function
 * name (`hostname`), `import` a `host:port` of a remote module, `run` a
 * command; `null` means "all of it".
 *
 * Security model: only an allowed decision answers `allow`; every refusal
 * (including `APPROVAL_DEFERRED` and `AUDIT_FAILED`) answers `deny` with the
 * refusal code as reason, so the child learns no policy detail. A gate that
 * throws makes the broker deny as well.
 *
 * @module
 */
import type { GateContext } from "../../../security/context.ts";
import type { Gate } from "../../../security/gate.ts";
import type { BrokerDecide, BrokerVerdict } from "./permission_broker.ts";

/** Options of {@linkcode brokerDecider}. */
export interface BrokerDeciderOptions {
  /**
   * The capsule's context (principal, session, capsule, workspace), made
   * fresh for every check: each check is its own decision with its own call
   * id in the audit chain.
   */
  ctx: () => GateContext;
  /** The MCP server's name, as in the manifest. */
  server: string;
  /** Cancels pending decisions (e.g. approvals) when the capsule stops. */
  signal?: AbortSignal;
}

/**
 * Builds the `decide` function of a permission broker from a gate.
 *
 * @param gate The gate (only `decide` is used).
 * @param options The capsule's context and server name.
 * @returns A {@linkcode BrokerDecide} for `startPermissionBroker()`.
 * @throws {KernelError} The returned function rejects with `ABORTED` when
 * `signal` fires during a decision (the broker then denies).
 *
 * @example Deny what the gate refuses
 * ```ts
 * import assert from "node:assert/strict";
 * import { brokerDecider } from "./broker_decider.ts";
 * import type { Gate } from "../../../security/gate.ts";
 * import type { GateContext } from "../../../security/context.ts";
 * const gate = {
 *   decide: () => Promise.resolve({ allowed: false, code: "MANIFEST_DENIED" }),
 * } as unknown as Gate;
 * const decide = brokerDecider(gate, { ctx: () => ({}) as GateContext, server: "fs" });
 * assert.deepEqual(await decide({ permission: "read", value: "/etc/passwd" }), {
 *   allow: false,
 *   reason: "MANIFEST_DENIED",
 * });
 * ```
 */
export function brokerDecider(
  gate: Pick<Gate, "decide">,
  options: BrokerDeciderOptions,
): BrokerDecide {
  const { ctx, server, signal } = options;
  return async (req): Promise<BrokerVerdict> => {
    const decision = await gate.decide(
      {
        type: "mcp_permission_check",
        server,
        permission: req.permission,
        value: req.value,
      },
      ctx(),
      signal === undefined ? {} : { signal },
    );
    if (!decision.allowed) return { allow: false, reason: decision.code };
    decision.budget.commit();
    return { allow: true };
  };
}
