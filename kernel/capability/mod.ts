/**
 * Capability tokens (reference §6.4, DESIGN §4): signed grants of
 * permissions on a resource pattern to a principal, which pre-authorise an
 * action at the gate (they skip approval, never policy or budget).
 *
 * - {@linkcode TokenAuthority}: `mint`, `attenuate` (narrower children for
 *   sub-agents), `verify` / `verifyOrThrow`, `find`, `consume`, `use`,
 *   `revoke` (cascading), `clearSession`, `cleanupExpired`, `get`.
 * - {@linkcode CapabilityToken}: the immutable token; `grants(resource,
 *   permission)`, `claims`, `toJSON()`. {@linkcode parseToken} decodes
 *   untrusted JSON.
 * - Resource patterns: a pattern with `*`, `?` or `[` is a glob
 *   (`file:///ws/**`, `mcp://*:read_*`), anything else an exact string.
 *
 * Claims: `{v, id, principal, resource, permissions, issued_at, expires_at,
 * scope, session, issuer_key_id, approval_audit_id, single_use, parent,
 * depth, max_depth, budget_usd_micros}`; the signature is Ed25519 by the
 * runtime key over their RFC 8785 canonical JSON; the wire form is
 * `{claims, signature}` with the signature in base64.
 *
 * Store layout: `caps:tokens/<id>` (the wire form), `caps:by_principal/<p>/<id>`,
 * `caps:by_session/<s>/<id>`, `caps:children/<parent>/<child>`,
 * `caps:revoked/<id>`, `caps:used/<id>`, `caps:allocated/<parent>`.
 *
 * Security model: tokens cannot be forged in-process — `CapabilityToken`
 * keeps its fields `#private` and its constructor demands a key private to
 * `mint_token.ts` — nor from outside: `verify()` accepts a token only if it
 * is registered in the store with exactly the presented bytes and signature
 * (compared in constant time), its issuer key id names the runtime key (or an
 * earlier runtime key passed explicitly as `previousKeys`) and the Ed25519
 * signature verifies with that key. A token signed by any other key, or
 * whose claims were edited after signing, is `CAPABILITY_INVALID`. Expiry
 * allows 30 s of clock skew in `verify()` and none in lookups
 * (`CAPABILITY_EXPIRED`). Revocation is persisted before anything else,
 * cascades to every descendant through a children index, and `verify()`
 * also checks every ancestor, so a child attenuated concurrently with its
 * parent's revocation is refused either way (`CAPABILITY_REVOKED`).
 * Single-use consumption is one atomic commit that requires the `used`
 * marker to be absent: of any number of concurrent uses exactly one wins,
 * and the marker survives restarts (`CAPABILITY_USED`). Attenuation only
 * narrows — permissions a subset, the resource provably within the parent's
 * pattern (`<prefix>/**` covers globs starting with `<prefix>/`, a glob
 * covers the exact strings it matches, nothing else), expiry no later, the
 * budget carved out of the parent's remaining slice (slices are not returned
 * on revocation), depth within `max_depth` (default 0, cap 8) — and every
 * link is re-checked on verification; when in doubt it refuses with
 * `CAPABILITY_WIDENING`. Patterns and resources with a `..` segment (also
 * percent-encoded), a backslash or a control character never match. Lookups
 * only return the asking principal's tokens, and session tokens only to
 * their own session. An authority keeps an in-memory index of candidates and
 * remembers which record versions it already proved signed, but every
 * verification still reads the records and markers of the whole chain from
 * the store (one round trip for a known chain), so the caches speed lookups
 * up without ever standing in for the store.
 *
 * @example Delegate a narrower single-use token to a sub-agent
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { FakeClock, SeededRandom } from "../testing/mod.ts";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { newSessionId, parsePrincipalId } from "../core/ids.ts";
 * import { KernelError } from "../core/errors.ts";
 * import { TokenAuthority } from "./mod.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const random = new SeededRandom(7);
 * const caps = new TokenAuthority({
 *   store, clock: new FakeClock(0), random,
 *   runtimeKey: keyPairFromSeed(new Uint8Array(32).fill(1)),
 * });
 * const owner = { principal: parsePrincipalId("alice"), session: newSessionId(random) };
 * const root = await caps.mint({
 *   principal: owner.principal, resource: "file:///ws/**",
 *   permissions: ["read", "write"], ttlMs: 60_000, scope: "persistent", maxDepth: 1,
 * });
 * const child = await caps.attenuate(root, {
 *   resource: "file:///ws/docs/**", permissions: ["read"], singleUse: true,
 * });
 * await assert.rejects(
 *   caps.attenuate(root, { resource: "file:///**" }),
 *   (e) => KernelError.is(e, "CAPABILITY_WIDENING"),
 * );
 * await caps.consume(child);
 * await assert.rejects(caps.consume(child), (e) => KernelError.is(e, "CAPABILITY_USED"));
 * ```
 *
 * @module
 */
export { TokenAuthority } from "./token_authority.ts";
export type {
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
export { CapabilityToken, parseToken, safeParseToken } from "./mint_token.ts";
export type { ParseTokenResult } from "./mint_token.ts";
export { CLOCK_SKEW_MS, trustedKeyMap, verifyToken } from "./verify_token.ts";
export type {
  VerifyFailureCode,
  VerifyResult,
  VerifyTokenOptions,
} from "./verify_token.ts";
export {
  isPermission,
  isPermissionSubset,
  normalizePermissions,
  PERMISSIONS,
} from "./permission.ts";
export type { Permission } from "./permission.ts";
export {
  compileResourcePattern,
  hasTraversal,
  MAX_PATTERN_LENGTH,
  MAX_RESOURCE_LENGTH,
  patternCovers,
} from "./resource_pattern.ts";
export type { ResourcePattern } from "./resource_pattern.ts";
export {
  MAX_TOKEN_DEPTH,
  TOKEN_VERSION,
  validateClaims,
} from "./token_claims.ts";
export type { ClaimsResult, TokenClaims, TokenScope } from "./token_claims.ts";
export { decodeTokenWire, MAX_TOKEN_JSON_LENGTH } from "./token_wire.ts";
export type { DecodedTokenWire, TokenWire } from "./token_wire.ts";
