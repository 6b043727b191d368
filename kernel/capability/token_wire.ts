/**
 * The wire form of a capability token, `{ claims, signature }` with the
 * signature in standard base64, and its strict decoding from untrusted input.
 * Decoding checks shape only; the signature is checked by
 * `TokenAuthority.verify()`.
 *
 * @module
 */
import { SIGNATURE_LENGTH } from "../crypto/ed25519.ts";
import type { TokenClaims } from "./token_claims.ts";
import { validateClaims } from "./token_claims.ts";

/**
 * Largest accepted token JSON text, in UTF-16 code units.
 *
 * @example Over-long text is refused unread
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTokenWire, MAX_TOKEN_JSON_LENGTH } from "./token_wire.ts";
 * const result = decodeTokenWire(" ".repeat(MAX_TOKEN_JSON_LENGTH + 1));
 * assert.ok(!result.ok && /longer than/.test(result.issues[0] ?? ""));
 * ```
 */
export const MAX_TOKEN_JSON_LENGTH = 16_384;

/** A token as JSON: the signed claims and the base64 Ed25519 signature. */
export interface TokenWire {
  /** The signed claims. */
  readonly claims: TokenClaims;
  /** Ed25519 signature over the canonical JSON of `claims`, standard base64. */
  readonly signature: string;
}

/** What {@linkcode decodeTokenWire} returns. */
export type DecodedTokenWire =
  | {
    readonly ok: true;
    readonly claims: TokenClaims;
    readonly signature: Uint8Array;
  }
  | { readonly ok: false; readonly issues: readonly string[] };

const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

/**
 * Decodes an untrusted token: JSON text or an already parsed value. Exactly
 * the fields `claims` and `signature` are allowed; the claims are validated
 * strictly ({@linkcode validateClaims}); the signature must be padded
 * standard base64 of exactly 64 bytes.
 *
 * @param input JSON text or a parsed JSON value.
 * @returns The claims and raw signature, or the list of issues.
 *
 * @example Reject garbage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTokenWire } from "./token_wire.ts";
 * assert.equal(decodeTokenWire("{").ok, false);
 * assert.equal(decodeTokenWire({ claims: {}, signature: "" }).ok, false);
 * ```
 */
export function decodeTokenWire(input: unknown): DecodedTokenWire {
  let value = input;
  if (typeof input === "string") {
    if (input.length > MAX_TOKEN_JSON_LENGTH) {
      return {
        ok: false,
        issues: [`token: longer than ${MAX_TOKEN_JSON_LENGTH} characters`],
      };
    }
    try {
      value = JSON.parse(input);
    } catch {
      // silent-ok: a parse failure is reported as an issue, not thrown
      return { ok: false, issues: ["token: not valid JSON"] };
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, issues: ["token: expected a JSON object"] };
  }
  const raw = { ...value } as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(raw)) {
    if (key !== "claims" && key !== "signature") {
      issues.push(`${key.slice(0, 40)}: unknown field`);
    }
  }
  const sig = raw.signature;
  let signature: Uint8Array | null = null;
  if (typeof sig === "string" && BASE64_SIGNATURE.test(sig)) {
    signature = Uint8Array.fromBase64(sig);
  }
  if (signature === null || signature.length !== SIGNATURE_LENGTH) {
    issues.push(
      `signature: expected padded base64 of ${SIGNATURE_LENGTH} bytes`,
    );
  }
  const claims = validateClaims(raw.claims);
  if (!claims.ok) {
    issues.push(
      ...claims.issues.map((i) => i.startsWith("claims:") ? i : `claims.${i}`),
    );
  }
  if (issues.length > 0 || !claims.ok || signature === null) {
    return { ok: false, issues };
  }
  return { ok: true, claims: claims.value, signature };
}
