/**
 * Private: the writes of `TokenAuthority` that remove authority — cascading
 * revocation, dropping a session's tokens and deleting expired tokens.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { SessionId, TokenId } from "../core/ids.ts";
import type { ListOptions, Store, StoreKey } from "../store/store.ts";
import {
  allocatedKey,
  childKey,
  principalKey,
  revokedKey,
  type RevokedRecord,
  sessionKey,
  tokenKey,
  TOKENS_PREFIX,
  usedKey,
  type UsedRecord,
} from "./_store_keys.ts";
import { safeParseToken } from "./mint_token.ts";
import type { TokenClaims } from "./token_claims.ts";

function withSignal(signal: AbortSignal | undefined): ListOptions {
  return signal === undefined ? {} : { signal };
}

/** Options of the bulk deletions. */
export interface Housekeeping {
  /** Cancels between tokens. */
  readonly signal?: AbortSignal | undefined;
  /** Told of each id right before and right after it is deleted. */
  readonly forget?: ((id: TokenId) => void) | undefined;
}

/** Longest accepted revocation reason. */
export const MAX_REASON_LENGTH = 1_000;

/**
 * Revokes a token and every descendant. Each marker is written before the
 * children of its token are listed, so a child attenuated concurrently is
 * either seen here or refused by `attenuate()` (which checks the parent's
 * marker in its transaction); `verify()` also checks every ancestor.
 *
 * @param store The store.
 * @param root The token to revoke.
 * @param options Reason, time, cancellation, and `onRevoke`, told of each
 * token once its marker is written (or found already there).
 * @returns The ids now revoked: the root first, then descendants.
 * @throws {KernelError} `NOT_FOUND` when the root is not registered; `ABORTED`.
 */
export async function revokeCascade(
  store: Store,
  root: TokenId,
  options: {
    reason: string;
    now: number;
    signal?: AbortSignal | undefined;
    onRevoke?: ((id: TokenId) => void) | undefined;
  },
): Promise<TokenId[]> {
  const { reason, now, signal, onRevoke } = options;
  if (typeof reason !== "string" || reason.length === 0) {
    throw new TypeError("Cannot revoke a token without a reason");
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new RangeError(
      `Cannot revoke with a reason longer than ${MAX_REASON_LENGTH} characters`,
    );
  }
  if ((await store.get(tokenKey(root))) === null) {
    throw new KernelError(
      "NOT_FOUND",
      `Cannot revoke token ${root} as it is not registered`,
    );
  }
  const done: TokenId[] = [];
  const seen = new Set<string>([root]);
  const queue: TokenId[] = [root];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    throwIfAborted(signal, `revoking token ${root}`);
    const marker: RevokedRecord = {
      at: now,
      reason: next === root
        ? reason
        : `its ancestor ${root} was revoked: ${reason}`,
      by: root,
    };
    // A failed check means it was already revoked: keep the first marker.
    await store.atomic().check(revokedKey(next), null)
      .set(revokedKey(next), { ...marker }).commit();
    onRevoke?.(next);
    done.push(next);
    for await (const entry of store.list(childKey(next), withSignal(signal))) {
      const child = entry.key[2] as TokenId;
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return done;
}

/**
 * Deletes a token record with its index entries and markers.
 *
 * @param store The store.
 * @param claims The token's claims.
 */
async function deleteToken(store: Store, claims: TokenClaims): Promise<void> {
  const { id } = claims;
  const keys: StoreKey[] = [
    tokenKey(id),
    principalKey(claims.principal, id),
    revokedKey(id),
    usedKey(id),
    allocatedKey(id),
  ];
  if (claims.session !== null) keys.push(sessionKey(claims.session, id));
  if (claims.parent !== null) keys.push(childKey(claims.parent, id));
  for await (const entry of store.list(childKey(id))) keys.push(entry.key);
  for (let i = 0; i < keys.length; i += 500) {
    const atomic = store.atomic();
    for (const key of keys.slice(i, i + 500)) atomic.delete(key);
    await atomic.commit();
  }
}

/**
 * Deletes every token bound to a session.
 *
 * @param store The store.
 * @param session The session being cleared.
 * @param options Cancellation between tokens, and `forget`, called with each
 * id right before and right after its records are deleted.
 * @returns How many tokens were deleted.
 */
export async function clearSessionTokens(
  store: Store,
  session: SessionId,
  options: Housekeeping = {},
): Promise<number> {
  const { signal, forget } = options;
  const ids: TokenId[] = [];
  for await (
    const entry of store.list(sessionKey(session), withSignal(signal))
  ) {
    ids.push(entry.key[2] as TokenId);
  }
  let count = 0;
  for (const id of ids) {
    throwIfAborted(signal, `clearing the tokens of session ${session}`);
    const record = await store.get(tokenKey(id));
    const parsed = record === null ? null : safeParseToken(record.value);
    forget?.(id);
    if (parsed?.ok && parsed.value.claims.session === session) {
      await deleteToken(store, parsed.value.claims);
      count++;
    } else {
      // A dangling or tampered entry: drop the index entry and the record,
      // which could never verify anyway.
      await store.atomic().delete(sessionKey(session, id)).delete(tokenKey(id))
        .commit();
    }
    forget?.(id);
  }
  return count;
}

/**
 * Deletes every token that expired more than `skewMs` before `now` (so
 * `verify()` would refuse it already). Malformed records are left for an
 * operator to inspect; they can never verify.
 *
 * @param store The store.
 * @param options Time, skew, cancellation and `forget` (as for
 * {@linkcode clearSessionTokens}).
 * @returns How many tokens were deleted.
 */
export async function deleteExpiredTokens(
  store: Store,
  options: Housekeeping & { now: number; skewMs: number },
): Promise<number> {
  const expired: TokenClaims[] = [];
  for await (
    const entry of store.list(TOKENS_PREFIX, withSignal(options.signal))
  ) {
    const parsed = safeParseToken(entry.value);
    if (parsed.ok && parsed.value.isExpired(options.now, options.skewMs)) {
      expired.push(parsed.value.claims);
    }
  }
  for (const claims of expired) {
    throwIfAborted(options.signal, "deleting expired capability tokens");
    options.forget?.(claims.id);
    await deleteToken(store, claims);
    options.forget?.(claims.id);
  }
  return expired.length;
}

/**
 * Marks a single-use token consumed: one atomic commit that requires no
 * consumption and no revocation marker yet, so of any number of concurrent
 * callers exactly one wins.
 *
 * @param store The store.
 * @param id The token.
 * @param now The time to record.
 * @throws {KernelError} `CAPABILITY_USED` when already consumed;
 * `CAPABILITY_REVOKED` when revoked meanwhile.
 */
export async function markUsed(
  store: Store,
  id: TokenId,
  now: number,
): Promise<void> {
  const marker: UsedRecord = { at: now };
  const committed = await store.atomic().check(usedKey(id), null)
    .check(revokedKey(id), null).set(usedKey(id), { ...marker }).commit();
  if (committed.ok) return;
  const revoked = (await store.get(revokedKey(id))) !== null;
  throw new KernelError(
    revoked ? "CAPABILITY_REVOKED" : "CAPABILITY_USED",
    `Cannot use token ${id} as it was ${
      revoked ? "revoked" : "already consumed"
    } concurrently`,
    { data: { tokenId: id } },
  );
}
