/**
 * {@linkcode TokenAuthority}: mints, attenuates, verifies, finds, consumes and
 * revokes capability tokens, all registered in the Store.
 *
 * Security model: lookups take their candidates from an in-memory index of
 * each principal's tokens (`_token_index.ts`), loaded from the store once and
 * kept current by this instance's own mint, attenuate, revoke, consumption,
 * `clearSession` and `cleanupExpired`; verification remembers which record
 * versions it already proved registered and signed (`_verified_tokens.ts`).
 * Neither replaces the store: every `verify()`, `find()` and `use()` reads
 * the token's record and the revocation markers of it and every ancestor
 * (and its consumption marker) from the store, in one round trip when the
 * chain is known, and single-use consumption stays one atomic commit. Both
 * caches belong to this instance only. A principal with no token is
 * answered from the index without a store read; with several kernels on one
 * store that answer may miss another kernel's mint until a lookup with
 * `fresh: true` (one read of the principal's token epoch) reloads it — the
 * gate asks for that before it would ask a human (see `_token_index.ts`).
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import { newTokenId, type SessionId, type TokenId } from "../core/ids.ts";
import { planChild, registerChild, remainingSlice } from "./_attenuate.ts";
import {
  clearSessionTokens,
  deleteExpiredTokens,
  markUsed,
  revokeCascade,
} from "./_housekeeping.ts";
import { planRoot, registerRoot } from "./_root_token.ts";
import { revokedKey, tokenKey } from "./_store_keys.ts";
import { spendFirst, TokenIndex } from "./_token_index.ts";
import { verifyChain } from "./_verify_chain.ts";
import { VerifiedTokens } from "./_verified_tokens.ts";
import type {
  AttenuateOptions,
  LookupOptions,
  MintOptions,
  ResourceAccess,
  SignalOptions,
  TokenAuthorityDeps,
  TokenCondition,
  TokenOwner,
  VerifyOptions,
} from "./authority_options.ts";
import { type CapabilityToken, parseToken, signToken } from "./mint_token.ts";
import {
  CLOCK_SKEW_MS,
  trustedKeyMap,
  type VerifyResult,
} from "./verify_token.ts";

/**
 * Mints, attenuates, verifies, finds, consumes and revokes capability tokens.
 *
 * @example Mint a token, find it, revoke it
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { FakeClock, SeededRandom } from "../testing/mod.ts";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { newSessionId, parsePrincipalId } from "../core/ids.ts";
 * import { TokenAuthority } from "./token_authority.ts";
 * await using store = new KvStore(await openKv(":memory:"));
 * const caps = new TokenAuthority({
 *   store, clock: new FakeClock(1_000), random: new SeededRandom(1),
 *   runtimeKey: keyPairFromSeed(new Uint8Array(32).fill(9)),
 * });
 * const owner = { principal: parsePrincipalId("alice"), session: newSessionId(new SeededRandom(2)) };
 * const token = await caps.mint({
 *   principal: owner.principal, resource: "file:///ws/**", permissions: ["read"],
 *   ttlMs: 3_600_000, scope: "persistent",
 * });
 * const access = { resource: "file:///ws/a.txt", permission: "read" } as const;
 * assert.equal((await caps.find(owner, access))?.id, token.id);
 * await caps.revoke(token.id, "no longer needed");
 * assert.equal((await caps.verify(token)).ok, false);
 * ```
 */
export class TokenAuthority {
  #deps: TokenAuthorityDeps;
  #trusted: ReadonlyMap<string, Uint8Array>;
  #index: TokenIndex;
  #verified = new VerifiedTokens();

  /** @param deps Store, clock, randomness, runtime key, optional earlier keys. */
  constructor(deps: TokenAuthorityDeps) {
    this.#deps = deps;
    this.#trusted = trustedKeyMap(deps.runtimeKey, deps.previousKeys);
    this.#index = new TokenIndex(deps.store);
  }

  /**
   * Mints a root token signed by the runtime key and registers it; a
   * `session` one lives until {@linkcode TokenAuthority.clearSession}.
   *
   * @param options What to grant, to whom, for how long.
   * @returns The new token.
   * @throws {KernelError} `INVALID_INPUT` for a bad resource, permission or
   * claim; `GLOB_INVALID` for a malformed glob.
   * @throws {TypeError} When both or neither of `ttlMs`/`expiresAt` are given,
   * or `session` does not fit `scope`.
   */
  async mint(options: MintOptions): Promise<CapabilityToken> {
    const { store, clock, random, runtimeKey } = this.#deps;
    const claims = planRoot(options, {
      id: newTokenId(random),
      now: clock.now(),
      keyId: runtimeKey.keyId,
    });
    const token = await signToken(claims, runtimeKey);
    await registerRoot(store, token);
    this.#index.add(token);
    return token;
  }

  /**
   * Mints a narrower child of a token, for a sub-agent. The child inherits
   * principal, scope and session, and may only narrow: a resource provably
   * within the parent's pattern, a subset of permissions, an expiry no later,
   * a budget within the parent's remaining slice, and a depth within the
   * parent's `max_depth`. When in doubt, it is refused.
   *
   * @param parent The token to narrow; it must verify.
   * @param options What to narrow (see {@linkcode AttenuateOptions}).
   * @returns The registered child.
   * @throws {KernelError} `CAPABILITY_WIDENING` for any widening;
   * the parent's own `CAPABILITY_*` code when it does not verify.
   */
  async attenuate(
    parent: CapabilityToken,
    options: AttenuateOptions = {},
  ): Promise<CapabilityToken> {
    const { store, clock, random, runtimeKey } = this.#deps;
    await this.verifyOrThrow(parent, { signal: options.signal });
    const claims = planChild(parent, options, {
      id: newTokenId(random),
      now: clock.now(),
      keyId: runtimeKey.keyId,
      remaining: await remainingSlice(store, parent.claims),
    });
    const child = await signToken(claims, runtimeKey);
    await registerChild(store, parent.claims, child, options.signal);
    this.#index.add(child);
    return child;
  }

  /**
   * Verifies a token and its parent chain (see {@linkcode verifyToken}); only
   * the runtime key (plus `previousKeys`) is trusted; expiry allows 30 s skew.
   *
   * @param token The token.
   * @param options Time override and cancellation.
   * @returns `{ ok: true, chain }` or `{ ok: false, code, reason, tokenId }`.
   * @throws {KernelError} `ABORTED`; store failures.
   */
  verify(
    token: CapabilityToken,
    options: VerifyOptions = {},
  ): Promise<VerifyResult> {
    return verifyChain(token, {
      store: this.#deps.store,
      trustedKeys: this.#trusted,
      now: options.now ?? this.#deps.clock.now(),
      skewMs: CLOCK_SKEW_MS,
      signal: options.signal,
      verified: this.#verified,
    });
  }

  /**
   * Like {@linkcode TokenAuthority.verify}, but throws on refusal.
   * @param token The token.
   * @param options Time override and cancellation.
   * @throws {KernelError} `CAPABILITY_INVALID`, `CAPABILITY_EXPIRED`,
   * `CAPABILITY_REVOKED` or `CAPABILITY_USED`.
   */
  async verifyOrThrow(
    token: CapabilityToken,
    options: VerifyOptions = {},
  ): Promise<void> {
    const result = await this.verify(token, options);
    if (!result.ok) {
      throw new KernelError(result.code, result.reason, {
        data: { tokenId: result.tokenId },
      });
    }
  }

  /**
   * Loads a registered token by id (not verified).
   * @param id The token id.
   * @returns The token, or `null` when none is registered.
   * @throws {KernelError} `CAPABILITY_INVALID` when the record is malformed.
   */
  async get(id: TokenId): Promise<CapabilityToken | null> {
    const record = await this.#deps.store.get(tokenKey(id));
    return record === null ? null : parseToken(record.value);
  }

  /**
   * Revokes a token and every descendant; persisted first, survives restarts.
   *
   * @param id The token to revoke.
   * @param reason Why (1–1000 characters).
   * @param options Cancellation.
   * @returns The revoked ids, the token first.
   * @throws {KernelError} `NOT_FOUND` when no such token is registered.
   */
  revoke(
    id: TokenId,
    reason: string,
    options: SignalOptions = {},
  ): Promise<TokenId[]> {
    return revokeCascade(this.#deps.store, id, {
      reason,
      now: this.#deps.clock.now(),
      signal: options.signal,
      onRevoke: (token) => this.#index.remove([token]),
    });
  }

  /**
   * Finds a valid, unconsumed, unrevoked, unexpired token of the owner
   * granting the access (persistent tokens, and session tokens of the
   * owner's session), preferring multi-use tokens. Does not consume.
   *
   * @param owner Principal and session (a `GateContext` fits).
   * @param access Resource and permission.
   * @param options Cancellation; `fresh` (see {@linkcode LookupOptions}).
   * @returns A token, or `null`.
   */
  async find(
    owner: TokenOwner,
    access: ResourceAccess,
    options: LookupOptions = {},
  ): Promise<CapabilityToken | null> {
    for (const token of await this.#candidates(owner, access, options)) {
      if (await this.#usable(token, options) !== null) return token;
    }
    return null;
  }

  /**
   * Verifies a token and, if it is single-use, consumes it atomically: of
   * any number of concurrent calls exactly one succeeds.
   *
   * @param token The token to spend.
   * @param options Cancellation.
   * @throws {KernelError} `CAPABILITY_USED` when already consumed; any
   * verification code.
   */
  async consume(
    token: CapabilityToken,
    options: SignalOptions = {},
  ): Promise<void> {
    await this.verifyOrThrow(token, options);
    if (!token.claims.single_use) return;
    await this.#markUsed(token);
  }

  /**
   * Finds a valid token granting the access and spends it (a single-use one
   * is consumed atomically). When a concurrent caller consumes a candidate
   * between its verification and consumption, the next one is tried.
   *
   * @param owner Principal and session.
   * @param access Resource and permission.
   * @param options Cancellation; `fresh` (see {@linkcode LookupOptions}).
   * @returns The token used, or `null` when none grants the access.
   * @throws {KernelError} `CAPABILITY_USED` when a race for a single-use
   * token was lost and no other candidate worked.
   */
  async use(
    owner: TokenOwner,
    access: ResourceAccess,
    options: LookupOptions = {},
  ): Promise<CapabilityToken | null> {
    return (await this.useChecked(owner, access, options))?.token ?? null;
  }

  /**
   * {@linkcode TokenAuthority.use}, also returning the store conditions under
   * which the use stays valid: no revocation marker on the token or any
   * ancestor. The gate's audit commit of the decision checks them
   * (`AuditLog.append`'s `conditions`), so a revocation committed — by any
   * kernel on the store — after this verification but before the decision
   * lands refuses the decision.
   *
   * @param owner Principal and session.
   * @param access Resource and permission.
   * @param options Cancellation; `fresh` (see {@linkcode LookupOptions}).
   * @returns The token used and its conditions, or `null`.
   * @throws {KernelError} As {@linkcode TokenAuthority.use}.
   */
  async useChecked(
    owner: TokenOwner,
    access: ResourceAccess,
    options: LookupOptions = {},
  ): Promise<
    { token: CapabilityToken; conditions: TokenCondition[] } | null
  > {
    const candidates = await this.#candidates(owner, access, options);
    let chain: readonly CapabilityToken[] = [];
    const token = await spendFirst(candidates, async (t) => {
      const verified = await this.#usable(t, options);
      if (verified === null) return false;
      if (t.claims.single_use) await this.#markUsed(t);
      chain = verified;
      return true;
    });
    if (token === null) return null;
    const conditions = chain.map((c) => ({
      key: revokedKey(c.id),
      versionstamp: null,
    }));
    return { token, conditions };
  }

  /**
   * Drops every token bound to a session.
   * @param session The session that ended.
   * @param options Cancellation.
   * @returns How many tokens were deleted.
   */
  clearSession(
    session: SessionId,
    options: SignalOptions = {},
  ): Promise<number> {
    return clearSessionTokens(this.#deps.store, session, {
      signal: options.signal,
      forget: (id) => this.#forget(id),
    });
  }

  /**
   * Deletes tokens that expired more than the 30 s skew ago.
   * @param options Cancellation.
   * @returns How many tokens were deleted.
   */
  cleanupExpired(options: SignalOptions = {}): Promise<number> {
    return deleteExpiredTokens(this.#deps.store, {
      now: this.#deps.clock.now(),
      skewMs: CLOCK_SKEW_MS,
      signal: options.signal,
      forget: (id) => this.#forget(id),
    });
  }

  #forget(id: TokenId): void {
    this.#verified.forget(id);
    this.#index.remove([id]);
  }

  async #candidates(
    owner: TokenOwner,
    access: ResourceAccess,
    options: LookupOptions,
  ): Promise<CapabilityToken[]> {
    throwIfAborted(options.signal, "looking up capability tokens");
    if (options.fresh === true) await this.#index.refresh(owner.principal);
    const now = this.#deps.clock.now();
    const found = await this.#index.candidates(owner, access, now);
    throwIfAborted(options.signal, "looking up capability tokens");
    return found;
  }

  /**
   * Verifies a candidate: its chain (leaf first), or `null`; one revoked or
   * consumed for good leaves the index.
   */
  async #usable(
    token: CapabilityToken,
    options: SignalOptions,
  ): Promise<readonly CapabilityToken[] | null> {
    const result = await this.verify(token, options);
    if (result.ok) return result.chain;
    if (
      result.code === "CAPABILITY_REVOKED" || result.code === "CAPABILITY_USED"
    ) {
      this.#index.remove([token.id]);
    }
    return null;
  }

  /**
   * Consumes a single-use token (the atomic commit decides), then drops it
   * from the index: consumed now or before, it can never be used again.
   */
  async #markUsed(token: CapabilityToken): Promise<void> {
    try {
      await markUsed(this.#deps.store, token.id, this.#deps.clock.now());
    } catch (err) {
      if (KernelError.is(err) && err.code.startsWith("CAPABILITY_")) {
        this.#index.remove([token.id]);
      }
      throw err;
    }
    this.#index.remove([token.id]);
  }
}
