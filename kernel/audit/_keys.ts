/**
 * Private: the store layout of the audit chains.
 *
 * - `["audit", principal, seq]` → the entry (bytes, see `_entry_codec.ts`);
 * - `["audit_head", principal]` → {@linkcode AuditChainHead} plus
 *   `max_timestamp` (the largest entry timestamp of the chain so far) and
 *   `index_from` (a multiple of {@linkcode INDEX_BLOCK}: the first seq whose
 *   session and capsule are indexed per block);
 * - `["audit_id", principal, id]` → seq: written only by chains from before
 *   entry ids carried their seq (`_entry_id.ts`); still read for their ids;
 * - `["audit_idx", principal, "session" | "capsule", value, seq]`, one key
 *   per value and *block* of {@linkcode INDEX_BLOCK} seqs (`64k ..
 *   64k+63`), written by the commit that adds the block's last entry: `seq`
 *   is the first entry of the block with that value; the key holds `null`
 *   when it is the only one, else the ascending list of every seq of the
 *   block with that value (`seq` first). Entries of the last, incomplete
 *   block have no keys yet: a query walks them (at most 63 entries). Only
 *   entries from the head's `index_from` on are indexed per block; a chain
 *   written before (no `index_from` in its head) keeps one key per value and
 *   *commit* below it (the same format, with a commit's seqs), and one
 *   `null` key per entry before group commit — all read the same;
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
/** Seqs per block of the session and capsule indexes. */
export const INDEX_BLOCK = 64;

/** What the session and capsule indexes need of an entry. */
export interface IndexRef {
  /** The entry's seq. */
  readonly seq: number;
  /** Its session. */
  readonly session: string | null;
  /** Its capsule. */
  readonly capsule: string | null;
}

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
 * Every index key an entry gets with its own commit (an entry from
 * `indexFrom` on gets its session and capsule keys with its block instead).
 *
 * @param e The entry.
 * @param maxBefore The chain's max timestamp before `e` (`null`: `e` is the
 * first entry).
 * @param indexFrom The chain's `index_from` (default: index per commit).
 * @returns Its index keys.
 */
export function indexKeys(
  e: AuditEntry,
  maxBefore: number | null,
  indexFrom = Infinity,
): StoreKey[] {
  const p = e.principal;
  const keys: StoreKey[] = [];
  if (e.seq < indexFrom) {
    if (e.session !== null) {
      keys.push([INDEX_NS, p, "session", e.session, e.seq]);
    }
    if (e.capsule !== null) {
      keys.push([INDEX_NS, p, "capsule", e.capsule, e.seq]);
    }
  }
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
 * grouped to one key per value — per block for the session and capsule of
 * entries from `indexFrom` on, per commit otherwise (see the module doc) —
 * and the time keys per entry.
 *
 * @param entries The commit's entries in seq order, each with the chain's
 * max timestamp before it.
 * @param indexFrom The chain's `index_from`.
 * @param block The entries of the current block before this commit (from
 * `indexFrom` on, in seq order); only read when the commit ends the block.
 * @returns The keys and their values, and the block's entries after the
 * commit (those of its new incomplete block).
 */
export function commitIndexWrites(
  entries: readonly {
    readonly entry: AuditEntry;
    readonly maxBefore: number | null;
  }[],
  indexFrom = Infinity,
  block: readonly IndexRef[] = [],
): { writes: [StoreKey, number[] | null][]; block: IndexRef[] } {
  const grouped = new Map<string, [StoreKey, number[]]>();
  const out: [StoreKey, number[] | null][] = [];
  const group = (key: StoreKey, seq: number) => {
    const id = `${String(key[2])}\u0000${String(key[3])}`;
    const seen = grouped.get(id);
    if (seen === undefined) grouped.set(id, [key, [seq]]);
    else seen[1].push(seq);
  };
  let refs = [...block];
  for (const { entry, maxBefore } of entries) {
    for (const key of indexKeys(entry, maxBefore, indexFrom)) {
      const kind = key[2];
      if (kind === LATE_KIND || kind === MARK_KIND) out.push([key, null]);
      else group(key, entry.seq);
    }
    if (entry.seq < indexFrom) continue;
    refs.push(indexRef(entry));
    if (entry.seq % INDEX_BLOCK !== INDEX_BLOCK - 1) continue;
    // The block is complete: one key per value for its entries.
    const p = entry.principal;
    const blocked = new Map<string, [StoreKey, number[]]>();
    const add = (kind: IndexKind, value: string | null, seq: number) => {
      if (value === null) return;
      const id = `${kind}\u0000${value}`;
      const seen = blocked.get(id);
      if (seen === undefined) {
        blocked.set(id, [[INDEX_NS, p, kind, value, seq], [seq]]);
      } else seen[1].push(seq);
    };
    for (const r of refs) {
      add("session", r.session, r.seq);
      add("capsule", r.capsule, r.seq);
    }
    for (const [key, seqs] of blocked.values()) {
      out.push([key, seqs.length === 1 ? null : seqs]);
    }
    refs = [];
  }
  for (const [key, seqs] of grouped.values()) {
    out.push([key, seqs.length === 1 ? null : seqs]);
  }
  return { writes: out, block: refs };
}

/**
 * The part of an entry the block indexes keep.
 *
 * @param e The entry.
 * @returns Its ref.
 */
export function indexRef(e: IndexRef): IndexRef {
  return { seq: e.seq, session: e.session, capsule: e.capsule };
}

/**
 * The first seq of the block `seq` is in.
 *
 * @param seq A seq.
 * @returns The block's first seq.
 */
export function blockStart(seq: number): number {
  return seq - seq % INDEX_BLOCK;
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
 * The `index_from` of a stored head, or `undefined` when it has none (a
 * head written before the field existed, or edited).
 *
 * @param value A stored head value.
 * @returns The first seq indexed per block.
 */
export function headIndexFrom(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const f = (value as Record<string, unknown>).index_from;
  return typeof f === "number" && Number.isSafeInteger(f) && f >= 0 &&
      f % INDEX_BLOCK === 0
    ? f
    : undefined;
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
