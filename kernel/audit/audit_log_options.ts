/**
 * The dependency and option types of `AuditLog`.
 *
 * @module
 */
import type { Clock, Logger, Random } from "../core/ports.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Store, StoreKey, Versionstamp } from "../store/store.ts";
import type { VerifyChainOptions } from "./verify_chain.ts";
import type { AuditVerifyPool } from "./verify_pool.ts";

/** What an `AuditLog` needs. */
export interface AuditLogDeps {
  /** Where chains live. */
  readonly store: Store;
  /** Entry timestamps. */
  readonly clock: Clock;
  /** Entry ids. */
  readonly random: Random;
  /** The current runtime key: signs new entries. */
  readonly keyPair: KeyPair;
  /**
   * Public keys of earlier runtime keys, pinned by default in
   * `AuditLog.verify()` (chains that began before a rotation).
   */
  readonly trustedPublicKeys?: readonly Uint8Array[];
  /**
   * Worker threads for signature checks in `AuditLog.verify()`
   * (owned by the caller, who closes it). Without one, `verify()` decides
   * per chain (see {@linkcode VerifyChainOptions.pool}).
   */
  readonly verifyPool?: AuditVerifyPool;
  /** Optional diagnostics. */
  readonly logger?: Logger;
  /**
   * Milliseconds a lazy append (`append(r, {lazy: true})`) waits, on the
   * clock, for an eager append of its chain to share a commit with; default
   * 5. It commits alone within one to two of these (a chain keeps one
   * linger timer, not one per append). A `kill -9` within this window loses
   * the lazy entry (an outcome), never a decision.
   */
  readonly lingerMs?: number;
  /**
   * Gather bursts: a chain with no commit running starts its next commit
   * one microtask after the append that finds it idle, not at once, so the
   * appends made in the same synchronous step (e.g. the decisions of a
   * capsule's host calls issued together) share that commit and its
   * signature instead of the first going alone. Every append still
   * resolves only once its own commit is durable. Default `false`.
   */
  readonly gatherBursts?: boolean;
}

/** Options of calls that only take a signal. */
export interface AuditCallOptions {
  /** Cancels the call (`ABORTED`). */
  readonly signal?: AbortSignal;
}

/** Options of `AuditLog.append()`. */
export interface AuditAppendOptions extends AuditCallOptions {
  /**
   * Start no commit for this entry: let it join the next append of its
   * chain (one commit, one signature), or commit within 1–2 × `lingerMs`. For
   * records no effect waits on (outcomes); never for a decision.
   */
  readonly lazy?: boolean;
  /**
   * Store keys whose versionstamps the commit that writes this entry must
   * still find (`null`: the key must be absent) — what allowed the decision
   * this entry records. When one no longer holds, this entry is refused with
   * `STORE_CONFLICT` (the others of its group commit are still written), so
   * a decision never lands after what allowed it was revoked.
   */
  readonly conditions?: readonly AuditCondition[];
}

/** A store key and the versionstamp it must still have at commit. */
export interface AuditCondition {
  /** The key. */
  readonly key: StoreKey;
  /** Its versionstamp as read, or `null`: it must be absent. */
  readonly versionstamp: Versionstamp | null;
}

/** Options of `AuditLog.verify()`. */
export type AuditVerifyOptions = Omit<VerifyChainOptions, "pinnedKeys"> & {
  /** Keys trusted to sign a genesis entry; default `AuditLog.trustedPublicKeys()`. */
  readonly pinnedKeys?: VerifyChainOptions["pinnedKeys"];
};
