// deno-lint-ignore-file camelcase -- signed claims use the snake_case field names of reference §6.4
/**
 * The signed claims of a capability token and their strict validation.
 *
 * The signature covers the RFC 8785 canonical JSON of exactly these claims;
 * the wire form is `{ claims, signature }` (see `mint_token.ts`). Times are
 * integer milliseconds since the epoch; money is integer micro-dollars.
 *
 * @module
 */
import {
  type AuditEntryId,
  parseAuditEntryId,
  parsePrincipalId,
  parseSessionId,
  parseTokenId,
  type PrincipalId,
  type SessionId,
  type TokenId,
} from "../core/ids.ts";
import { type KeyId, parseKeyId } from "../crypto/key_id.ts";
import { isPermission, type Permission } from "./permission.ts";
import { compileResourcePattern } from "./resource_pattern.ts";

/**
 * The claims format version this code writes and accepts.
 *
 * @example Another version is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { TOKEN_VERSION, validateClaims } from "./token_claims.ts";
 * assert.equal(TOKEN_VERSION, 1);
 * assert.equal(validateClaims({ v: 2 }).ok, false);
 * ```
 */
export const TOKEN_VERSION = 1;

/**
 * Deepest attenuation chain allowed (a root token has depth 0).
 *
 * @example The cap
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_TOKEN_DEPTH } from "./token_claims.ts";
 * assert.equal(MAX_TOKEN_DEPTH, 8);
 * ```
 */
export const MAX_TOKEN_DEPTH = 8;

/**
 * Where a token lives: `session` tokens are bound to one session and dropped
 * when it is cleared; `persistent` tokens survive restarts.
 */
export type TokenScope = "session" | "persistent";

/** What a capability token says. Every field is signed. */
export interface TokenClaims {
  /** Format version, always {@linkcode TOKEN_VERSION}. */
  readonly v: 1;
  /** The token's id. */
  readonly id: TokenId;
  /** Whose token it is; only this principal's lookups find it. */
  readonly principal: PrincipalId;
  /** The resource pattern (see `resource_pattern.ts`). */
  readonly resource: string;
  /** The granted permissions: non-empty, no duplicates. */
  readonly permissions: readonly Permission[];
  /** When it was minted (ms since the epoch). */
  readonly issued_at: number;
  /** When it expires (ms since the epoch), `null` for never. */
  readonly expires_at: number | null;
  /** Session-bound or persistent. */
  readonly scope: TokenScope;
  /** The session of a `session` token; `null` exactly for `persistent` ones. */
  readonly session: SessionId | null;
  /** Key id of the runtime key that signed it. */
  readonly issuer_key_id: KeyId;
  /** The audit entry that recorded the approval behind it, if any. */
  readonly approval_audit_id: AuditEntryId | null;
  /** Whether one use consumes it. */
  readonly single_use: boolean;
  /** The token it was attenuated from; `null` for a root token. */
  readonly parent: TokenId | null;
  /** Attenuation depth: 0 for a root token, parent's depth + 1 otherwise. */
  readonly depth: number;
  /**
   * The deepest chain depth any descendant may reach: a child can be made
   * only while `depth + 1 <= max_depth`. Between `depth` and
   * {@linkcode MAX_TOKEN_DEPTH}.
   */
  readonly max_depth: number;
  /** Budget slice in micro-dollars; `null` for no slice of its own. */
  readonly budget_usd_micros: number | null;
}

/** What {@linkcode validateClaims} returns. */
export type ClaimsResult =
  | { readonly ok: true; readonly value: TokenClaims }
  | { readonly ok: false; readonly issues: readonly string[] };

const FIELDS: ReadonlySet<string> = new Set([
  "v",
  "id",
  "principal",
  "resource",
  "permissions",
  "issued_at",
  "expires_at",
  "scope",
  "session",
  "issuer_key_id",
  "approval_audit_id",
  "single_use",
  "parent",
  "depth",
  "max_depth",
  "budget_usd_micros",
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isTime(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/**
 * Validates untrusted claims field by field. Unknown fields, missing fields
 * and wrong types are all issues; nothing is coerced.
 *
 * @param raw Untrusted input (e.g. the `claims` of a parsed wire token).
 * @returns `{ ok: true, value }` with frozen claims, or `{ ok: false, issues }`.
 *
 * @example Reject a claim set with a bad field
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateClaims } from "./token_claims.ts";
 * const result = validateClaims({ v: 1, id: "nope" });
 * assert.equal(result.ok, false);
 * ```
 */
export function validateClaims(input: unknown): ClaimsResult {
  if (!isPlainObject(input)) {
    return { ok: false, issues: ["claims: expected a JSON object"] };
  }
  // Snapshot once, so a getter cannot answer differently after the checks.
  const raw: Record<string, unknown> = { ...input };
  if (Array.isArray(raw.permissions)) raw.permissions = [...raw.permissions];
  const issues: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!FIELDS.has(key)) issues.push(`${key.slice(0, 40)}: unknown field`);
  }
  for (const key of FIELDS) {
    if (!Object.hasOwn(raw, key)) issues.push(`${key}: missing`);
  }
  if (issues.length > 0) return { ok: false, issues };
  const field = (name: string, ok: boolean, rule: string): void => {
    if (!ok) issues.push(`${name}: expected ${rule}`);
  };
  const parses = (name: string, parse: (v: unknown) => unknown): void => {
    try {
      parse(raw[name]);
    } catch (err) {
      issues.push(`${name}: ${err instanceof Error ? err.message : "invalid"}`);
    }
  };
  const nullOr = (parse: (v: unknown) => unknown) => (v: unknown): unknown =>
    v === null ? null : parse(v);
  field("v", raw.v === TOKEN_VERSION, `${TOKEN_VERSION}`);
  parses("id", parseTokenId);
  parses("principal", parsePrincipalId);
  parses("resource", (v) => compileResourcePattern(v as string));
  const perms = raw.permissions;
  field(
    "permissions",
    Array.isArray(perms) && perms.length > 0 && perms.every(isPermission) &&
      new Set(perms).size === perms.length,
    "a non-empty list of distinct permissions",
  );
  field("issued_at", isTime(raw.issued_at), "integer ms since the epoch");
  field(
    "expires_at",
    raw.expires_at === null ||
      (isTime(raw.expires_at) && isTime(raw.issued_at) &&
        raw.expires_at > raw.issued_at),
    "null or integer ms after issued_at",
  );
  field(
    "scope",
    raw.scope === "session" || raw.scope === "persistent",
    '"session" or "persistent"',
  );
  if (raw.scope === "persistent") {
    field("session", raw.session === null, "null for a persistent token");
  } else parses("session", parseSessionId);
  parses("issuer_key_id", parseKeyId);
  parses("approval_audit_id", nullOr(parseAuditEntryId));
  field("single_use", typeof raw.single_use === "boolean", "a boolean");
  parses("parent", nullOr(parseTokenId));
  const { depth, max_depth: maxDepth } = raw;
  const depthOk = Number.isSafeInteger(depth) && (depth as number) >= 0 &&
    (depth as number) <= MAX_TOKEN_DEPTH;
  field("depth", depthOk, `an integer 0-${MAX_TOKEN_DEPTH}`);
  field(
    "depth",
    !depthOk || (depth === 0) === (raw.parent === null),
    "0 exactly when parent is null",
  );
  field(
    "max_depth",
    Number.isSafeInteger(maxDepth) && (maxDepth as number) <= MAX_TOKEN_DEPTH &&
      (maxDepth as number) >= (depthOk ? depth as number : 0),
    `an integer from depth to ${MAX_TOKEN_DEPTH}`,
  );
  field(
    "budget_usd_micros",
    raw.budget_usd_micros === null || isTime(raw.budget_usd_micros),
    "null or a non-negative integer",
  );
  if (issues.length > 0) return { ok: false, issues };
  Object.freeze(perms);
  return { ok: true, value: Object.freeze(raw) as unknown as TokenClaims };
}
