/**
 * Private: entry ids that carry their seq, so that a lookup by id needs no
 * index key per entry.
 *
 * An id is an RFC 9562 version-8 UUID: the first 48 bits are the entry's seq
 * (big-endian: the first 12 hex digits), then the version and variant bits,
 * and 74 random bits (the `Random` port) that keep ids of different chains
 * and principals apart. Ids of chains written before this layout are random
 * version-4 UUIDs and are found through their `["audit_id", principal, id]`
 * key, which is still read (and no longer written).
 *
 * A lookup by id reads the entry at the seq the id names and returns it only
 * when its stored `id` is exactly the id asked for, so an id cannot name
 * another entry.
 *
 * @module
 */
import type { AuditEntryId } from "../core/ids.ts";
import type { Random } from "../core/ports.ts";

/** The largest seq an id can carry (2^48 - 1). */
const MAX_SEQ = 2 ** 48 - 1;

/**
 * A fresh id for the entry at `seq`.
 *
 * @param seq The entry's position in its chain.
 * @param random Randomness.
 * @returns A lower-case hyphenated version-8 UUID.
 * @throws {RangeError} When `seq` is not a safe integer in 0..2^48-1.
 */
export function entryIdFor(seq: number, random: Random): AuditEntryId {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new RangeError(`Cannot make an audit entry id for seq ${seq}`);
  }
  const b = random.bytes(16);
  let s = seq;
  for (let i = 5; i >= 0; i--) {
    b[i] = s % 256;
    s = Math.floor(s / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toHex();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${
    h.slice(16, 20)
  }-${h.slice(20)}` as AuditEntryId;
}

/**
 * The seq an id carries, or `undefined` for an id of the older (random)
 * layout.
 *
 * @param id A lower-case hyphenated UUID.
 * @returns The seq, or `undefined`.
 */
export function seqOfEntryId(id: string): number | undefined {
  if (id.length !== 36 || id[14] !== "8") return undefined;
  const seq = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return Number.isSafeInteger(seq) ? seq : undefined;
}
