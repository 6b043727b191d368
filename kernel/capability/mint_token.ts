/**
 * {@linkcode CapabilityToken} and the only functions that can create one:
 * {@linkcode signToken} (sign claims with the runtime key) and
 * {@linkcode parseToken} / {@linkcode safeParseToken} (decode untrusted JSON).
 *
 * Security model: the class keeps its claims and signature in `#private`
 * fields and its constructor demands a key that never leaves this file, so no
 * other code — not even a subclass — can fabricate an instance; every token
 * object was either signed here or decoded here from strictly validated JSON.
 * A decoded token is not yet trusted: `TokenAuthority.verify()` checks its
 * signature against the runtime key, its registration, expiry, revocation and
 * parent chain.
 *
 * @module
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import { KernelError } from "../core/errors.ts";
import type { TokenId } from "../core/ids.ts";
import { sign } from "../crypto/ed25519.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Permission } from "./permission.ts";
import {
  compileResourcePattern,
  type ResourcePattern,
} from "./resource_pattern.ts";
import { type TokenClaims, validateClaims } from "./token_claims.ts";
import { decodeTokenWire, type TokenWire } from "./token_wire.ts";

/** The module-private construction key; it is never exported. */
const CONSTRUCT: unique symbol = Symbol("CapabilityToken.construct");

/**
 * A capability token: signed claims granting a principal some permissions on
 * the resources a pattern matches. Immutable; made only by
 * {@linkcode signToken} and {@linkcode parseToken}.
 *
 * @example Decode a token and ask what it grants
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { parseToken, signToken } from "./mint_token.ts";
 * const key = keyPairFromSeed(new Uint8Array(32).fill(1));
 * const token = await signToken({
 *   v: 1, id: "00000000-0000-4000-8000-000000000001", principal: "alice",
 *   resource: "file:///ws/**", permissions: ["read"], issued_at: 0,
 *   expires_at: null, scope: "persistent", session: null,
 *   issuer_key_id: key.keyId, approval_audit_id: null, single_use: false,
 *   parent: null, depth: 0, max_depth: 0, budget_usd_micros: null,
 * } as never, key);
 * const again = parseToken(JSON.stringify(token));
 * assert.ok(again.grants("file:///ws/a.txt", "read"));
 * assert.ok(!again.grants("file:///ws/a.txt", "write"));
 * ```
 */
export class CapabilityToken {
  readonly #claims: TokenClaims;
  readonly #signature: Uint8Array;
  readonly #payload: Uint8Array;
  readonly #pattern: ResourcePattern;

  /**
   * Not for use outside `mint_token.ts`: only its functions hold the key.
   *
   * @param key The module-private construction key.
   * @param claims Validated claims.
   * @param signature The 64-byte signature.
   * @throws {TypeError} When `key` is not the construction key.
   */
  constructor(key: symbol, claims: TokenClaims, signature: Uint8Array) {
    if (key !== CONSTRUCT) {
      throw new TypeError(
        "Cannot construct a CapabilityToken directly: use TokenAuthority.mint() or parseToken()",
      );
    }
    this.#claims = claims;
    this.#signature = signature.slice();
    this.#payload = canonicalBytes(claims);
    this.#pattern = compileResourcePattern(claims.resource);
  }

  /** The token's id. */
  get id(): TokenId {
    return this.#claims.id;
  }

  /** The signed claims (deeply frozen). */
  get claims(): TokenClaims {
    return this.#claims;
  }

  /** A copy of the 64-byte signature. */
  get signature(): Uint8Array {
    return this.#signature.slice();
  }

  /** A copy of the signed bytes: the RFC 8785 canonical JSON of the claims. */
  get payload(): Uint8Array {
    return this.#payload.slice();
  }

  /**
   * Tells whether the claims grant `permission` on `resource`: the pattern
   * matches and the permission is listed. Says nothing about validity; use
   * `TokenAuthority.verify()` for that.
   *
   * @param resource The concrete resource, e.g. `file:///ws/a.txt`.
   * @param permission The permission wanted.
   * @returns `true` when granted by the claims.
   */
  grants(resource: string, permission: Permission): boolean {
    return this.#claims.permissions.includes(permission) &&
      this.#pattern.matches(resource);
  }

  /**
   * Tells whether the token has expired at `now`, allowing `skewMs` of clock
   * skew.
   *
   * @param now Milliseconds since the epoch.
   * @param skewMs Grace period after `expires_at` (default 0).
   * @returns `true` once `now > expires_at + skewMs`.
   */
  isExpired(now: number, skewMs = 0): boolean {
    const exp = this.#claims.expires_at;
    return exp !== null && now > exp + skewMs;
  }

  /**
   * The wire form.
   *
   * @returns `{ claims, signature }` with the signature in base64.
   */
  toJSON(): TokenWire {
    return { claims: this.#claims, signature: this.#signature.toBase64() };
  }
}

/**
 * Signs claims with a key and wraps them in a {@linkcode CapabilityToken}.
 * Checks the claims' shape, not their policy: `TokenAuthority` decides what
 * may be minted.
 *
 * @param claims The claims to sign; `issuer_key_id` must name `key`.
 * @param key The signer (the runtime key).
 * @returns The signed token.
 * @throws {KernelError} `INVALID_INPUT` when the claims are malformed or name
 * another issuer key.
 *
 * @example Sign claims
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyPairFromSeed } from "../crypto/key_pair.ts";
 * import { signToken } from "./mint_token.ts";
 * const key = keyPairFromSeed(new Uint8Array(32).fill(2));
 * const token = await signToken({
 *   v: 1, id: "00000000-0000-4000-8000-000000000002", principal: "bob",
 *   resource: "mcp://memory:read_graph", permissions: ["invoke"], issued_at: 5,
 *   expires_at: 10, scope: "persistent", session: null, issuer_key_id: key.keyId,
 *   approval_audit_id: null, single_use: true, parent: null, depth: 0,
 *   max_depth: 0, budget_usd_micros: null,
 * } as never, key);
 * assert.equal(token.signature.length, 64);
 * ```
 */
export async function signToken(
  claims: TokenClaims,
  key: KeyPair,
): Promise<CapabilityToken> {
  const checked = validateClaims(claims);
  if (!checked.ok) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot sign token claims as they are malformed: ${
        checked.issues.join("; ")
      }`,
      { data: { issues: checked.issues } },
    );
  }
  if (checked.value.issuer_key_id !== key.keyId) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot sign token claims naming issuer key ${checked.value.issuer_key_id} with key ${key.keyId}`,
    );
  }
  const signature = await sign(key, canonicalBytes(checked.value));
  return new CapabilityToken(CONSTRUCT, checked.value, signature);
}

/** What {@linkcode safeParseToken} returns. */
export type ParseTokenResult =
  | { readonly ok: true; readonly value: CapabilityToken }
  | { readonly ok: false; readonly issues: readonly string[] };

/**
 * Decodes an untrusted token without throwing. The result is well-formed,
 * not trusted: verify it before relying on it.
 *
 * @param input JSON text or a parsed JSON value.
 * @returns `{ ok: true, value }` or `{ ok: false, issues }`.
 *
 * @example Report the issues
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeParseToken } from "./mint_token.ts";
 * const result = safeParseToken('{"claims":{},"signature":"x"}');
 * assert.ok(!result.ok && result.issues.length > 0);
 * ```
 */
export function safeParseToken(input: unknown): ParseTokenResult {
  const decoded = decodeTokenWire(input);
  if (!decoded.ok) return decoded;
  return {
    ok: true,
    value: new CapabilityToken(CONSTRUCT, decoded.claims, decoded.signature),
  };
}

/**
 * Decodes an untrusted token. The result is well-formed, not trusted: verify
 * it before relying on it.
 *
 * @param input JSON text or a parsed JSON value.
 * @returns The decoded token.
 * @throws {KernelError} `CAPABILITY_INVALID` listing every issue found.
 *
 * @example Reject a token with an extra field
 * ```ts
 * import assert from "node:assert/strict";
 * import { KernelError } from "../core/errors.ts";
 * import { parseToken } from "./mint_token.ts";
 * assert.throws(
 *   () => parseToken({ claims: {}, signature: "", admin: true }),
 *   (e) => KernelError.is(e, "CAPABILITY_INVALID"),
 * );
 * ```
 */
export function parseToken(input: unknown): CapabilityToken {
  const result = safeParseToken(input);
  if (result.ok) return result.value;
  throw new KernelError(
    "CAPABILITY_INVALID",
    `Cannot parse capability token: ${result.issues.slice(0, 10).join("; ")}`,
    { data: { issues: result.issues } },
  );
}
