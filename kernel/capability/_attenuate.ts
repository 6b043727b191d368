// deno-lint-ignore-file camelcase -- signed claims use the snake_case field names of reference §6.4
/**
 * Private: the two halves of `TokenAuthority.attenuate()` — planning the
 * child's claims (refusing anything wider than the parent) and registering
 * the child in one transaction with the parent's revocation marker and budget
 * allocation.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { TokenId } from "../core/ids.ts";
import type { KeyId } from "../crypto/key_id.ts";
import type { JsonValue, Store } from "../store/store.ts";
import { linkProblem } from "./_narrowing.ts";
import {
  allocatedKey,
  childKey,
  epochKey,
  type IndexRecord,
  principalKey,
  revokedKey,
  sessionKey,
  tokenKey,
} from "./_store_keys.ts";
import type { CapabilityToken } from "./mint_token.ts";
import { normalizePermissions } from "./permission.ts";
import { hasTraversal } from "./resource_pattern.ts";
import type { TokenClaims } from "./token_claims.ts";
import type { AttenuateOptions } from "./authority_options.ts";

/**
 * Resolves `ttlMs` / `expiresAt` into an expiry.
 *
 * @returns The expiry, or `fallback` when neither is given.
 * @throws {TypeError} When both are given.
 * @throws {RangeError} When `ttlMs` is not a positive safe integer.
 */
export function resolveExpiry(
  now: number,
  options: { readonly ttlMs?: number; readonly expiresAt?: number | null },
  fallback: () => number | null,
): number | null {
  const { ttlMs, expiresAt } = options;
  if (ttlMs !== undefined && expiresAt !== undefined) {
    throw new TypeError("Cannot give both ttlMs and expiresAt");
  }
  if (ttlMs !== undefined) {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw new RangeError(
        `Cannot use ttlMs ${ttlMs}: expected a positive integer of milliseconds`,
      );
    }
    return now + ttlMs;
  }
  return expiresAt === undefined ? fallback() : expiresAt;
}

function widening(parent: TokenId, why: string): KernelError {
  return new KernelError(
    "CAPABILITY_WIDENING",
    `Cannot attenuate token ${parent} as the child would be wider: ${why}`,
    { data: { parent } },
  );
}

/**
 * Plans the child's claims and refuses any widening.
 *
 * @param parent The verified parent.
 * @param options What to narrow.
 * @param ctx The child's id, the time, the signing key and the parent's
 * remaining budget slice (`null` when the parent has none).
 * @returns The child's claims, ready to sign.
 * @throws {KernelError} `CAPABILITY_WIDENING` for any widening (including a
 * traversal in the resource); `CAPABILITY_EXPIRED` when the child would be
 * born expired; `INVALID_INPUT` for malformed input.
 */
export function planChild(
  parent: CapabilityToken,
  options: AttenuateOptions,
  ctx: {
    readonly id: TokenId;
    readonly now: number;
    readonly keyId: KeyId;
    readonly remaining: number | null;
  },
): TokenClaims {
  const p = parent.claims;
  const resource = options.resource ?? p.resource;
  if (typeof resource === "string" && hasTraversal(resource)) {
    throw widening(p.id, `its resource '${resource}' has a traversal segment`);
  }
  if (p.single_use) throw widening(p.id, "a single-use token cannot delegate");
  const expires = resolveExpiry(ctx.now, options, () => p.expires_at);
  if (expires !== null && expires <= ctx.now) {
    throw new KernelError(
      "CAPABILITY_EXPIRED",
      `Cannot attenuate token ${p.id} as the child would expire at ${expires}, not after now (${ctx.now})`,
    );
  }
  const budget = options.budgetUsdMicros === undefined
    ? ctx.remaining
    : options.budgetUsdMicros;
  const child: TokenClaims = {
    ...p,
    id: ctx.id,
    resource,
    permissions: options.permissions === undefined
      ? p.permissions
      : normalizePermissions(options.permissions),
    issued_at: Math.max(ctx.now, p.issued_at),
    expires_at: expires,
    issuer_key_id: ctx.keyId,
    single_use: options.singleUse ?? false,
    parent: p.id,
    depth: p.depth + 1,
    max_depth: options.maxDepth ?? p.max_depth,
    budget_usd_micros: budget,
  };
  const problem = linkProblem(p, child);
  if (problem !== null) throw widening(p.id, problem);
  if (budget !== null && ctx.remaining !== null && budget > ctx.remaining) {
    throw widening(
      p.id,
      `its budget ${budget} exceeds the parent's remaining slice ${ctx.remaining} micro-USD`,
    );
  }
  return child;
}

/**
 * Reads how much of a parent's budget slice is still unallocated.
 *
 * @returns The remaining micro-dollars, or `null` when the parent has no slice.
 */
export async function remainingSlice(
  store: Store,
  parent: TokenClaims,
): Promise<number | null> {
  if (parent.budget_usd_micros === null) return null;
  const entry = await store.get(allocatedKey(parent.id));
  const allocated = typeof entry?.value === "number" ? entry.value : 0;
  return Math.max(0, parent.budget_usd_micros - allocated);
}

/**
 * Registers a signed child in one transaction: the parent must still be
 * registered and unrevoked, and its remaining slice must cover the child's.
 *
 * @throws {KernelError} `CAPABILITY_REVOKED`, `CAPABILITY_INVALID`,
 * `CAPABILITY_WIDENING`.
 */
export async function registerChild(
  store: Store,
  parent: TokenClaims,
  child: CapabilityToken,
  signal: AbortSignal | undefined,
): Promise<void> {
  const c = child.claims;
  await store.transact(async (tx) => {
    const [record, revoked, allocated, existing] = await tx.getMany([
      tokenKey(parent.id),
      revokedKey(parent.id),
      allocatedKey(parent.id),
      tokenKey(c.id),
    ]);
    if (record === null) {
      throw new KernelError(
        "CAPABILITY_INVALID",
        `Cannot attenuate token ${parent.id} as it is no longer registered`,
      );
    }
    if (revoked !== null) {
      throw new KernelError(
        "CAPABILITY_REVOKED",
        `Cannot attenuate token ${parent.id} as it was revoked`,
      );
    }
    if (existing !== null) {
      throw new KernelError("INTERNAL", `Token id ${c.id} is already taken`);
    }
    const budget = c.budget_usd_micros;
    if (parent.budget_usd_micros !== null && budget !== null) {
      const used = typeof allocated?.value === "number" ? allocated.value : 0;
      if (budget > parent.budget_usd_micros - used) {
        throw widening(
          parent.id,
          `its budget ${budget} exceeds the parent's remaining slice ${
            parent.budget_usd_micros - used
          } micro-USD`,
        );
      }
      tx.set(allocatedKey(parent.id), used + budget);
    }
    tx.set(tokenKey(c.id), tokenValue(child));
    const index: IndexRecord = { session: c.session, single_use: c.single_use };
    tx.set(principalKey(c.principal, c.id), { ...index });
    tx.set(epochKey(c.principal), c.id);
    if (c.session !== null) tx.set(sessionKey(c.session, c.id), 1);
    tx.set(childKey(parent.id, c.id), 1);
  }, signal === undefined ? {} : { signal });
}

/**
 * The stored form of a token.
 *
 * @returns Its wire form as a JSON value.
 */
export function tokenValue(token: CapabilityToken): JsonValue {
  return token.toJSON() as unknown as JsonValue;
}
