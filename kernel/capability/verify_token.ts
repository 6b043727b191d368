/**
 * {@linkcode verifyToken}: is this token usable now? Signature, registration,
 * expiry, revocation, consumption and the whole parent chain.
 *
 * @module
 */
import type { TokenId } from "../core/ids.ts";
import { keyId } from "../crypto/key_id.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Store } from "../store/store.ts";
import { verifyChain } from "./_verify_chain.ts";
import type { CapabilityToken } from "./mint_token.ts";

/**
 * Clock skew tolerated after `expires_at` (and before `issued_at`): 30 s.
 *
 * @example Thirty seconds
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLOCK_SKEW_MS } from "./verify_token.ts";
 * assert.equal(CLOCK_SKEW_MS, 30_000);
 * ```
 */
export const CLOCK_SKEW_MS = 30_000;

/** Why a token is refused. */
export type VerifyFailureCode =
  | "CAPABILITY_INVALID"
  | "CAPABILITY_EXPIRED"
  | "CAPABILITY_REVOKED"
  | "CAPABILITY_USED";

/** The verdict of {@linkcode verifyToken}. */
export type VerifyResult =
  | {
    readonly ok: true;
    /** The token and its ancestors, leaf first, as registered. */
    readonly chain: readonly CapabilityToken[];
  }
  | {
    readonly ok: false;
    /** The error code a caller would throw. */
    readonly code: VerifyFailureCode;
    /** What failed and why. */
    readonly reason: string;
    /** The token of the chain that failed (the leaf or an ancestor). */
    readonly tokenId: TokenId;
  };

/** What {@linkcode verifyToken} checks against. */
export interface VerifyTokenOptions {
  /** Where tokens, revocations and consumptions are registered. */
  readonly store: Store;
  /** Public keys allowed to have signed tokens, by key id. */
  readonly trustedKeys: ReadonlyMap<string, Uint8Array>;
  /** The time to judge expiry at (ms since the epoch). */
  readonly now: number;
  /** Skew allowance (default {@linkcode CLOCK_SKEW_MS}). */
  readonly skewMs?: number;
  /** Cancels between chain links. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Builds the trusted-key map for {@linkcode verifyToken}: the runtime key,
 * plus earlier runtime keys only when explicitly given.
 *
 * @param runtimeKey The current runtime key.
 * @param previousKeys Public keys of earlier runtime keys (default none).
 * @returns Public keys by key id.
 * @throws {KernelError} `KEY_INVALID` when a previous key is not 32 bytes.
 *
 * @example Only the runtime key by default
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { trustedKeyMap } from "./verify_token.ts";
 * const key = keyPairFromSeed(new Uint8Array(32).fill(5));
 * assert.deepEqual([...trustedKeyMap(key).keys()], [key.keyId]);
 * ```
 */
export function trustedKeyMap(
  runtimeKey: KeyPair,
  previousKeys: readonly Uint8Array[] = [],
): ReadonlyMap<string, Uint8Array> {
  const trusted = new Map<string, Uint8Array>();
  for (const key of previousKeys) trusted.set(keyId(key), key.slice());
  trusted.set(runtimeKey.keyId, runtimeKey.publicKey);
  return trusted;
}

/**
 * Verifies a token and its parent chain. For each link, leaf first: it must
 * be registered in the store with exactly these signed bytes and signature
 * (compared in constant time); its issuer key id must name a trusted key and
 * the Ed25519 signature must verify with it; it must not be issued in the
 * future or expired (beyond the skew) and not be revoked. The leaf must not
 * be a consumed single-use token. Each parent must exist and the child must
 * lie within it (resources, permissions, expiry, budget, depth, principal,
 * scope).
 *
 * @param token The token to check (e.g. from `parseToken()`).
 * @param options Store, trusted keys, time, skew and cancellation.
 * @returns `{ ok: true, chain }` or `{ ok: false, code, reason, tokenId }`;
 * never throws for a bad token.
 * @throws {KernelError} `ABORTED`, or a store failure (`STORE_UNAVAILABLE`).
 *
 * @example An unregistered token is invalid
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { signToken } from "./mint_token.ts";
 * import { verifyToken } from "./verify_token.ts";
 * await using store = new KvStore(await openKv(":memory:"));
 * const key = keyPairFromSeed(new Uint8Array(32).fill(4));
 * const token = await signToken({
 *   v: 1, id: "00000000-0000-4000-8000-000000000004", principal: "alice",
 *   resource: "file:///ws/a", permissions: ["read"], issued_at: 0, expires_at: null,
 *   scope: "persistent", session: null, issuer_key_id: key.keyId,
 *   approval_audit_id: null, single_use: false, parent: null, depth: 0,
 *   max_depth: 0, budget_usd_micros: null,
 * } as never, key);
 * const trustedKeys = new Map([[key.keyId as string, key.publicKey]]);
 * const result = await verifyToken(token, { store, trustedKeys, now: 1 });
 * assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");
 * ```
 */
export function verifyToken(
  token: CapabilityToken,
  options: VerifyTokenOptions,
): Promise<VerifyResult> {
  return verifyChain(token, {
    store: options.store,
    trustedKeys: options.trustedKeys,
    now: options.now,
    skewMs: options.skewMs ?? CLOCK_SKEW_MS,
    signal: options.signal,
  });
}
