/**
 * Private: how an entry is stored. The store value is bytes:
 *
 * `0x01` (format version) ‖ hash (32 bytes) ‖ signature (64 bytes) ‖ the
 * body's RFC 8785 canonical JSON (UTF-8) — exactly the bytes that were hashed.
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

/** Current format version byte. */
export const FORMAT_V1 = 0x01;
/** Bytes before the body: version, hash, signature. */
export const HEADER_BYTES = 1 + 32 + 64;
const HEADER = HEADER_BYTES;
const UTF8_DECODER = new TextDecoder();

/** A stored entry taken apart. */
export interface DecodedEntry {
  /** The entry with `hash` (hex) and `signature` (base64). */
  readonly entry: AuditEntry;
  /** The stored hash bytes. */
  readonly digest: Uint8Array;
  /** The stored signature bytes. */
  readonly signature: Uint8Array;
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
 * @param signature The 64-byte signature.
 * @returns The store value.
 */
export function encodeEntry(
  body: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
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
  if (value.length <= HEADER || value[0] !== FORMAT_V1) {
    return fail("The stored value has an unknown format or is truncated");
  }
  const body = value.subarray(HEADER);
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
  const signature = value.subarray(33, HEADER);
  // `parsed` is a fresh object: complete it in place rather than copying.
  fields.hash = digest.toHex();
  fields.signature = signature.toBase64();
  const checked = parseAuditEntry(fields);
  if (!checked.ok) return checked;
  return { ok: true, value: { entry: checked.value, digest, signature, body } };
}

function fail(issue: string): DecodeEntryResult {
  return { ok: false, issue };
}
