/**
 * Private: the store layout of the audit chains.
 *
 * - `["audit", principal, seq]` → the entry (bytes, see `_entry_codec.ts`);
 * - `["audit_head", principal]` → {@linkcode AuditChainHead} plus
 *   `max_timestamp` (the largest entry timestamp of the chain so far);
 * - `["audit_id", principal, id]` → seq: written only by chains from before
 *   entry ids carried their seq (`_entry_id.ts`); still read for their ids;
 * - `["audit_idx", principal, "session" | "capsule", value, seq]`, one key
 *   per value and *commit* (group commit): `seq` is the first entry of the
 *   commit with that value; the key holds `null` when it is the only one,
 *   else the ascending list of every seq of the commit with that value
 *   (`seq` first). Chains written before group commit have one `null` key
 *   per entry, which reads the same;
 * - `["audit_idx", principal, "decision", value, seq]`, the same, only for
 *   the rare decisions `denied` and `deferred` (a query for `allowed` or
 *   `info`, the bulk of a chain, walks the chain instead);
 * - `["audit_idx", principal, "time", timestamp, seq]` → `null`, only for a
 *   *late* entry: one whose timestamp is below `max_timestamp` when it is
 *   written (the clock went backwards);
 * - `["audit_idx", principal, "time_mark", max_timestamp, seq]` → `null`, for
 *   every {@linkcode MARK_EVERY}-th entry: the chain's `max_timestamp` up to
 *   and including that entry.
 *
 * Entries that are not late have non-decreasing timestamps in seq order, and
 * `max_timestamp` never decreases, so the marks bound a time range to a run
 * of seqs (see `_time_range.ts`). Chains written before this layout have a
 * `time` key for every entry and no marks; the time query stays exact on
 * them, only slower.
 *
 * Numeric parts sort numerically, so listing `["audit", principal]` walks the
 * chain in seq order.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { StoreKey } from "../store/store.ts";
import type { AuditChainHead, AuditEntry } from "./audit_entry.ts";

/** Namespace of the entries. */
export const ENTRY_NS = "audit";
/** Namespace of the chain heads. */
export const HEAD_NS = "audit_head";
/** Namespace of the id → seq index (read for chains of older layouts). */
export const ID_NS = "audit_id";
/** Namespace of the secondary indexes. */
export const INDEX_NS = "audit_idx";
/** Index kind of late entries, by timestamp. */
export const LATE_KIND = "time";
/** Index kind of the time marks, by the chain's max timestamp. */
export const MARK_KIND = "time_mark";
/** Every entry whose seq is a multiple of this gets a time mark. */
export const MARK_EVERY = 64;

/** Index kinds that take an exact value. */
export type IndexKind = "session" | "capsule" | "decision";

/** Decisions that get a `decision` index key; the others are found by a walk. */
export const INDEXED_DECISIONS: ReadonlySet<string> = new Set([
  "denied",
  "deferred",
]);

/**
 * The key of one entry.
 *
 * @param principal The chain.
 * @param seq The position.
 * @returns The store key.
 */
export function entryKey(principal: string, seq: number): StoreKey {
  return [ENTRY_NS, principal, seq];
}

/**
 * The key of a chain head.
 *
 * @param principal The chain.
 * @returns The store key.
 */
export function headKey(principal: string): StoreKey {
  return [HEAD_NS, principal];
}

/**
 * The key of the id index.
 *
 * @param principal The chain.
 * @param id The entry id.
 * @returns The store key.
 */
export function idKey(principal: string, id: string): StoreKey {
  return [ID_NS, principal, id];
}

/**
 * Every index key an entry gets.
 *
 * @param e The entry.
 * @param maxBefore The chain's max timestamp before `e` (`null`: `e` is the
 * first entry).
 * @returns Its index keys.
 */
export function indexKeys(e: AuditEntry, maxBefore: number | null): StoreKey[] {
  const p = e.principal;
  const keys: StoreKey[] = [];
  if (e.session !== null) keys.push([INDEX_NS, p, "session", e.session, e.seq]);
  if (e.capsule !== null) keys.push([INDEX_NS, p, "capsule", e.capsule, e.seq]);
  if (INDEXED_DECISIONS.has(e.decision)) {
    keys.push([INDEX_NS, p, "decision", e.decision, e.seq]);
  }
  if (maxBefore !== null && e.timestamp < maxBefore) {
    keys.push([INDEX_NS, p, LATE_KIND, e.timestamp, e.seq]);
  }
  if (e.seq % MARK_EVERY === 0) {
    const max = Math.max(maxBefore ?? e.timestamp, e.timestamp);
    keys.push([INDEX_NS, p, MARK_KIND, max, e.seq]);
  }
  return keys;
}

/**
 * The index writes of the entries of one commit: the exact-value indexes
 * (session, capsule, decision) grouped to one key per value (see the module
 * doc), the time keys per entry.
 *
 * @param entries The commit's entries in seq order, each with the chain's
 * max timestamp before it.
 * @returns The keys and their values.
 */
export function commitIndexWrites(
  entries: readonly {
    readonly entry: AuditEntry;
    readonly maxBefore: number | null;
  }[],
): [StoreKey, number[] | null][] {
  const grouped = new Map<string, [StoreKey, number[]]>();
  const out: [StoreKey, number[] | null][] = [];
  for (const { entry, maxBefore } of entries) {
    for (const key of indexKeys(entry, maxBefore)) {
      const kind = key[2];
      if (kind === LATE_KIND || kind === MARK_KIND) {
        out.push([key, null]);
        continue;
      }
      const id = `${String(kind)}\u0000${String(key[3])}`;
      const seen = grouped.get(id);
      if (seen === undefined) grouped.set(id, [key, [entry.seq]]);
      else seen[1].push(entry.seq);
    }
  }
  for (const [key, seqs] of grouped.values()) {
    out.push([key, seqs.length === 1 ? null : seqs]);
  }
  return out;
}

/**
 * The seqs an exact-value index key stands for: its own seq, or the list it
 * holds (a group commit). A malformed list stands for the key's seq only:
 * a query re-checks every entry it returns, so an edited index key can hide
 * entries (as deleting it could) but never return a wrong one.
 *
 * @param seq The seq part of the key.
 * @param value The key's value.
 * @returns The seqs, ascending.
 */
export function indexedSeqs(seq: number, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) return [seq];
  let last = -1;
  for (const s of value) {
    if (!Number.isSafeInteger(s) || (s as number) <= last) return [seq];
    last = s as number;
  }
  return value[0] === seq ? value as number[] : [seq];
}

/**
 * Reads a head value, or `null` when it is not one. Returns only the public
 * fields.
 *
 * @param value A stored value.
 * @returns The head, or `null`.
 */
export function asHead(value: unknown): AuditChainHead | null {
  if (typeof value !== "object" || value === null) return null;
  const h = value as Record<string, unknown>;
  return typeof h.seq === "number" && typeof h.hash === "string" &&
      typeof h.id === "string" && typeof h.key_id === "string"
    ? { seq: h.seq, hash: h.hash, id: h.id, key_id: h.key_id }
    : null;
}

/**
 * Reads a chain's stored head key, failing closed: an absent key is an empty
 * chain (`null`), but a key that holds anything other than a head — edited,
 * truncated, written by a bug — is an error, never an empty chain (which
 * would restart the chain at seq 0 and fork it).
 *
 * @param principal The chain (for the message).
 * @param stored The head key's value as read, `undefined`/`null` when absent.
 * @returns The head, or `null` when there is none.
 * @throws {KernelError} `AUDIT_CHAIN_BROKEN` when the head is unreadable.
 */
export function readHead(
  principal: string,
  stored: unknown,
): AuditChainHead | null {
  if (stored === undefined || stored === null) return null;
  const head = asHead(stored);
  if (head === null) {
    throw new KernelError(
      "AUDIT_CHAIN_BROKEN",
      `The audit chain head of '${principal}' is unreadable (not a head record); refusing to treat the chain as empty — run \`astrid audit verify\``,
      { data: { principal } },
    );
  }
  return head;
}

/**
 * The `max_timestamp` of a stored head, or `undefined` when it has none
 * (a head written before the field existed, or edited).
 *
 * @param value A stored head value.
 * @returns The chain's max timestamp.
 */
export function headMaxTimestamp(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const t = (value as Record<string, unknown>).max_timestamp;
  return typeof t === "number" && Number.isSafeInteger(t) ? t : undefined;
}
