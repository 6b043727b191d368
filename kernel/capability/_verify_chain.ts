/**
 * Private: the chain walk behind `verifyToken()` and `TokenAuthority.verify()`.
 *
 * Every link is checked against records read from the store in this call:
 * its record (registered with exactly these bytes, signed by a trusted key),
 * its revocation marker, and for the leaf its consumption marker. The keys of
 * the leaf and of every ancestor the {@linkcode VerifiedTokens} cache can
 * name are read in one round trip; a link whose parent is not known yet costs
 * one more. A record still at the versionstamp it was verified at skips the
 * canonical-JSON comparison, the signature check, the parse of its parent and
 * the link check; issue time, expiry, revocation and consumption are checked
 * every time.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { canonicalBytes } from "../core/canonical_json.ts";
import type { TokenId } from "../core/ids.ts";
import { verify } from "../crypto/ed25519.ts";
import type { Store, StoreEntry, StoreKey } from "../store/store.ts";
import { keyId } from "../store/store_key.ts";
import { linkProblem } from "./_narrowing.ts";
import { revokedKey, tokenKey, usedKey } from "./_store_keys.ts";
import { timingSafeEqual } from "./_timing_safe_equal.ts";
import type { VerifiedTokens } from "./_verified_tokens.ts";
import { type CapabilityToken, safeParseToken } from "./mint_token.ts";
import { MAX_TOKEN_DEPTH } from "./token_claims.ts";
import type { VerifyFailureCode, VerifyResult } from "./verify_token.ts";

/** What {@linkcode verifyChain} checks against. */
export interface ChainOptions {
  /** Where tokens, revocations and consumptions are registered. */
  readonly store: Store;
  /** Public keys allowed to have signed tokens, by key id. */
  readonly trustedKeys: ReadonlyMap<string, Uint8Array>;
  /** The time to judge expiry at (ms since the epoch). */
  readonly now: number;
  /** Skew allowance in ms. */
  readonly skewMs: number;
  /** Cancels between round trips. */
  readonly signal?: AbortSignal | undefined;
  /** What the authority already proved (its own trusted keys only). */
  readonly verified?: VerifiedTokens | undefined;
}

type Failure = Extract<VerifyResult, { ok: false }>;

/** The markers of one link. */
interface LinkState {
  /** The revocation marker's reason (possibly empty), or `null`. */
  readonly revoked: string | null;
  /** Whether a consumption marker exists (only read for the leaf). */
  readonly used: boolean;
}

function fail(code: VerifyFailureCode, id: TokenId, why: string): Failure {
  return {
    ok: false,
    code,
    reason: `Token ${id} is refused as ${why}`,
    tokenId: id,
  };
}

function asAncestor(leaf: TokenId, id: TokenId, failure: Failure): Failure {
  return {
    ...failure,
    reason: `Token ${leaf} is refused as its ancestor ${id} ` +
      `is refused: ${failure.reason}`,
  };
}

/** Reads keys once each, several per round trip. */
class Reads {
  #store: Store;
  #seen = new Map<string, StoreEntry | null>();

  constructor(store: Store) {
    this.#store = store;
  }

  async fetch(keys: readonly StoreKey[]): Promise<void> {
    const missing = keys.filter((k) => !this.#seen.has(keyId(k)));
    if (missing.length === 0) return;
    const entries = await this.#store.getMany(missing);
    missing.forEach((k, i) => this.#seen.set(keyId(k), entries[i] ?? null));
  }

  entry(key: StoreKey): StoreEntry | null {
    return this.#seen.get(keyId(key)) ?? null;
  }
}

function linkKeys(id: TokenId, leaf: boolean): StoreKey[] {
  return leaf
    ? [tokenKey(id), revokedKey(id), usedKey(id)]
    : [tokenKey(id), revokedKey(id)];
}

/** The keys of the leaf and of every ancestor the cache can name. */
function predictedKeys(
  token: CapabilityToken,
  verified: VerifiedTokens | undefined,
): StoreKey[] {
  const keys = linkKeys(token.id, true);
  let parent = token.claims.parent;
  for (let level = 1; parent !== null && level <= MAX_TOKEN_DEPTH; level++) {
    keys.push(...linkKeys(parent, false));
    parent = verified?.hint(parent)?.claims.parent ?? null;
  }
  return keys;
}

/**
 * Verifies a token and its parent chain (see `verifyToken()`).
 *
 * @param token The token to check.
 * @param options Store, trusted keys, time, skew, cancellation and cache.
 * @returns `{ ok: true, chain }` or `{ ok: false, code, reason, tokenId }`.
 * @throws {KernelError} `ABORTED`, or a store failure.
 */
export async function verifyChain(
  token: CapabilityToken,
  options: ChainOptions,
): Promise<VerifyResult> {
  const { verified, signal } = options;
  const reads = new Reads(options.store);
  throwIfAborted(signal, "verifying a capability token");
  await reads.fetch(predictedKeys(token, verified));
  const chain: CapabilityToken[] = [];
  let current = token;
  for (let level = 0; level <= MAX_TOKEN_DEPTH; level++) {
    const { id, claims } = current;
    const keys = linkKeys(id, level === 0);
    if (claims.parent !== null) keys.push(tokenKey(claims.parent));
    throwIfAborted(signal, "verifying a capability token");
    await reads.fetch(keys);
    const record = reads.entry(tokenKey(id));
    const revoked = reads.entry(revokedKey(id));
    const failure = await checkSigned(current, record, options) ??
      checkState(
        current,
        {
          revoked: revoked === null ? null : markerReason(revoked),
          used: level === 0 && reads.entry(usedKey(id)) !== null,
        },
        level === 0,
        options,
      );
    if (failure) {
      return level === 0 ? failure : asAncestor(token.id, id, failure);
    }
    chain.push(current);
    if (claims.parent === null) return { ok: true, chain };
    const parentRecord = reads.entry(tokenKey(claims.parent));
    const parent = parentRecord === null
      ? null
      : parentOf(parentRecord, claims.parent, verified);
    if (parent === null || !parent.ok) {
      const why = parent === null ? "is missing" : "is malformed";
      return fail(
        "CAPABILITY_INVALID",
        token.id,
        `its ancestor ${claims.parent} ${why}`,
      );
    }
    // checkSigned refused an unregistered link, so `record` is set here.
    const stamp = record!.versionstamp;
    if (verified?.at(id, stamp)?.parent !== parent.value) {
      const problem = linkProblem(parent.value.claims, claims);
      if (problem !== null) return brokenLink(token.id, current, problem);
      verified?.linked(current, stamp, parent.value);
    }
    current = parent.value;
  }
  return fail("CAPABILITY_INVALID", token.id, "its chain is too deep");
}

/** The parent token: the cached object when its record is unchanged. */
function parentOf(
  record: StoreEntry,
  id: TokenId,
  verified: VerifiedTokens | undefined,
): { ok: true; value: CapabilityToken } | { ok: false } {
  const known = verified?.at(id, record.versionstamp);
  if (known !== undefined) return { ok: true, value: known.token };
  const parsed = safeParseToken(record.value);
  return parsed.ok ? parsed : { ok: false };
}

function brokenLink(
  leaf: TokenId,
  child: CapabilityToken,
  problem: string,
): Failure {
  return fail(
    "CAPABILITY_INVALID",
    leaf,
    `the link ${child.id} → ${child.claims.parent} is broken: ${problem}`,
  );
}

function markerReason(marker: StoreEntry): string {
  const value = marker.value;
  const reason = typeof value === "object" && value !== null &&
      !(value instanceof Uint8Array) && !Array.isArray(value)
    ? (value as { reason?: unknown }).reason
    : undefined;
  return typeof reason === "string" ? reason : "";
}

/** Whether a stored record holds exactly the presented bytes (constant time). */
function isRegisteredAs(record: StoreEntry, token: CapabilityToken): boolean {
  const value = record.value as { claims?: unknown; signature?: unknown };
  if (typeof value !== "object" || value === null) return false;
  if (typeof value.signature !== "string") return false;
  let stored: Uint8Array;
  try {
    stored = canonicalBytes(value.claims);
  } catch {
    // silent-ok: a record that cannot be canonicalised matches nothing
    return false;
  }
  const encoder = new TextEncoder();
  return timingSafeEqual(stored, token.payload) &&
    timingSafeEqual(
      encoder.encode(value.signature),
      encoder.encode(token.toJSON().signature),
    );
}

/**
 * Registration, issuer key and signature, against the record just read:
 * proven by the cache, or checked and then cached.
 */
async function checkSigned(
  token: CapabilityToken,
  record: StoreEntry | null,
  options: ChainOptions,
): Promise<Failure | null> {
  const { id, claims } = token;
  if (!record) {
    return fail(
      "CAPABILITY_INVALID",
      id,
      "it is not registered (never minted here, or removed)",
    );
  }
  if (options.verified?.proves(token, record.versionstamp)) return null;
  if (!isRegisteredAs(record, token)) {
    return fail(
      "CAPABILITY_INVALID",
      id,
      "it differs from the registered token",
    );
  }
  const key = options.trustedKeys.get(claims.issuer_key_id);
  if (key === undefined) {
    return fail(
      "CAPABILITY_INVALID",
      id,
      `it names the untrusted issuer key ${claims.issuer_key_id}`,
    );
  }
  if (!(await verify(key, token.payload, token.signature))) {
    return fail("CAPABILITY_INVALID", id, "its signature does not verify");
  }
  options.verified?.remember(token, record.versionstamp);
  return null;
}

/** Issue time, expiry, revocation and (for the leaf) consumption. */
function checkState(
  token: CapabilityToken,
  state: LinkState,
  leaf: boolean,
  options: ChainOptions,
): Failure | null {
  const { id, claims } = token;
  if (claims.issued_at > options.now + options.skewMs) {
    return fail("CAPABILITY_INVALID", id, "it was issued in the future");
  }
  if (token.isExpired(options.now, options.skewMs)) {
    return fail(
      "CAPABILITY_EXPIRED",
      id,
      `it expired at ${claims.expires_at} (now ${options.now})`,
    );
  }
  if (state.revoked !== null) {
    const why = state.revoked === "" ? "" : `: ${state.revoked}`;
    return fail("CAPABILITY_REVOKED", id, `it was revoked${why}`);
  }
  if (leaf && claims.single_use && state.used) {
    return fail("CAPABILITY_USED", id, "its single use was already consumed");
  }
  return null;
}
