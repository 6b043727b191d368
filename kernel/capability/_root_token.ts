// deno-lint-ignore-file camelcase -- signed claims use the snake_case field names of reference §6.4
/**
 * Private: the two halves of `TokenAuthority.mint()` — planning a root
 * token's claims from the caller's options, and registering the signed token
 * with its index entries in one atomic commit.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { TokenId } from "../core/ids.ts";
import type { KeyId } from "../crypto/key_id.ts";
import type { Store } from "../store/store.ts";
import { resolveExpiry, tokenValue } from "./_attenuate.ts";
import {
  epochKey,
  type IndexRecord,
  principalKey,
  sessionKey,
  tokenKey,
} from "./_store_keys.ts";
import type { MintOptions } from "./authority_options.ts";
import type { CapabilityToken } from "./mint_token.ts";
import { normalizePermissions } from "./permission.ts";
import { compileResourcePattern } from "./resource_pattern.ts";
import type { TokenClaims } from "./token_claims.ts";

/**
 * Plans the claims of a root token.
 *
 * @param options The caller's mint options.
 * @param ctx The new id, the time and the signing key's id.
 * @returns Claims ready to sign (their shape is checked when signing).
 * @throws {KernelError} `INVALID_INPUT` for a bad resource or permission;
 * `GLOB_INVALID` for a malformed glob.
 * @throws {TypeError} When both or neither of `ttlMs`/`expiresAt` are given,
 * or `session` does not fit `scope`.
 */
export function planRoot(
  options: MintOptions,
  ctx: { readonly id: TokenId; readonly now: number; readonly keyId: KeyId },
): TokenClaims {
  compileResourcePattern(options.resource);
  if (options.ttlMs === undefined && options.expiresAt === undefined) {
    throw new TypeError(
      "Cannot mint a token without ttlMs or expiresAt (use expiresAt: null for no expiry)",
    );
  }
  const session = options.session ?? null;
  if ((options.scope === "session") !== (session !== null)) {
    throw new TypeError(
      "Cannot mint a token: a session token needs a session, a persistent one none",
    );
  }
  return {
    v: 1,
    id: ctx.id,
    principal: options.principal,
    resource: options.resource,
    permissions: normalizePermissions(options.permissions),
    issued_at: ctx.now,
    expires_at: resolveExpiry(ctx.now, options, () => null),
    scope: options.scope,
    session,
    issuer_key_id: ctx.keyId,
    approval_audit_id: options.approvalAuditId ?? null,
    single_use: options.singleUse ?? false,
    parent: null,
    depth: 0,
    max_depth: options.maxDepth ?? 0,
    budget_usd_micros: options.budgetUsdMicros ?? null,
  };
}

/**
 * Registers a signed root token: its record, principal index and (for a
 * session token) session index, in one atomic commit that also moves the
 * principal's token epoch (so every kernel's index learns of it).
 *
 * @param store The store.
 * @param token The signed token.
 * @throws {KernelError} `INTERNAL` when the id is already taken.
 */
export async function registerRoot(
  store: Store,
  token: CapabilityToken,
): Promise<void> {
  const c = token.claims;
  const index: IndexRecord = { session: c.session, single_use: c.single_use };
  const atomic = store.atomic().check(tokenKey(c.id), null)
    .set(tokenKey(c.id), tokenValue(token))
    .set(principalKey(c.principal, c.id), { ...index })
    .set(epochKey(c.principal), c.id);
  if (c.session !== null) atomic.set(sessionKey(c.session, c.id), 1);
  if (!(await atomic.commit()).ok) {
    throw new KernelError("INTERNAL", `Token id ${c.id} is already taken`);
  }
}
