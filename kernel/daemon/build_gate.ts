/**
 * Builds the security gate and its layers from the effective configuration.
 * Part of the composition root: it only wires, it holds no policy.
 *
 * @module
 */
import type { EffectiveConfig } from "../config/effective_config.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { Clock, Logger, Random } from "../core/ports.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Store } from "../store/store.ts";
import { AuditLog } from "../audit/audit_log.ts";
import { TokenAuthority } from "../capability/token_authority.ts";
import { Gate } from "../security/gate.ts";
import type { CapsuleGrants } from "../security/manifest_grant.ts";
import { SecurityPolicy } from "../security/policy.ts";
import { policyConfigFromConfig } from "../security/policy_config.ts";
import { BudgetLedger } from "../security/budget_ledger.ts";
import { budgetLimitsFromConfig } from "../security/budget.ts";
import { AllowanceStore, ApprovalManager } from "../security/approval/mod.ts";

/** The security layers of a kernel. */
export interface SecurityLayers {
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly tokens: TokenAuthority;
  readonly budget: BudgetLedger;
  readonly allowances: AllowanceStore;
  readonly approvals: ApprovalManager;
  /**
   * Registers (or, with `undefined`, drops) the manifest grants of a capsule
   * loaded in `session` — or kernel-wide without a session (tools and benches
   * that run no session). A session's grants are its own: each session's
   * runtime loads its capsules (workspace capsules differ per workspace), so
   * one session unloading or failing to load a capsule never changes what
   * another session's copy may do.
   */
  setGrants(
    capsule: CapsuleId,
    grants: CapsuleGrants | undefined,
    session?: SessionId,
  ): void;
  /**
   * The grants the gate judges a capsule by in `session` (else the
   * kernel-wide ones); `undefined`: none registered.
   */
  grantsFor(capsule: CapsuleId, session?: SessionId): CapsuleGrants | undefined;
}

/** What {@linkcode buildSecurity} needs. */
export interface BuildSecurityDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly runtimeKey: KeyPair;
  readonly config: EffectiveConfig;
  /** The principal's home directory (for `home://` grants). */
  principalHome(principal: PrincipalId): string;
  /** Spellings of `$ASTRID_HOME` (configured and real path), hard-denied to capsules. */
  readonly kernelHome?: readonly string[];
}

/**
 * Builds every security layer over one store and wires the gate.
 *
 * @param deps Store, ports, runtime key and config.
 * @returns The gate and its layers.
 * @throws {KernelError} `CONFIG_INVALID` when a policy glob in the config is malformed.
 */
export function buildSecurity(deps: BuildSecurityDeps): SecurityLayers {
  const { store, clock, random, logger, runtimeKey, config } = deps;
  const v = config.values;
  const audit = new AuditLog({
    store,
    clock,
    random,
    keyPair: runtimeKey,
    logger,
    // A capsule's host calls issued together (a provider's stream events,
    // an orchestrator's parallel requests) share one commit and signature.
    gatherBursts: true,
  });
  const tokens = new TokenAuthority({ store, clock, random, runtimeKey });
  const budget = new BudgetLedger(
    { store, clock, logger },
    budgetLimitsFromConfig(v.budget),
  );
  const allowances = new AllowanceStore({ store, clock, random });
  const approvals = new ApprovalManager({
    store,
    clock,
    random,
    logger,
    timeoutMs: v.security.approval_timeout_secs * 1000,
  });
  const grants = new Map<string, CapsuleGrants>();
  // "\0" cannot occur in a capsule id or a session id.
  const keyOf = (capsule: CapsuleId, session?: SessionId) =>
    session === undefined ? capsule : `${session}\0${capsule}`;
  const grantsFor = (capsule: CapsuleId, session?: SessionId) =>
    (session === undefined ? undefined : grants.get(keyOf(capsule, session))) ??
      grants.get(capsule);
  const gate = new Gate({
    audit,
    tokens,
    budget,
    allowances,
    approvals,
    deferred: approvals.deferred,
    policy: new SecurityPolicy({
      ...policyConfigFromConfig(config),
      ...(deps.kernelHome ? { protectedHome: deps.kernelHome } : {}),
    }),
    clock,
    logger,
    mode: {
      mode: v.workspace.mode,
      escapePolicy: v.workspace.escape_policy,
      neverAllow: v.workspace.never_allow,
      autoAllowRead: v.workspace.auto_allow_read,
      autoAllowWrite: v.workspace.auto_allow_write,
    },
    alwaysTokenTtlMs: v.security.always_token_ttl_secs * 1000,
    grantsFor,
    principalHome: deps.principalHome,
  });
  return {
    gate,
    audit,
    tokens,
    budget,
    allowances,
    approvals,
    setGrants(capsule, g, session) {
      if (g === undefined) grants.delete(keyOf(capsule, session));
      else grants.set(keyOf(capsule, session), g);
    },
    grantsFor,
  };
}
