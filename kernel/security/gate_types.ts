/**
 * The gate's decision and proof vocabulary.
 *
 * @module
 */
import type { ErrorCode } from "../core/errors.ts";
import type { AuditEntryId } from "../core/ids.ts";

/** Why an action was allowed (written into the audit entry). */
export type Proof =
  | { readonly type: "kernel" }
  | { readonly type: "policy_allowed" }
  | { readonly type: "mode"; readonly reason: string }
  | { readonly type: "capability"; readonly token_id: string }
  | { readonly type: "allowance"; readonly allowance_id: string }
  | {
    readonly type: "user_approval";
    readonly request_id: string;
    readonly scope: "once" | "session" | "workspace" | "always";
    readonly allowance_id?: string;
  }
  | {
    readonly type: "denied";
    readonly layer: DenyLayer;
    readonly reason: string;
    /** A capability token that covered the action (it never overrides budget). */
    readonly token_id?: string;
  }
  | {
    readonly type: "deferred";
    readonly resolution_id: string;
    readonly reason: string;
  };

/** The layer that refused an action. */
export type DenyLayer =
  | "manifest"
  | "policy"
  | "mode"
  | "budget"
  | "approval"
  | "audit";

/** Settles a budget reservation after the action ran (or did not). */
export interface Settlement {
  /** Makes the spend final. Returns `false` when it was already refunded. */
  commit(): boolean;
  /** Gives the reserved amount back. Returns `false` when it was already committed. */
  refund(): Promise<boolean>;
}

/** An allowed decision: the caller may perform the effect, then settle. */
export interface Allowed {
  readonly allowed: true;
  readonly proof: Proof;
  /** The audit entry that recorded the decision. */
  readonly auditId: AuditEntryId;
  /** The budget reservation (a no-op settlement when no cost was given). */
  readonly budget: Settlement;
  /** Set when an Allow Always answer minted a persistent token. */
  readonly mintedTokenId?: string;
}

/** A refused (or deferred) decision. */
export interface Refused {
  readonly allowed: false;
  readonly code: ErrorCode;
  readonly layer: DenyLayer;
  readonly reason: string;
  /** The audit entry that recorded the refusal; `null` only when the audit write itself failed. */
  readonly auditId: AuditEntryId | null;
  /** Set when the action was queued for a human. */
  readonly resolutionId?: string;
}

/** What `decide()` returns. */
export type Decision = Allowed | Refused;
