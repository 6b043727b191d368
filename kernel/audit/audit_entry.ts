/**
 * The audit entry: its fields, what is hashed and signed, and a strict parser
 * for entries read back from an untrusted store or export.
 *
 * `hash` = BLAKE3 (hex) of the RFC 8785 canonical JSON of every field except
 * `hash` and `signature`; `signature` = Ed25519 (base64) over the 32 raw hash
 * bytes, made with the runtime key named by `key_id`.
 *
 * Group commit (entry format 2): entries committed together are signed once,
 * on the last entry of the batch. The others carry `signature: null`; each is
 * still hash-linked, and the batch's signature over the last hash covers it
 * through the `prev_hash` links. A chain of format-1 entries is a chain of
 * batches of one, so old and mixed chains verify alike. A `key_rotated`
 * entry always carries its own signature (the old key vouches for the new
 * one), and a chain never ends on an unsigned entry.
 *
 * @module
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import type {
  AuditEntryId,
  CapsuleId,
  PrincipalId,
  SessionId,
} from "../core/ids.ts";
import type { KeyId } from "../crypto/key_id.ts";
import type { JsonValue } from "../store/store.ts";

/**
 * What the gate decided: `info` is for entries that record no decision
 * (key rotation, lifecycle events).
 */
export type AuditDecision = "allowed" | "denied" | "deferred" | "info";

/**
 * Every {@linkcode AuditDecision}, in a stable order.
 *
 * @example Check a decision from input
 * ```ts
 * import { AUDIT_DECISIONS } from "./audit_entry.ts";
 * console.assert(AUDIT_DECISIONS.includes("denied"));
 * ```
 */
export const AUDIT_DECISIONS: readonly AuditDecision[] = Object.freeze([
  "allowed",
  "denied",
  "deferred",
  "info",
]);

/**
 * The `prev_hash` of the first entry of every chain: 64 zeros.
 *
 * @example The genesis link
 * ```ts
 * import { GENESIS_HASH } from "./audit_entry.ts";
 * console.assert(GENESIS_HASH === "0".repeat(64));
 * ```
 */
export const GENESIS_HASH: string = "0".repeat(64);

/** What a caller hands to `AuditLog.append()`. */
export interface AuditRecord {
  /** Whose chain the entry goes to. */
  readonly principal: PrincipalId;
  /** The kernel session, or `null` for system events. */
  readonly session: SessionId | null;
  /** The capsule that asked, or `null`. */
  readonly capsule: CapsuleId | null;
  /** The tool-call / request correlation id, or `null`. */
  readonly call_id: string | null;
  /**
   * The agent the call ran for (`turn-…`, `turn-…/t1` for a sub-agent);
   * absent when the call ran for no agent (and in entries written before
   * the field existed, which verify unchanged).
   */
  readonly agent?: string;
  /** The action (the gate passes its `Action` object). */
  readonly action: JsonValue;
  /** The decision. */
  readonly decision: AuditDecision;
  /** Why it was allowed or denied, e.g. `{type: "capability", token_id}`. */
  readonly proof: JsonValue;
  /** `null` before the side effect, or `{status: "success" | "failure", ...}`. */
  readonly outcome: JsonValue;
}

/** The signed content of an entry: everything except `hash` and `signature`. */
export interface AuditEntryBody extends AuditRecord {
  /** Random UUID of the entry. */
  readonly id: AuditEntryId;
  /** Position in the principal's chain, from 0. */
  readonly seq: number;
  /** Creation time, ms since the epoch (Clock port). */
  readonly timestamp: number;
  /** `hash` of the previous entry of the chain; {@linkcode GENESIS_HASH} for seq 0. */
  readonly prev_hash: string;
  /** Key id of the Ed25519 key that signed the entry. */
  readonly key_id: KeyId;
}

/** A stored, exported entry. */
export interface AuditEntry extends AuditEntryBody {
  /** BLAKE3 of the canonical body, 64 lower-case hex characters. */
  readonly hash: string;
  /**
   * Ed25519 signature of the 32 hash bytes, padded base64 (88 characters);
   * `null` when a later entry of the same batch (group commit) carries the
   * signature that covers this one.
   */
  readonly signature: string | null;
}

/** The head of a chain: its last entry and the key that signs the next one. */
export interface AuditChainHead {
  /** Seq of the last entry. */
  readonly seq: number;
  /** Hash of the last entry. */
  readonly hash: string;
  /** Id of the last entry. */
  readonly id: string;
  /** Key id that must sign the next entry (a rotation entry changes it). */
  readonly key_id: string;
}

/** The result of {@linkcode parseAuditEntry}. */
export type ParseAuditEntryResult =
  | { readonly ok: true; readonly value: AuditEntry }
  | { readonly ok: false; readonly issue: string };

const HEX64 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;
/** Fields an entry may lack (added after chains existed). */
const OPTIONAL_FIELDS = new Set(["agent"]);
const FIELDS = new Set([
  "agent",
  "action",
  "call_id",
  "capsule",
  "decision",
  "hash",
  "id",
  "key_id",
  "outcome",
  "prev_hash",
  "principal",
  "proof",
  "seq",
  "session",
  "signature",
  "timestamp",
]);

/**
 * The body of an entry (the signed part), as a fresh object.
 *
 * @param entry An entry or a body.
 * @returns The 13 body fields.
 *
 * @example Drop hash and signature
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryBody, type AuditEntry } from "./audit_entry.ts";
 * const body = entryBody({ hash: "h", signature: "s" } as unknown as AuditEntry);
 * assert.equal("hash" in body, false);
 * ```
 */
export function entryBody(entry: AuditEntryBody): AuditEntryBody {
  return {
    id: entry.id,
    seq: entry.seq,
    timestamp: entry.timestamp,
    principal: entry.principal,
    session: entry.session,
    capsule: entry.capsule,
    call_id: entry.call_id,
    ...(entry.agent === undefined ? {} : { agent: entry.agent }),
    action: entry.action,
    decision: entry.decision,
    proof: entry.proof,
    outcome: entry.outcome,
    prev_hash: entry.prev_hash,
    key_id: entry.key_id,
  };
}

/**
 * The bytes that are hashed: RFC 8785 canonical JSON of the body.
 *
 * @param entry An entry or a body (`hash` and `signature` are ignored).
 * @returns UTF-8 canonical JSON.
 * @throws {KernelError} `CANONICAL_JSON_UNSUPPORTED` when a field holds a
 * value JSON cannot represent.
 *
 * @example Key order does not matter
 * ```ts
 * import { entryHashInput, type AuditEntryBody } from "./audit_entry.ts";
 * const text = new TextDecoder().decode(entryHashInput({ seq: 0 } as unknown as AuditEntryBody));
 * console.assert(text.startsWith('{"seq":0'));
 * ```
 */
export function entryHashInput(entry: AuditEntryBody): Uint8Array {
  return canonicalBytes(entryBody(entry));
}

/**
 * Checks that an untrusted value has exactly the shape of an
 * {@linkcode AuditEntry} (field set, types, id/hash/signature grammars). It
 * does not check the hash, the signature or the chain links.
 *
 * @param value A value read from the store or parsed from an export line.
 * @returns The entry, or what is wrong with it.
 *
 * @example Reject a truncated hash
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAuditEntry } from "./audit_entry.ts";
 * const r = parseAuditEntry({ hash: "abc" });
 * assert.equal(r.ok, false);
 * ```
 */
export function parseAuditEntry(value: unknown): ParseAuditEntryResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("it is not a JSON object");
  }
  const e = value as Record<string, unknown>;
  const keys = Object.keys(e);
  for (const k of keys) {
    if (!FIELDS.has(k)) {
      return fail(`it has an unknown field '${k.slice(0, 40)}'`);
    }
  }
  const missing = [...FIELDS].find((k) => !(k in e) && !OPTIONAL_FIELDS.has(k));
  if (missing !== undefined) return fail(`it has no '${missing}' field`);
  const issue = fieldIssue(e);
  return issue === undefined
    ? { ok: true, value: value as AuditEntry }
    : fail(issue);
}

function fieldIssue(e: Record<string, unknown>): string | undefined {
  if (!isString(e.id, UUID)) return "'id' is not a lower-case UUID";
  if (!isCount(e.seq)) return "'seq' is not a non-negative safe integer";
  if (!isCount(e.timestamp)) {
    return "'timestamp' is not a non-negative safe integer";
  }
  if (typeof e.principal !== "string" || e.principal === "") {
    return "'principal' is not a non-empty string";
  }
  for (const k of ["session", "capsule", "call_id"] as const) {
    if (e[k] !== null && typeof e[k] !== "string") {
      return `'${k}' is neither a string nor null`;
    }
  }
  if ("agent" in e && (typeof e.agent !== "string" || e.agent === "")) {
    return "'agent' is present but not a non-empty string";
  }
  if (!AUDIT_DECISIONS.includes(e.decision as AuditDecision)) {
    return "'decision' is not allowed, denied, deferred or info";
  }
  if (!isString(e.prev_hash, HEX64)) {
    return "'prev_hash' is not 64 hex characters";
  }
  if (!isString(e.hash, HEX64)) return "'hash' is not 64 hex characters";
  if (!isString(e.key_id, KEY_ID)) return "'key_id' is not 16 hex characters";
  if (e.signature !== null && !isString(e.signature, SIGNATURE)) {
    return "'signature' is neither 64 bytes of padded base64 nor null";
  }
  return undefined;
}

function isString(v: unknown, re: RegExp): boolean {
  return typeof v === "string" && re.test(v);
}

function isCount(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function fail(why: string): ParseAuditEntryResult {
  return { ok: false, issue: `The entry is malformed: ${why}` };
}
