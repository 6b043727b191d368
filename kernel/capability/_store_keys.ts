// deno-lint-ignore-file camelcase -- signed claims use the snake_case field names of reference §6.4
/**
 * Private: where the capability layer keeps its state in the Store, and the
 * shapes of the small records it writes.
 *
 * - `["caps:tokens", id]` → the token's wire form `{ claims, signature }`;
 * - `["caps:by_principal", principal, id]` → {@linkcode IndexRecord} (lookups);
 * - `["caps:by_session", session, id]` → `1` (dropped by `clearSession`);
 * - `["caps:children", parent, child]` → `1` (revocation cascade);
 * - `["caps:revoked", id]` → {@linkcode RevokedRecord};
 * - `["caps:used", id]` → {@linkcode UsedRecord} (single-use consumption);
 * - `["caps:allocated", parent]` → micro-dollars sliced off to children;
 * - `["caps:epoch", principal]` → the id of the principal's latest token,
 *   rewritten in the commit that registers each of its tokens: its
 *   versionstamp tells a token index whether another kernel on the same
 *   store registered a token since the index loaded (`_token_index.ts`).
 *
 * @module
 */
import type { PrincipalId, SessionId, TokenId } from "../core/ids.ts";
import type { StoreKey } from "../store/store.ts";

/** The value of a principal-index entry. */
export interface IndexRecord {
  /** The token's session, `null` for a persistent token. */
  readonly session: string | null;
  /** Whether it is single-use (used to try multi-use tokens first). */
  readonly single_use: boolean;
}

/** The value of a revocation marker. */
export interface RevokedRecord {
  /** When it was revoked (ms since the epoch). */
  readonly at: number;
  /** Why, as given to `revoke()`. */
  readonly reason: string;
  /** The token whose revocation cascaded here (itself for the root). */
  readonly by: string;
}

/** The value of a consumption marker. */
export interface UsedRecord {
  /** When it was consumed (ms since the epoch). */
  readonly at: number;
}

/** @returns The key of a token record. */
export function tokenKey(id: TokenId): StoreKey {
  return ["caps:tokens", id];
}

/** @returns The principal-index key of a token. */
export function principalKey(principal: PrincipalId, id?: TokenId): StoreKey {
  return id === undefined
    ? ["caps:by_principal", principal]
    : ["caps:by_principal", principal, id];
}

/** @returns The session-index key of a token. */
export function sessionKey(session: SessionId, id?: TokenId): StoreKey {
  return id === undefined
    ? ["caps:by_session", session]
    : ["caps:by_session", session, id];
}

/** @returns The children-index key (or prefix) of a parent. */
export function childKey(parent: TokenId, child?: TokenId): StoreKey {
  return child === undefined
    ? ["caps:children", parent]
    : ["caps:children", parent, child];
}

/** @returns The revocation marker key. */
export function revokedKey(id: TokenId): StoreKey {
  return ["caps:revoked", id];
}

/** @returns The consumption marker key. */
export function usedKey(id: TokenId): StoreKey {
  return ["caps:used", id];
}

/** @returns The key of the budget already sliced off a parent. */
export function allocatedKey(id: TokenId): StoreKey {
  return ["caps:allocated", id];
}

/** @returns The key whose versionstamp moves with each registration of a principal's token. */
export function epochKey(principal: PrincipalId): StoreKey {
  return ["caps:epoch", principal];
}

/** The prefix of all token records. */
export const TOKENS_PREFIX: StoreKey = ["caps:tokens"];
