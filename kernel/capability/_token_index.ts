/**
 * Private: the lookups behind `TokenAuthority.find()` and `use()` — the
 * in-memory index of registered tokens by principal, kept by one authority so
 * that a lookup needs no store scan, and {@linkcode spendFirst}, which walks
 * the candidates.
 *
 * A principal's entry is loaded from the store's principal index the first
 * time it is looked up, and from then on updated by every mutation of the
 * same authority: `mint` and `attenuate` add, `revoke`, single-use
 * consumption, `clearSession` and `cleanupExpired` remove. Mutations made
 * while an entry is loading are applied to it as well and win over what the
 * load read, so a load racing a mutation cannot resurrect a removed token or
 * lose a new one.
 *
 * Security model: the index only proposes candidates. Each candidate is still
 * verified against records read from the store in that call — registered
 * with these exact bytes, not revoked (it or any ancestor), not consumed —
 * before it is used, so a stale entry can never grant anything; at worst a
 * token the index lacks is not found and the gate falls back to approval.
 * Tokens are loaded only from their own records and kept only when their
 * claims name the principal, so a token planted in another principal's store
 * index is never proposed to that principal.
 *
 * The cached "this principal holds no token" answer: once a principal is
 * loaded, a principal with no usable candidate is answered from memory with
 * no store read (the common case of a gated call that no token covers).
 * This instance's `mint` and `attenuate` add to the cache, `revoke`,
 * consumption, `clearSession` and `cleanupExpired` remove from it, so its
 * own mutations take effect at once.
 *
 * Several kernels on one store (a cluster on PostgreSQL, `docs/cluster.md`):
 * a cached *candidate* is never trusted: every use re-reads its record, the
 * revocation markers of it and its ancestors and its consumption marker
 * from the store, and single-use consumption is one atomic commit — so a
 * token another kernel revoked or consumed is refused at once. No answer of
 * this cache allows what the store refuses (tested in
 * `no_token_cache_test.ts` and `tests/cluster_promises_test.ts`). The other
 * direction — another kernel minted a token (an Allow Always answered
 * there) that this index lacks — is caught by the principal's token epoch
 * (`["caps:epoch", principal]`), rewritten in the commit that registers any
 * of the principal's tokens: an entry remembers the epoch's versionstamp as
 * of its load, and {@linkcode TokenIndex.refresh} (one read of that key)
 * drops the entry when the epoch moved, so the next lookup reloads. The
 * gate refreshes only before it would ask a human (the approval path), so
 * the fast path of a policy-allowed call reads nothing more; a stale miss
 * there can only cost a question, never grant one.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { PrincipalId, TokenId } from "../core/ids.ts";
import type { Store } from "../store/store.ts";
import { epochKey, principalKey, tokenKey } from "./_store_keys.ts";
import type { ResourceAccess, TokenOwner } from "./authority_options.ts";
import { type CapabilityToken, safeParseToken } from "./mint_token.ts";

const BATCH = 10;

interface Entry {
  readonly tokens: Map<TokenId, CapabilityToken>;
  /** Settles when loaded; `null` once loaded. */
  loading: Promise<void> | null;
  /** Ids removed while loading: the load must not add them back. */
  readonly removed: Set<TokenId>;
  /** The versionstamp of the principal's token epoch read by the load. */
  epoch: string | null;
}

/** Registered tokens by principal, loaded lazily, updated write-through. */
export class TokenIndex {
  #store: Store;
  #entries = new Map<PrincipalId, Entry>();

  /** @param store The store whose principal index this mirrors. */
  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The owner's tokens granting the access and unexpired at `now` (no skew),
   * multi-use first, then by id; to be verified before use.
   *
   * @param owner Principal and session.
   * @param access The resource and permission.
   * @param now The time.
   * @returns The candidates.
   * @throws {KernelError} Store failures while loading.
   */
  async candidates(
    owner: TokenOwner,
    access: ResourceAccess,
    now: number,
  ): Promise<CapabilityToken[]> {
    const tokens = await this.#tokensOf(owner.principal);
    const out: CapabilityToken[] = [];
    for (const token of tokens.values()) {
      const c = token.claims;
      if (c.scope === "session" && c.session !== owner.session) continue;
      if (token.isExpired(now)) continue;
      if (!token.grants(access.resource, access.permission)) continue;
      out.push(token);
    }
    return out.sort((a, b) =>
      Number(a.claims.single_use) - Number(b.claims.single_use) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    );
  }

  /**
   * Adds a token just registered in the store.
   *
   * @param token The token.
   */
  add(token: CapabilityToken): void {
    const entry = this.#entries.get(token.claims.principal);
    if (entry === undefined) return; // loaded from the store when first needed
    entry.removed.delete(token.id);
    entry.tokens.set(token.id, token);
  }

  /**
   * Removes tokens that can never be used again (consumed, revoked, deleted).
   *
   * @param ids The ids.
   */
  remove(ids: Iterable<TokenId>): void {
    const gone = [...ids];
    for (const entry of this.#entries.values()) {
      for (const id of gone) {
        entry.tokens.delete(id);
        if (entry.loading !== null) entry.removed.add(id);
      }
    }
  }

  async #tokensOf(
    principal: PrincipalId,
  ): Promise<ReadonlyMap<TokenId, CapabilityToken>> {
    let entry = this.#entries.get(principal);
    if (entry === undefined) {
      const fresh: Entry = {
        tokens: new Map(),
        loading: null,
        removed: new Set(),
        epoch: null,
      };
      fresh.loading = this.#load(principal, fresh).then(
        () => {
          fresh.loading = null;
          fresh.removed.clear();
        },
        (err) => {
          if (this.#entries.get(principal) === fresh) {
            this.#entries.delete(principal);
          }
          throw err;
        },
      );
      this.#entries.set(principal, fresh);
      entry = fresh;
    }
    if (entry.loading !== null) await entry.loading;
    return entry.tokens;
  }

  /**
   * Drops the principal's entry when another writer registered one of its
   * tokens since it was loaded (the epoch moved), so that the next lookup
   * reloads it. One store read.
   *
   * @param principal Whose tokens.
   * @throws {KernelError} Store failures.
   */
  async refresh(principal: PrincipalId): Promise<void> {
    const entry = this.#entries.get(principal);
    if (entry === undefined) return; // loaded from the store when needed
    if (entry.loading !== null) {
      // silent-ok: a failed load removed the entry; the lookup reloads.
      await entry.loading.catch(() => {});
    }
    const now = (await this.#store.get(epochKey(principal)))?.versionstamp ??
      null;
    if (this.#entries.get(principal) === entry && entry.epoch !== now) {
      this.#entries.delete(principal);
    }
  }

  async #load(principal: PrincipalId, entry: Entry): Promise<void> {
    // The epoch first: a registration after this read moves it again.
    entry.epoch = (await this.#store.get(epochKey(principal)))?.versionstamp ??
      null;
    const ids: TokenId[] = [];
    for await (const item of this.#store.list(principalKey(principal))) {
      ids.push(item.key[2] as TokenId);
    }
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const records = await this.#store.getMany(
        batch.map((id) => tokenKey(id)),
      );
      records.forEach((record, j) => {
        const id = batch[j]!;
        if (record === null || entry.removed.has(id) || entry.tokens.has(id)) {
          return;
        }
        const parsed = safeParseToken(record.value);
        // silent-ok: a malformed record grants nothing; verify() reports it when presented
        if (!parsed.ok) return;
        const token = parsed.value;
        if (token.id !== id || token.claims.principal !== principal) return;
        entry.tokens.set(id, token);
      });
    }
  }
}

/**
 * Spends the first candidate that can be spent. `spend` answers `false` for
 * a candidate that does not verify (skipped) and throws when consuming it
 * failed: a `CAPABILITY_*` failure is a lost race, remembered while the next
 * candidates are tried, and thrown if none of them works.
 *
 * @param candidates Tokens to try, in order.
 * @param spend Verifies and, if single-use, consumes one token.
 * @returns The token spent, or `null` when none could be.
 * @throws {KernelError} `CAPABILITY_USED` after a lost race; anything else
 * `spend` throws that is not a `CAPABILITY_*` error.
 */
export async function spendFirst(
  candidates: Iterable<CapabilityToken> | AsyncIterable<CapabilityToken>,
  spend: (token: CapabilityToken) => Promise<boolean>,
): Promise<CapabilityToken | null> {
  let lost: KernelError | null = null;
  for await (const token of candidates) {
    try {
      if (await spend(token)) return token;
    } catch (err) {
      if (!KernelError.is(err) || !err.code.startsWith("CAPABILITY_")) {
        throw err;
      }
      // silent-ok: a lost race is remembered and rethrown unless a later candidate works
      if (err.code === "CAPABILITY_USED") lost = err;
    }
  }
  if (lost !== null) throw lost;
  return null;
}
