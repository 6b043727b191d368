/**
 * The option and dependency types of `TokenAuthority`.
 *
 * @module
 */
import type { AuditEntryId, PrincipalId, SessionId } from "../core/ids.ts";
import type { Clock, Random } from "../core/ports.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Store, StoreKey } from "../store/store.ts";
import type { Permission } from "./permission.ts";
import type { TokenScope } from "./token_claims.ts";

/** The ports a `TokenAuthority` needs. */
export interface TokenAuthorityDeps {
  /** Where tokens, indexes, revocations and consumptions live. */
  readonly store: Store;
  /** Issue and expiry times. */
  readonly clock: Clock;
  /** Token ids. */
  readonly random: Random;
  /** The runtime key: signs every token, and verifies them. */
  readonly runtimeKey: KeyPair;
  /**
   * Public keys of earlier runtime keys whose tokens stay valid after a key
   * rotation. Empty by default: only the runtime key is trusted.
   */
  readonly previousKeys?: readonly Uint8Array[];
}

/** Options of `TokenAuthority.mint()`. Give exactly one of `ttlMs`, `expiresAt`. */
export interface MintOptions {
  /** Whose token it is. */
  readonly principal: PrincipalId;
  /** The resource pattern, e.g. `file:///ws/**`. */
  readonly resource: string;
  /** The permissions to grant (non-empty). */
  readonly permissions: readonly Permission[];
  /** Lifetime from now in ms. */
  readonly ttlMs?: number;
  /** Expiry in ms since the epoch; `null` for a token that never expires. */
  readonly expiresAt?: number | null;
  /** `session` (needs `session`) or `persistent`. */
  readonly scope: TokenScope;
  /** The session a `session` token is bound to. */
  readonly session?: SessionId;
  /** One use consumes it (default `false`). */
  readonly singleUse?: boolean;
  /** The audit entry recording the approval behind it. */
  readonly approvalAuditId?: AuditEntryId;
  /** Deepest chain depth descendants may reach (default 0: no attenuation). */
  readonly maxDepth?: number;
  /** Budget slice in micro-dollars (default `null`: none). */
  readonly budgetUsdMicros?: number | null;
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of `TokenAuthority.verify()`. */
export interface VerifyOptions {
  /** Judge expiry at this time instead of the clock's. */
  readonly now?: number;
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}

/** An options bag with only cancellation. */
export interface SignalOptions {
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}

/** A store key and the versionstamp it must still have (`null`: absent). */
export interface TokenCondition {
  /** The key. */
  readonly key: StoreKey;
  /** Its versionstamp, or `null`: the key must be absent. */
  readonly versionstamp: string | null;
}

/** Options of `find()` and `use()`. */
export interface LookupOptions extends SignalOptions {
  /**
   * First check the principal's token epoch (one store read) and reload the
   * in-memory index when another kernel on the same store registered a
   * token since it was loaded. Default `false`: the index as it is.
   */
  readonly fresh?: boolean;
}

/** Whose tokens to search: a principal in a session (a `GateContext` fits). */
export interface TokenOwner {
  /** Only this principal's tokens are considered. */
  readonly principal: PrincipalId;
  /** Session tokens of other sessions are ignored. */
  readonly session: SessionId;
}

/** What a lookup asks for. */
export interface ResourceAccess {
  /** The concrete resource, e.g. `file:///ws/a.txt`. */
  readonly resource: string;
  /** The permission wanted on it. */
  readonly permission: Permission;
}

/** Options of `TokenAuthority.attenuate()`; every field defaults to the parent's. */
export interface AttenuateOptions {
  /** A narrower resource pattern (default: the parent's). */
  readonly resource?: string;
  /** A subset of the parent's permissions (default: all of them). */
  readonly permissions?: readonly Permission[];
  /** Expiry in ms since the epoch, not after the parent's; `null` only if the parent never expires. */
  readonly expiresAt?: number | null;
  /** Expiry as a lifetime from now (alternative to `expiresAt`). */
  readonly ttlMs?: number;
  /**
   * The child's budget slice in micro-dollars, carved out of the parent's
   * remaining slice. Default: the parent's whole remaining slice (or `null`
   * when the parent has none).
   */
  readonly budgetUsdMicros?: number | null;
  /** Make the child single-use (default `false`). */
  readonly singleUse?: boolean;
  /** The child's max_depth (default: the parent's). */
  readonly maxDepth?: number;
  /** Cancels the operation. */
  readonly signal?: AbortSignal | undefined;
}
