/**
 * The operator's consent to a capsule found in a workspace: the prompt other
 * agent hosts show for a project-level MCP server, asked through the approval
 * handler with the hash of the exact record the kernel computed.
 *
 * Decisions: Allow Workspace / Allow Always persist the approval of that
 * record hash for (principal, workspace, capsule) in the state store, so the
 * same unchanged record is not asked again; Allow Session remembers it for
 * this runtime only; Allow Once loads it this time. A changed record (any
 * file, the grants, the version) has another hash and asks again. Deny, or
 * no human reachable (no handler, unavailable, timeout, no answer), refuses
 * the capsule — never a silent load. Every decision is appended to the
 * audit chain (`capsule_execution` with capability
 * `workspace_load:<record hash>`); a persisted approval names its entry.
 *
 * Security model: the consent store lives in `$ASTRID_HOME/var/state.kv`,
 * which the policy hard-denies to every capsule. A refusal never leaves a
 * deferred item behind: the question is asked again at the next boot, when
 * it can be answered knowing what the capsule is.
 *
 * @module
 */
import type { CapsuleId, PrincipalId, SessionId } from "../../core/ids.ts";
import { uuidV4 } from "../../core/ids.ts";
import type { Clock, Logger, Random } from "../../core/ports.ts";
import { blake3Hex } from "../../crypto/blake3.ts";
import type { Store } from "../../store/store.ts";
import type { AuditLog } from "../../audit/audit_log.ts";
import type { ApprovalManager } from "../../security/approval/manager.ts";
import type { Action } from "../../security/action.ts";
import type { GateContext } from "../../security/context.ts";
import type { WorkspaceCandidate } from "./workspace_capsule.ts";

/** The verdict on one workspace capsule. */
export type ConsentVerdict =
  | {
    readonly ok: true;
    /** The audit entry of the approval that covers this record. */
    readonly auditEntry: string;
    /** Whether the operator was asked now (false: a remembered approval). */
    readonly asked: boolean;
  }
  | {
    readonly ok: false;
    /** `APPROVAL_DENIED` or `APPROVAL_DEFERRED` (no human reachable). */
    readonly code: "APPROVAL_DENIED" | "APPROVAL_DEFERRED";
    /** Why, naming the capsule, its directory and the record hash. */
    readonly reason: string;
  };

/** Decides whether a workspace capsule may load. */
export interface CapsuleConsent {
  /**
   * Asks (or remembers) the operator's approval of a workspace capsule.
   *
   * @param candidate The kernel-computed record.
   * @param options Cancellation.
   * @returns The verdict.
   */
  approve(
    candidate: WorkspaceCandidate,
    options?: { signal?: AbortSignal },
  ): Promise<ConsentVerdict>;
}

/** What {@linkcode WorkspaceConsent} needs. */
export interface WorkspaceConsentDeps {
  readonly store: Store;
  readonly approvals: ApprovalManager;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly principal: PrincipalId;
  readonly session: SessionId;
  /** The canonical workspace root. */
  readonly workspace: string;
}

/** A persisted approval. */
interface Stored {
  readonly workspace: string;
  readonly record_hash: string;
  readonly audit_entry: string;
  readonly approved_at: number;
}

const NAMESPACE = "capsule_consent";

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** Consent to workspace capsules through the approval handler, persisted in the store. */
export class WorkspaceConsent implements CapsuleConsent {
  #deps: WorkspaceConsentDeps;
  #session = new Map<string, string>();

  /** @param deps Store, approvals, audit, ports, and whose workspace. */
  constructor(deps: WorkspaceConsentDeps) {
    this.#deps = deps;
  }

  #key(capsule: string): readonly [string, ...string[]] {
    const d = this.#deps;
    // The workspace by hash: a key part has a size limit, a path does not.
    return [NAMESPACE, d.principal, blake3Hex(d.workspace), capsule];
  }

  /**
   * Forgets the persisted approval of a workspace capsule (the next boot asks).
   *
   * @param capsule The capsule name.
   */
  async revoke(capsule: string): Promise<void> {
    this.#session.delete(capsule);
    await this.#deps.store.delete(this.#key(capsule));
  }

  /** {@inheritDoc CapsuleConsent.approve} */
  async approve(
    c: WorkspaceCandidate,
    options: { signal?: AbortSignal } = {},
  ): Promise<ConsentVerdict> {
    const d = this.#deps;
    const capsule = c.manifest.package.name;
    const stored = (await d.store.get(this.#key(capsule)))?.value as
      | Stored
      | undefined;
    if (stored?.record_hash === c.hash) {
      return { ok: true, auditEntry: stored.audit_entry, asked: false };
    }
    const remembered = this.#session.get(`${capsule}\0${c.hash}`);
    if (remembered !== undefined) {
      return { ok: true, auditEntry: remembered, asked: false };
    }
    const action: Action = {
      type: "capsule_execution",
      capsule_id: capsule,
      capability: `workspace_load:${c.hash}`,
    };
    const ctx: GateContext = {
      principal: d.principal,
      session: d.session,
      workspace: d.workspace,
      callId: uuidV4(d.random),
    };
    const what =
      `workspace capsule '${capsule}' ${c.manifest.package.version} from ${c.dir} (record ${
        short(c.hash)
      }${stored ? ", changed since it was approved" : ""})`;
    const outcome = await d.approvals.ask(action, ctx, {
      summary: `Load ${what} with grants ${JSON.stringify(c.grants)}`,
      risk: "high",
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (outcome.kind === "deferred") {
      // silent-ok: the deferred item is dropped on purpose — boot asks again.
      await d.approvals.deferred.take(outcome.resolutionId, {
        principal: d.principal,
      }).catch(() => undefined);
      await this.#audit(capsule, ctx, action, "deferred", {
        type: "no_human",
        reason: outcome.reason,
        record_hash: c.hash,
      });
      return {
        ok: false,
        code: "APPROVAL_DEFERRED",
        reason:
          `Cannot load ${what}: no human approved it (${outcome.reason}); it loads only after the operator approves this exact record`,
      };
    }
    const decision = outcome.response.decision;
    if (decision === "deny") {
      await this.#audit(capsule, ctx, action, "denied", {
        type: "operator",
        request_id: outcome.requestId,
        record_hash: c.hash,
      });
      return {
        ok: false,
        code: "APPROVAL_DENIED",
        reason: `Cannot load ${what}: the operator denied it`,
      };
    }
    const entry = await this.#audit(capsule, ctx, action, "allowed", {
      type: "operator",
      request_id: outcome.requestId,
      option: decision,
      record_hash: c.hash,
    });
    if (decision === "allow_workspace" || decision === "allow_always") {
      const value: Stored = {
        workspace: d.workspace,
        record_hash: c.hash,
        audit_entry: entry,
        approved_at: d.clock.now(),
      };
      await d.store.set(this.#key(capsule), { ...value });
    } else if (decision === "allow_session") {
      this.#session.set(`${capsule}\0${c.hash}`, entry);
    }
    d.logger.log("info", `operator approved ${what}`, {
      capsule,
      option: decision,
      auditEntry: entry,
    });
    return { ok: true, auditEntry: entry, asked: true };
  }

  async #audit(
    capsule: string,
    ctx: GateContext,
    action: Action,
    decision: "allowed" | "denied" | "deferred",
    proof: Record<string, string>,
  ): Promise<string> {
    const d = this.#deps;
    const entry = await d.audit.append({
      principal: d.principal,
      session: d.session,
      capsule: capsule as CapsuleId,
      call_id: ctx.callId,
      action: { ...action },
      decision,
      proof: { ...proof, workspace: d.workspace },
      outcome: null,
    });
    return entry.id;
  }
}
