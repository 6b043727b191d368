/**
 * The gate: the only door every side effect goes through.
 *
 * Order (DESIGN §4): 0 manifest grant → 1 policy (and the mode's hard refusals:
 * `never_allow`, `escape_policy = deny`) → 2 capability token → 3 budget →
 * 4 approval (allowance, then a human, else a persisted deferral) → 5 audit.
 *
 * Security model:
 * - Nothing overrides policy. A token skips approval but never policy or budget.
 * - Every decision — allowed, denied, deferred — is appended to the signed audit
 *   chain before the caller may act; when that append fails the action is
 *   refused with `AUDIT_FAILED` (fail closed).
 * - A budget reservation is refunded whenever the action does not run: on any
 *   refusal, on an error, and on cancellation through the `AbortSignal`.
 *   An action with a price of its own (MCP sampling, see `action_cost.ts`)
 *   reserves at least that price, whatever the caller estimated.
 * - Resolving a deferred approval re-runs the whole gate with the stored action
 *   and context; the old decision is never trusted.
 * - Several kernels on one store (`docs/cluster.md`): every layer's in-memory
 *   cache only proposes; the store decides every allow (token markers, the
 *   budget transaction, the allowance record, the audit head's
 *   compare-and-set). A decision allowed by a token or an unlimited
 *   allowance carries conditions into its audit commit (no revocation marker
 *   on the token chain; the allowance record unchanged): when another writer
 *   revoked it after it was read, the entry does not land and the decision is
 *   made again from the store (at most 3 times, then `AUDIT_FAILED`). Before asking a human, the gate looks for a token
 *   another kernel registered since this kernel's index loaded (one read of
 *   the principal's token epoch), after the allowances (which read their
 *   own epoch in the same round trip as the candidate's record).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { Clock, Logger } from "../core/ports.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { AuditCondition } from "../audit/audit_log_options.ts";
import type { JsonValue } from "../store/store.ts";
import type { TokenAuthority } from "../capability/token_authority.ts";
import type { Action } from "./action.ts";
import { type ActionInfo, actionInfo } from "./action_info.ts";
import type { GateContext } from "./context.ts";
import {
  type CapsuleGrants,
  checkManifestGrant,
  NO_GRANTS,
} from "./manifest_grant.ts";
import { type ModeSettings, modeVerdict } from "./modes.ts";
import type { SecurityPolicy } from "./policy.ts";
import type { BudgetLedger } from "./budget_ledger.ts";
import type { AllowanceStore } from "./approval/allowance_store.ts";
import type { ApprovalManager, AskOutcome } from "./approval/manager.ts";
import type { ApprovalResponse } from "./approval/handler.ts";
import type { DeferredQueue } from "./approval/deferred_queue.ts";
import type {
  Allowed,
  Decision,
  DenyLayer,
  Proof,
  Refused,
  Settlement,
} from "./gate_types.ts";
import { escapeResource } from "./_gate_resource.ts";
import { actionCostMicros } from "./action_cost.ts";

/**
 * Everything the gate consults. `audit`, `tokens` and `allowances` must
 * share one store: a decision's audit commit checks the token and allowance
 * keys that allowed it.
 */
export interface GateDeps {
  readonly audit: AuditLog;
  readonly tokens: TokenAuthority;
  readonly budget: BudgetLedger;
  readonly allowances: AllowanceStore;
  readonly approvals: ApprovalManager;
  readonly deferred: DeferredQueue;
  readonly policy: SecurityPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The workspace mode settings. */
  readonly mode: ModeSettings;
  /** Lifetime of the token an Allow Always answer mints (config; default 1 h). */
  readonly alwaysTokenTtlMs: number;
  /**
   * The manifest `[capabilities]` of a capsule loaded in `session`
   * (`undefined` ⇒ grants nothing).
   */
  grantsFor(capsule: CapsuleId, session: SessionId): CapsuleGrants | undefined;
  /** The principal's home directory, for `home://` grants. */
  principalHome?(principal: PrincipalId): string;
}

/** Options of {@linkcode Gate.decide}. */
export interface DecideOptions {
  /**
   * The estimated cost in micro-dollars (default 0). The gate reserves at
   * least `actionCostMicros(action)` (an MCP sampling request's price).
   */
  readonly estimatedCostMicros?: number;
  /** Cancels the decision; a reservation made so far is refunded. */
  readonly signal?: AbortSignal;
}

/** Decisions retried when what allowed them changed before they landed. */
const MAX_STALE_ATTEMPTS = 3;

/** Thrown by `#allow` when the audit commit found its conditions broken. */
class StaleDecision extends Error {}

const NO_SETTLEMENT: Settlement = {
  commit: () => true,
  refund: () => Promise.resolve(true),
};

/**
 * The five-layer security gate.
 *
 * @example Decide, act, settle
 * ```ts ignore
 * const d = await gate.decide(action, ctx, { estimatedCostMicros: 1000 });
 * if (!d.allowed) throw new KernelError(d.code, d.reason);
 * try { await doIt(); d.budget.commit(); } catch (e) { await d.budget.refund(); throw e; }
 * ```
 */
export class Gate {
  #deps: GateDeps;
  #pendingOutcomes = new Set<Promise<void>>();

  /** @param deps The layers and ports. */
  constructor(deps: GateDeps) {
    this.#deps = deps;
  }

  /**
   * Decides whether the action may happen, and audits the decision.
   *
   * @param action The requested action.
   * @param ctx Who asks.
   * @param options Estimated cost and cancellation.
   * @returns An {@linkcode Allowed} decision (act, then settle its budget) or a {@linkcode Refused} one.
   * @throws {KernelError} `ABORTED` when cancelled (any reservation is refunded).
   */
  decide(
    action: Action,
    ctx: GateContext,
    options: DecideOptions = {},
  ): Promise<Decision> {
    return this.#decide(action, ctx, options, undefined);
  }

  /**
   * Decides, runs the effect when allowed, commits the budget on success and
   * refunds it on failure or cancellation, and audits the outcome.
   *
   * @param action The requested action.
   * @param ctx Who asks.
   * @param options Estimated cost and cancellation.
   * @param effect The side effect; runs only when allowed.
   * @returns The effect's result.
   * @throws {KernelError} The refusal's code (`MANIFEST_DENIED`, `POLICY_BLOCKED`, `BUDGET_EXCEEDED`,
   *   `APPROVAL_DENIED`, `APPROVAL_DEFERRED`, `AUDIT_FAILED`), or whatever the effect throws.
   */
  async run<T>(
    action: Action,
    ctx: GateContext,
    options: DecideOptions & { effect: (decision: Allowed) => Promise<T> },
  ): Promise<T> {
    const decision = await this.decide(action, ctx, options);
    if (!decision.allowed) throw refusalError(decision);
    let result: T;
    try {
      options.signal?.throwIfAborted();
      result = await options.effect(decision);
    } catch (err) {
      await decision.budget.refund();
      this.#outcome(action, ctx, decision, {
        status: "failure",
        error: errorSummary(err),
      });
      throw err;
    }
    decision.budget.commit();
    this.#outcome(action, ctx, decision, { status: "success" });
    return result;
  }

  /**
   * Waits until every outcome entry queued by {@linkcode Gate.run} is in the
   * audit chain. The decision entry of a call is always written before its
   * effect; the outcome entry that follows is appended in the background so
   * the call does not wait for a second signature — call this before reading
   * the chain or shutting down. Outcome entries are lazy appends: each
   * joins the commit (and the one signature) of the next decision of its
   * chain, or commits alone within one to two linger times of the audit log.
   * The audit log's other lazy entries (an allowed bus message's, a model
   * charge's) are committed too, even with no outcome pending.
   *
   * @returns When the queue is empty.
   */
  async flush(): Promise<void> {
    do {
      await this.#deps.audit.flush(); // lazy entries: commit them now
      await Promise.all([...this.#pendingOutcomes]);
    } while (this.#pendingOutcomes.size > 0);
  }

  /**
   * Answers a deferred approval: takes it from the queue and re-runs the whole
   * gate for the stored action and context with this answer.
   *
   * @param principal The owner of the deferred item.
   * @param resolutionId `resolution:<uuid>`.
   * @param options The human's answer, cost and cancellation.
   * @returns The fresh decision.
   * @throws {KernelError} `DEFERRED_NOT_FOUND` when unknown, expired or another principal's.
   */
  async resolveDeferred(
    principal: PrincipalId,
    resolutionId: string,
    options: DecideOptions & { response: ApprovalResponse },
  ): Promise<Decision> {
    const item = await this.#deps.deferred.take(resolutionId, {
      principal,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const preset: AskOutcome = {
      kind: "answered",
      response: options.response,
      requestId: item.id,
    };
    return await this.#decide(item.action, item.ctx, options, preset);
  }

  async #decide(
    action: Action,
    ctx: GateContext,
    options: DecideOptions,
    preset: AskOutcome | undefined,
  ): Promise<Decision> {
    const d = this.#deps;
    const signal = options.signal;
    signal?.throwIfAborted();
    const info = actionInfo(action);
    const grants = ctx.capsule === undefined
      ? NO_GRANTS
      : d.grantsFor(ctx.capsule, ctx.session) ?? NO_GRANTS;
    const home = d.principalHome?.(ctx.principal);
    const grant = checkManifestGrant(
      action,
      ctx,
      grants,
      home === undefined ? {} : { principalHome: home },
    );
    if (!grant.ok) {
      return await this.#refuse(
        action,
        ctx,
        "manifest",
        "MANIFEST_DENIED",
        grant.reason,
      );
    }
    const policy = d.policy.check(action, { principal: ctx.principal });
    if (policy.result === "blocked") {
      return await this.#refuse(
        action,
        ctx,
        "policy",
        "POLICY_BLOCKED",
        policy.reason,
      );
    }
    const mode = modeVerdict({
      type: action.type,
      isRead: info.isRead,
      paths: info.paths,
    }, {
      workspace: ctx.workspace,
      settings: d.mode,
    });
    if (mode.result === "deny") {
      return await this.#refuse(
        action,
        ctx,
        "mode",
        "POLICY_BLOCKED",
        mode.reason,
      );
    }

    // 2 token: a valid token covering the action is looked up (not spent)
    // before the budget, so that the budget refusal names it and a
    // single-use token is only consumed once the budget is reserved.
    const opts = signal ? { signal } : {};
    const token = info.resource === null
      ? null
      : await d.tokens.find(ctx, info.resource, opts).catch(ignoreTokenError);
    // 3 budget.
    const reserved = await d.budget.reserve(
      ctx,
      Math.max(options.estimatedCostMicros ?? 0, actionCostMicros(action)),
      opts,
    );
    if (!reserved.ok) {
      return await this.#refuse(
        action,
        ctx,
        "budget",
        "BUDGET_EXCEEDED",
        reserved.message,
        token
          ? {
            proof: {
              type: "denied",
              layer: "budget",
              reason:
                `${reserved.message} (capability token ${token.id} covers the action but never the budget)`,
              token_id: token.id,
            },
          }
          : {},
      );
    }
    const budget: Settlement = reserved.reservation ?? NO_SETTLEMENT;
    try {
      let result: Decision | undefined;
      for (let attempt = 1; result === undefined; attempt++) {
        try {
          result = await this.#afterBudget(
            action,
            ctx,
            info,
            policy.result,
            mode,
            budget,
            preset,
            signal,
            token !== null,
          );
        } catch (err) {
          if (!(err instanceof StaleDecision)) throw err;
          // What allowed it was revoked or changed before the decision
          // landed: decide again from the store (the cache entries that
          // proposed it are gone or refused now).
          if (attempt >= MAX_STALE_ATTEMPTS) result = this.#auditFailed();
        }
      }
      if (!result.allowed) await budget.refund();
      return result;
    } catch (err) {
      await budget.refund();
      throw err;
    }
  }

  async #afterBudget(
    action: Action,
    ctx: GateContext,
    info: ActionInfo,
    policy: "allowed" | "requires_approval",
    mode: { result: "allow" | "ask"; reason: string },
    budget: Settlement,
    preset: AskOutcome | undefined,
    signal: AbortSignal | undefined,
    tokenFound: boolean,
  ): Promise<Decision> {
    const d = this.#deps;
    const opts = signal ? { signal } : {};
    if (tokenFound && info.resource !== null) {
      // Spend it now (a single-use token atomically; a lost race tries the
      // next candidate, else falls through to approval).
      const used = await d.tokens.useChecked(ctx, info.resource, opts).catch(
        ignoreTokenError,
      );
      if (used) {
        return await this.#allow(
          action,
          ctx,
          {
            type: "capability",
            token_id: used.token.id,
          },
          budget,
          used.conditions,
        );
      }
    }
    if (preset === undefined) {
      if (policy === "allowed") {
        return await this.#allow(
          action,
          ctx,
          { type: "policy_allowed" },
          budget,
        );
      }
      if (mode.result === "allow") {
        return await this.#allow(action, ctx, {
          type: "mode",
          reason: mode.reason,
        }, budget);
      }
      const allowance = await d.allowances.findAndUse(action, ctx, opts);
      if (allowance) {
        return await this.#allow(
          action,
          ctx,
          {
            type: "allowance",
            allowance_id: allowance.allowance.id,
          },
          budget,
          allowance.conditions,
        );
      }
      if (!tokenFound && info.resource !== null) {
        // Before asking a human: a token another kernel on the same store
        // registered since this kernel's index loaded (an Allow Always
        // answered there). One read of the principal's token epoch; after
        // the allowances, so that the allowance path costs no extra read.
        const fresh = await d.tokens.useChecked(ctx, info.resource, {
          ...opts,
          fresh: true,
        }).catch(ignoreTokenError);
        if (fresh) {
          return await this.#allow(
            action,
            ctx,
            {
              type: "capability",
              token_id: fresh.token.id,
            },
            budget,
            fresh.conditions,
          );
        }
      }
    }
    const answer = preset ??
      await d.approvals.ask(action, ctx, {
        summary: info.summary,
        risk: info.risk,
        ...opts,
      });
    if (answer.kind === "deferred") {
      const proof: Proof = {
        type: "deferred",
        resolution_id: answer.resolutionId,
        reason: answer.reason,
      };
      return await this.#refuse(
        action,
        ctx,
        "approval",
        "APPROVAL_DEFERRED",
        `Queued for a human: ${answer.reason}`,
        {
          proof,
          decision: "deferred",
          resolutionId: answer.resolutionId,
        },
      );
    }
    const { response, requestId } = answer;
    switch (response.decision) {
      case "deny":
        return await this.#refuse(
          action,
          ctx,
          "approval",
          "APPROVAL_DENIED",
          response.reason ?? "denied by the user",
        );
      case "allow_once":
        return await this.#allow(action, ctx, {
          type: "user_approval",
          request_id: requestId,
          scope: "once",
        }, budget);
      case "allow_session":
      case "allow_workspace": {
        const scope = response.decision === "allow_session"
          ? "session"
          : "workspace";
        const allowance = await d.allowances.grant(action, ctx, {
          scope,
          ...opts,
        });
        const proof: Proof = allowance
          ? {
            type: "user_approval",
            request_id: requestId,
            scope,
            allowance_id: allowance.id,
          }
          : { type: "user_approval", request_id: requestId, scope: "once" };
        return await this.#allow(action, ctx, proof, budget);
      }
      case "allow_always":
        return await this.#allowAlways(action, ctx, info, requestId, budget);
    }
  }

  async #allowAlways(
    action: Action,
    ctx: GateContext,
    info: ActionInfo,
    requestId: string,
    budget: Settlement,
  ): Promise<Decision> {
    const d = this.#deps;
    const allowed = await this.#allow(action, ctx, {
      type: "user_approval",
      request_id: requestId,
      scope: "always",
    }, budget);
    if (!allowed.allowed || info.resource === null) return allowed;
    try {
      const token = await d.tokens.mint({
        principal: ctx.principal,
        resource: escapeResource(info.resource.resource),
        permissions: [info.resource.permission],
        ttlMs: d.alwaysTokenTtlMs,
        scope: "persistent",
        approvalAuditId: allowed.auditId,
      });
      await d.audit.append({
        principal: ctx.principal,
        session: ctx.session,
        capsule: ctx.capsule ?? null,
        call_id: ctx.callId,
        ...(ctx.agent ? { agent: ctx.agent } : {}),
        action: {
          type: "capability_created",
          token_id: token.id,
          resource: token.claims.resource,
          permissions: [...token.claims.permissions],
        },
        decision: "info",
        proof: { type: "approval", approval_audit_id: allowed.auditId },
        outcome: null,
      });
      return { ...allowed, mintedTokenId: token.id };
    } catch (err) {
      // The human approved this call; only the standing grant failed. Keep the call, log the failure.
      d.logger.log(
        "warn",
        "Allow Always could not mint its token; approved once instead",
        { error: errorSummary(err) },
      );
      return allowed;
    }
  }

  async #allow(
    action: Action,
    ctx: GateContext,
    proof: Proof,
    budget: Settlement,
    conditions?: readonly AuditCondition[],
  ): Promise<Decision> {
    const id = await this.#append(action, ctx, "allowed", proof, conditions);
    if (id === null) return this.#auditFailed();
    return { allowed: true, proof, auditId: id, budget };
  }

  async #refuse(
    action: Action,
    ctx: GateContext,
    layer: DenyLayer,
    code: Refused["code"],
    reason: string,
    extra: {
      proof?: Proof;
      decision?: "denied" | "deferred";
      resolutionId?: string;
    } = {},
  ): Promise<Refused> {
    const proof = extra.proof ?? { type: "denied", layer, reason };
    const id = await this.#append(
      action,
      ctx,
      extra.decision ?? "denied",
      proof,
    );
    if (id === null) return this.#auditFailed();
    return {
      allowed: false,
      code,
      layer,
      reason,
      auditId: id,
      ...(extra.resolutionId ? { resolutionId: extra.resolutionId } : {}),
    };
  }

  #auditFailed(): Refused {
    return {
      allowed: false,
      code: "AUDIT_FAILED",
      layer: "audit",
      reason: "The audit entry could not be written, so the action was refused",
      auditId: null,
    };
  }

  async #append(
    action: Action,
    ctx: GateContext,
    decision: "allowed" | "denied" | "deferred",
    proof: Proof,
    conditions?: readonly AuditCondition[],
  ): Promise<Refused["auditId"]> {
    try {
      const entry = await this.#deps.audit.append({
        principal: ctx.principal,
        session: ctx.session,
        capsule: ctx.capsule ?? null,
        call_id: ctx.callId,
        ...(ctx.agent ? { agent: ctx.agent } : {}),
        action: action as unknown as JsonValue,
        decision,
        proof: proof as unknown as JsonValue,
        outcome: null,
      }, conditions === undefined ? {} : { conditions });
      return entry.id;
    } catch (err) {
      if (conditions !== undefined && KernelError.is(err, "STORE_CONFLICT")) {
        throw new StaleDecision();
      }
      this.#deps.logger.log(
        "error",
        "audit append failed; refusing the action (fail closed)",
        { error: errorSummary(err) },
      );
      return null;
    }
  }

  #outcome(
    action: Action,
    ctx: GateContext,
    decision: Allowed,
    outcome: JsonValue,
  ): void {
    const pending = this.#appendOutcome(action, ctx, decision, outcome);
    this.#pendingOutcomes.add(pending);
    void pending.finally(() => this.#pendingOutcomes.delete(pending));
  }

  async #appendOutcome(
    action: Action,
    ctx: GateContext,
    decision: Allowed,
    outcome: JsonValue,
  ): Promise<void> {
    try {
      await this.#deps.audit.append({
        principal: ctx.principal,
        session: ctx.session,
        capsule: ctx.capsule ?? null,
        call_id: ctx.callId,
        ...(ctx.agent ? { agent: ctx.agent } : {}),
        action: {
          type: "action_outcome",
          of: action.type,
          decision_audit_id: decision.auditId,
        },
        decision: "info",
        proof: decision.proof as unknown as JsonValue,
        outcome,
      }, { lazy: true });
    } catch (err) {
      // silent-ok: the decision entry was written before the effect; the outcome record is best effort.
      this.#deps.logger.log("error", "audit outcome append failed", {
        error: errorSummary(err),
      });
    }
  }
}

function errorSummary(err: unknown): string {
  return KernelError.is(err)
    ? `${err.code}: ${err.message}`
    : err instanceof Error
    ? err.name
    : "error";
}

/**
 * Turns a refusal into the error a host call returns.
 *
 * @param refused The refused decision.
 * @returns A `KernelError` with the refusal's code and the audit id in `data`.
 */
export function refusalError(refused: Refused): KernelError {
  return new KernelError(refused.code, refused.reason, {
    data: {
      layer: refused.layer,
      ...(refused.auditId ? { auditId: refused.auditId } : {}),
      ...(refused.resolutionId ? { resolutionId: refused.resolutionId } : {}),
    },
  });
}

/** A token that fails verification is no token: the gate falls through. */
function ignoreTokenError(err: unknown): null {
  if (KernelError.is(err) && err.code.startsWith("CAPABILITY_")) return null;
  throw err;
}
