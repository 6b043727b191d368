/**
 * Private: the candidate scan behind `TokenAuthority.find()` and `use()`.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { TokenId } from "../core/ids.ts";
import type { Store } from "../store/store.ts";
import { principalKey, tokenKey } from "./_store_keys.ts";
import { type CapabilityToken, safeParseToken } from "./mint_token.ts";
import type { ResourceAccess, TokenOwner } from "./authority_options.ts";

const BATCH = 10;

/**
 * Yields the owner's registered tokens whose claims grant the access and that
 * have not expired at `now` (no skew: lookups are strict), multi-use tokens
 * first. The principal index is only a hint: each token's own claims are
 * checked. The caller still has to verify each candidate.
 *
 * @param store The store.
 * @param owner Principal and session.
 * @param options The access, the time and cancellation.
 */
export async function* candidateTokens(
  store: Store,
  owner: TokenOwner,
  options: {
    readonly access: ResourceAccess;
    readonly now: number;
    readonly signal?: AbortSignal | undefined;
  },
): AsyncGenerator<CapabilityToken> {
  const { access, now, signal } = options;
  const multi: TokenId[] = [];
  const single: TokenId[] = [];
  for await (
    const entry of store.list(
      principalKey(owner.principal),
      signal === undefined ? {} : { signal },
    )
  ) {
    const hint = entry.value as { session?: unknown; single_use?: unknown };
    if (typeof hint !== "object" || hint === null) continue;
    if (hint.session !== null && hint.session !== owner.session) continue;
    (hint.single_use === true ? single : multi).push(entry.key[2] as TokenId);
  }
  const ids = [...multi, ...single];
  for (let i = 0; i < ids.length; i += BATCH) {
    throwIfAborted(signal, "looking up capability tokens");
    const records = await store.getMany(
      ids.slice(i, i + BATCH).map((id) => tokenKey(id)),
    );
    for (const record of records) {
      if (record === null) continue;
      const parsed = safeParseToken(record.value);
      // silent-ok: a malformed record grants nothing; verify() reports it when presented
      if (!parsed.ok) continue;
      const token = parsed.value;
      const c = token.claims;
      if (c.principal !== owner.principal) continue;
      if (c.scope === "session" && c.session !== owner.session) continue;
      if (token.isExpired(now)) continue;
      if (!token.grants(access.resource, access.permission)) continue;
      yield token;
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
  candidates: AsyncIterable<CapabilityToken>,
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
