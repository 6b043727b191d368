/**
 * Private: how an entry is stored. The store value is bytes, one of:
 *
 * - `0x01` (a signed entry) ‖ hash (32 bytes) ‖ signature (64 bytes) ‖ the
 *   body's RFC 8785 canonical JSON (UTF-8) — exactly the bytes that were
 *   hashed;
 * - `0x02` (an entry of a group commit sealed by the signature of a later
 *   entry of its batch) ‖ hash (32 bytes) ‖ the body's canonical JSON.
 *
 * Every entry of a chain written before group commit is `0x01`; a batch is
 * `0x02`… `0x02` `0x01`.
 *
 * Keeping the hashed bytes lets verification hash what is stored without
 * re-serialising, which is most of the per-entry cost besides Ed25519. Any
 * edit of the body changes its hash; an entry whose stored bytes are not what
 * the signer hashed cannot carry a valid signature.
 *
 * @module
 */
import type { AuditEntry } from "./audit_entry.ts";
import { parseAuditEntry } from "./audit_entry.ts";

/** Format byte of a signed entry. */
export const FORMAT_V1 = 0x01;
/** Format byte of an entry sealed by a later entry's signature. */
export const FORMAT_V2_UNSIGNED = 0x02;
/** Bytes before the body of a signed entry: version, hash, signature. */
export const HEADER_BYTES = 1 + 32 + 64;
const HEADER = HEADER_BYTES;
const UNSIGNED_HEADER = 1 + 32;
const UTF8_DECODER = new TextDecoder();

/** A stored entry taken apart. */
export interface DecodedEntry {
  /** The entry with `hash` (hex) and `signature` (base64). */
  readonly entry: AuditEntry;
  /** The stored hash bytes. */
  readonly digest: Uint8Array;
  /** The stored signature bytes; `null` for a `0x02` entry. */
  readonly signature: Uint8Array | null;
  /** The stored body bytes (what was hashed). */
  readonly body: Uint8Array;
}

/** The result of {@linkcode decodeEntry}. */
export type DecodeEntryResult =
  | { readonly ok: true; readonly value: DecodedEntry }
  | { readonly ok: false; readonly issue: string };

/**
 * Encodes an entry for the store.
 *
 * @param body The canonical body bytes that were hashed.
 * @param digest The 32-byte hash.
 * @param signature The 64-byte signature, or `null` (sealed by a later entry).
 * @returns The store value.
 */
export function encodeEntry(
  body: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array | null,
): Uint8Array {
  if (signature === null) {
    const out = new Uint8Array(UNSIGNED_HEADER + body.length);
    out[0] = FORMAT_V2_UNSIGNED;
    out.set(digest, 1);
    out.set(body, UNSIGNED_HEADER);
    return out;
  }
  const out = new Uint8Array(HEADER + body.length);
  out[0] = FORMAT_V1;
  out.set(digest, 1);
  out.set(signature, 33);
  out.set(body, HEADER);
  return out;
}

/**
 * Decodes and shape-checks a stored value. Does not check the hash.
 *
 * @param value The store value.
 * @returns The parts, or what is wrong.
 */
export function decodeEntry(value: unknown): DecodeEntryResult {
  if (!(value instanceof Uint8Array)) {
    return fail("The stored value is not an encoded audit entry");
  }
  const signed = value[0] === FORMAT_V1;
  const header = signed ? HEADER : UNSIGNED_HEADER;
  if (
    value.length <= header ||
    (!signed && value[0] !== FORMAT_V2_UNSIGNED)
  ) {
    return fail("The stored value has an unknown format or is truncated");
  }
  const body = value.subarray(header);
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8_DECODER.decode(body));
  } catch {
    return fail("The stored entry body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail("The stored entry body is not a JSON object");
  }
  const fields = parsed as Record<string, unknown>;
  if ("hash" in fields || "signature" in fields) {
    return fail("The stored entry body carries a hash or signature field");
  }
  const digest = value.subarray(1, 33);
  const signature = signed ? value.subarray(33, HEADER) : null;
  // `parsed` is a fresh object: complete it in place rather than copying.
  fields.hash = digest.toHex();
  fields.signature = signature === null ? null : signature.toBase64();
  const checked = parseAuditEntry(fields);
  if (!checked.ok) return checked;
  return { ok: true, value: { entry: checked.value, digest, signature, body } };
}

function fail(issue: string): DecodeEntryResult {
  return { ok: false, issue };
}
