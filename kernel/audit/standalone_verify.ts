/**
 * A self-contained verifier for an Astrid audit export (JSON lines, one entry
 * per line, as written by `AuditLog.exportJsonl()`). It imports nothing of
 * Astrid — only `@noble/ed25519` and `@noble/hashes` — so a third party can
 * copy this one file and check an export with nothing but the runtime public
 * key. `tools/verify_audit.ts` wraps it as a command.
 *
 * Checked per line, first failure reported: exactly the 15 entry fields;
 * `hash` = BLAKE3 of the RFC 8785 canonical JSON of all fields but `hash`
 * and `signature`; one principal; `seq` 0, 1, 2…; `prev_hash` = the previous
 * `hash` (64 zeros first); the signer (`key_id` = hex of the first 8 bytes of
 * BLAKE3(public key)) is trusted or announced by a `key_rotated` entry and is
 * the chain's current signer; a strict RFC 8032 Ed25519 signature of the 32
 * hash bytes.
 *
 * Group commit: an entry may carry `signature: null` when a later entry of
 * its batch carries the signature; that signature, over a hash that links
 * back through every unsigned entry before it, covers them all. Such entries
 * count as verified only once it checks; an export that ends on unsigned
 * entries fails with `UNSIGNED` at the first of them; a `key_rotated` entry
 * must carry its own signature. Exports of chains written before group
 * commit (every entry signed) verify unchanged.
 *
 * An export alone cannot show that its tail was cut off; pass `expectedHead`
 * (the last seq and hash, e.g. from `AuditLog.head()`) to check that too.
 *
 * Security model: trust starts only from the keys you pass; the file is
 * untrusted input, and a key change counts only when a trusted key signed it.
 *
 * @example Verify an export
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyExportLines } from "./standalone_verify.ts";
 * const result = verifyExportLines([], ["A".repeat(43) + "="]);
 * assert.deepEqual(result, { valid: true, entriesVerified: 0 });
 * ```
 *
 * @module
 */
import * as ed from "@noble/ed25519";
import { blake3 } from "@noble/hashes/blake3.js";
import { sha512 } from "@noble/hashes/sha2.js";

/** Why a line failed (same meanings as the kernel verifier's codes). */
export type ExportIssueCode =
  | "MALFORMED"
  | "PRINCIPAL_MISMATCH"
  | "HASH_MISMATCH"
  | "SEQ_GAP"
  | "REORDERED"
  | "PREV_HASH_MISMATCH"
  | "KEY_UNTRUSTED"
  | "KEY_NOT_CURRENT"
  | "ROTATION_INVALID"
  | "SIGNATURE_INVALID"
  | "TRUNCATED"
  | "HEAD_MISMATCH"
  | "UNSIGNED";

/** The first problem found. */
export interface ExportIssue {
  /** 1-based line number (the line after the last one for tail issues). */
  readonly line: number;
  /** The chain position (expected seq) at which verification failed. */
  readonly seq: number;
  /** The entry id on that line, or `null`. */
  readonly id: string | null;
  /** Machine-readable reason. */
  readonly code: ExportIssueCode;
  /** Human-readable reason. */
  readonly reason: string;
}

/** The result of {@linkcode verifyExportLines}. */
export interface ExportVerifyResult {
  /** `true` when every line checks out. */
  readonly valid: boolean;
  /** Entries that passed every check. */
  readonly entriesVerified: number;
  /** The first problem; absent when valid. */
  readonly firstBad?: ExportIssue;
}

/** Options of {@linkcode verifyExportLines}. */
export interface VerifyExportOptions {
  /** The chain head the export must end with (detects a cut-off tail). */
  readonly expectedHead?: { readonly seq: number; readonly hash: string };
}

const FIELDS: readonly string[] = ("action call_id capsule decision hash id " +
  "key_id outcome prev_hash principal proof seq session signature timestamp")
  .split(" ");
const HEX64 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;
const PUBLIC_KEY = /^[A-Za-z0-9+/]{43}=$/;
const DECISIONS = ["allowed", "denied", "deferred", "info"];

/**
 * Verifies an export. Blank lines are skipped.
 *
 * @param lines The export's lines (e.g. `text.split("\n")`).
 * @param trustedPublicKeysBase64 Runtime public keys (32 bytes, padded base64)
 * trusted to sign the first entry.
 * @param options An expected head.
 * @returns `{valid, entriesVerified, firstBad?}`.
 * @throws {TypeError} When a trusted key is not 32 bytes of padded base64.
 *
 * @example A line that is not an entry
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyExportLines } from "./standalone_verify.ts";
 * const result = verifyExportLines(["{}"], ["A".repeat(43) + "="]);
 * assert.equal(result.firstBad?.code, "MALFORMED");
 * ```
 */
export function verifyExportLines(
  lines: Iterable<string>,
  trustedPublicKeysBase64: readonly string[],
  options: VerifyExportOptions = {},
): ExportVerifyResult {
  if (ed.hashes.sha512 === undefined) ed.hashes.sha512 = sha512;
  const st: State = {
    seq: 0,
    prev: "0".repeat(64),
    trusted: new Map(),
    verified: 0,
    pending: null,
  };
  for (const k of trustedPublicKeysBase64) {
    const key = decodePublicKey(k);
    if (key === undefined) {
      throw new TypeError("A trusted key must be 32 bytes of padded base64");
    }
    st.trusted.set(keyIdOf(key), key);
  }
  let line = 0;
  for (const raw of lines) {
    line++;
    if (raw.trim() === "") continue;
    let e: unknown;
    try {
      e = JSON.parse(raw);
    } catch {
      // silent-ok: a line that is not JSON is reported as MALFORMED below.
      e = undefined;
    }
    const problem = checkEntry(e, st, line);
    if (problem === undefined) continue;
    const [code, detail] = problem;
    const found = (e as { id?: unknown } | null)?.id;
    const id = typeof found === "string" ? found.slice(0, 64) : null;
    const reason = detail ? `${WHY[code]}: ${detail}` : WHY[code];
    const firstBad = { line, seq: st.seq, id, code, reason };
    return { valid: false, entriesVerified: st.verified, firstBad };
  }
  if (st.pending !== null) {
    const { line: at, seq, id } = st.pending;
    const reason = `${WHY.UNSIGNED}: entries ${seq} to ${st.seq - 1}`;
    const firstBad = { line: at, seq, id, code: "UNSIGNED", reason } as const;
    return { valid: false, entriesVerified: st.verified, firstBad };
  }
  return tailResult(st.seq, st.prev, line + 1, options);
}

interface State {
  seq: number;
  prev: string;
  principal?: string;
  signer?: string;
  readonly trusted: Map<string, Uint8Array>;
  /** Entries covered by a signature that checked. */
  verified: number;
  /** The first unsigned entry not yet covered by a signature. */
  pending: { line: number; seq: number; id: string } | null;
}

type Problem = readonly [ExportIssueCode, string?];

const WHY: Record<ExportIssueCode, string> = {
  MALFORMED: "Not a well-formed audit entry",
  PRINCIPAL_MISMATCH: "The entry belongs to another principal",
  HASH_MISMATCH: "The content does not match the hash (a field was edited)",
  SEQ_GAP: "Entries are missing before this line (deleted)",
  REORDERED: "The line holds another seq than expected (reordered)",
  PREV_HASH_MISMATCH: "prev_hash is not the last hash (entry removed/replaced)",
  KEY_UNTRUSTED: "Signed by a key neither trusted nor announced (foreign key)",
  KEY_NOT_CURRENT: "Signed by another key than the chain's current signer",
  ROTATION_INVALID: "The rotation's new key is malformed or mismatches its id",
  SIGNATURE_INVALID: "The signature does not verify",
  TRUNCATED: "The export ends before the expected head (tail cut off)",
  HEAD_MISMATCH: "The export's last entry is not the expected head",
  UNSIGNED: "No signature covers these entries (their batch's end is gone)",
};

/** Checks one parsed line; on success advances the state. */
function checkEntry(
  e: unknown,
  st: State,
  line: number,
): Problem | undefined {
  const shape = shapeIssue(e);
  if (shape !== undefined) return ["MALFORMED", shape];
  const r = e as Record<string, unknown>;
  st.principal ??= r.principal as string;
  if (r.principal !== st.principal) return ["PRINCIPAL_MISMATCH"];
  const { hash: _h, signature: _s, ...body } = r;
  const digest = blake3(new TextEncoder().encode(canonical(body)));
  if (toHex(digest) !== r.hash) return ["HASH_MISMATCH"];
  const found = `expected seq ${st.seq}, found ${r.seq}`;
  if (r.seq !== st.seq) {
    return [(r.seq as number) > st.seq ? "SEQ_GAP" : "REORDERED", found];
  }
  if (r.prev_hash !== st.prev) return ["PREV_HASH_MISMATCH"];
  const keyId = r.key_id as string;
  const publicKey = st.trusted.get(keyId);
  if (publicKey === undefined) return ["KEY_UNTRUSTED", `key ${keyId}`];
  if (st.signer !== undefined && keyId !== st.signer) {
    return ["KEY_NOT_CURRENT", `signed by ${keyId}, expected ${st.signer}`];
  }
  let next = keyId;
  const action = r.action as Record<string, unknown> | null;
  if (action?.type === "key_rotated" && r.signature === null) {
    return ["ROTATION_INVALID", "a rotation entry must carry its signature"];
  }
  if (action?.type === "key_rotated") {
    const text = action.new_public_key;
    const newKey = typeof text === "string" ? decodePublicKey(text) : undefined;
    if (newKey === undefined || keyIdOf(newKey) !== action.new_key_id) {
      return ["ROTATION_INVALID"];
    }
    next = keyIdOf(newKey);
    st.trusted.set(next, newKey);
  }
  if (r.signature === null) {
    st.pending ??= { line, seq: st.seq, id: r.id as string };
    st.signer = next;
    st.prev = r.hash as string;
    st.seq++;
    return undefined;
  }
  let ok: boolean;
  try {
    ok = ed.verify(fromBase64(r.signature as string), digest, publicKey, {
      zip215: false,
    });
  } catch {
    // silent-ok: a malformed point or signature simply does not verify.
    ok = false;
  }
  if (!ok) {
    const from = st.pending === null
      ? ""
      : ` (it seals from seq ${st.pending.seq})`;
    return ["SIGNATURE_INVALID", `key ${keyId}${from}`];
  }
  st.pending = null;
  st.signer = next;
  st.prev = r.hash as string;
  st.seq++;
  st.verified = st.seq;
  return undefined;
}

function tailResult(
  seq: number,
  last: string,
  line: number,
  options: VerifyExportOptions,
): ExportVerifyResult {
  const head = options.expectedHead;
  if (head === undefined || (head.seq === seq - 1 && head.hash === last)) {
    return { valid: true, entriesVerified: seq };
  }
  const code = head.seq >= seq ? "TRUNCATED" : "HEAD_MISMATCH";
  const reason = `${WHY[code]}: expected ${head.seq}, the last is ${seq - 1}`;
  const at = code === "TRUNCATED" ? seq : seq - 1;
  const firstBad = { line, seq: at, id: null, code, reason } as const;
  return { valid: false, entriesVerified: seq, firstBad };
}

function shapeIssue(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) {
    return "not a JSON object";
  }
  const r = e as Record<string, unknown>;
  // `agent` is optional (entries written before it existed lack it).
  const extra = "agent" in r ? 1 : 0;
  if (
    Object.keys(r).length !== FIELDS.length + extra ||
    !FIELDS.every((f) => f in r)
  ) {
    return `expected exactly the fields ${
      FIELDS.join(", ")
    } (and optionally agent)`;
  }
  if (extra === 1 && !match(/^./s)(r.agent)) {
    return "'agent' is not a non-empty string";
  }
  const bad = SHAPE.find(([field, ok]) => !ok(r[field]));
  return bad === undefined ? undefined : `'${bad[0]}' is not ${bad[2]}`;
}

const count = (v: unknown): boolean =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const match = (re: RegExp) => (v: unknown): boolean =>
  typeof v === "string" && re.test(v);
const optional = (v: unknown): boolean => v === null || typeof v === "string";
const SHAPE: readonly [string, (v: unknown) => boolean, string][] = [
  ["id", match(UUID), "a lower-case UUID"],
  ["seq", count, "a non-negative integer"],
  ["timestamp", count, "a non-negative integer"],
  ["principal", match(/^./s), "a non-empty string"],
  ["session", optional, "a string or null"],
  ["capsule", optional, "a string or null"],
  ["call_id", optional, "a string or null"],
  ["decision", (v) => DECISIONS.includes(v as string), "a known decision"],
  ["prev_hash", match(HEX64), "64 hex characters"],
  ["hash", match(HEX64), "64 hex characters"],
  ["key_id", match(KEY_ID), "16 hex characters"],
  [
    "signature",
    (v) => v === null || match(SIGNATURE)(v),
    "64 bytes of padded base64 or null",
  ],
];

/** RFC 8785 canonical JSON of a value that came from `JSON.parse`. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as RFC 8785 requires.
    const members = Object.keys(o).sort().map((k) =>
      `${JSON.stringify(k)}:${canonical(o[k])}`
    );
    return `{${members.join(",")}}`;
  }
  // JSON.stringify writes strings and numbers exactly as RFC 8785 does.
  return JSON.stringify(v);
}

function keyIdOf(publicKey: Uint8Array): string {
  return toHex(blake3(publicKey).subarray(0, 8));
}

function decodePublicKey(text: string): Uint8Array | undefined {
  return PUBLIC_KEY.test(text) ? fromBase64(text) : undefined;
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
