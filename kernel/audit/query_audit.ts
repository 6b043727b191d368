/**
 * {@linkcode queryAudit}: find a principal's audit entries by session,
 * capsule, decision and time, through the secondary indexes written with
 * each entry (layout in `_keys.ts`).
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { ListOptions, Store } from "../store/store.ts";
import {
  blockStart,
  ENTRY_NS,
  entryKey,
  headIndexFrom,
  headKey,
  idKey,
  INDEX_NS,
  INDEXED_DECISIONS,
  indexedSeqs,
  readHead,
} from "./_keys.ts";
import { defaultIndexFrom } from "./_chain_state.ts";
import { seqOfEntryId } from "./_entry_id.ts";
import { timeCandidates } from "./_time_range.ts";
import type { AuditDecision, AuditEntry } from "./audit_entry.ts";
import { decodeEntry } from "./_entry_codec.ts";

/** What {@linkcode queryAudit} looks for. Omitted criteria match everything. */
export interface AuditQuery {
  /** The chain. */
  readonly principal: PrincipalId;
  /** Only entries of this session. */
  readonly session?: SessionId;
  /** Only entries of this capsule. */
  readonly capsule?: CapsuleId;
  /** Only entries with this decision. */
  readonly decision?: AuditDecision;
  /** Only entries with `timestamp >= from` (ms). */
  readonly from?: number;
  /** Only entries with `timestamp < to` (ms). */
  readonly to?: number;
  /** At most this many entries (default 1,000). */
  readonly limit?: number;
  /** Newest first instead of oldest first. */
  readonly reverse?: boolean;
  /** Cancels the query (`ABORTED`). */
  readonly signal?: AbortSignal;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Default {@linkcode AuditQuery.limit}. */
const DEFAULT_LIMIT = 1_000;
/** Entries fetched per round of index hits. */
const FETCH_BATCH = 100;

/**
 * Finds entries. The most selective criterion given picks what to walk: the
 * session or capsule index (and the entries of the chain's last, not yet
 * indexed block: at most 63); the decision index for `denied` and `deferred`;
 * for a time range, the seqs between the time marks around it plus the late
 * entries (clock went backwards) in range; else the whole chain (`allowed`
 * and `info` are most of a chain, so walking it costs about what an index
 * would). The other criteria are checked on each entry. Entries are returned
 * as stored: use `verify()` to trust them.
 *
 * @param store The audit store.
 * @param query What to find.
 * @returns Matching entries in seq order (newest first with `reverse`).
 * @throws {KernelError} `AUDIT_CHAIN_BROKEN` when an indexed entry is
 * missing or malformed; `ABORTED`; `STORE_UNAVAILABLE`.
 * @throws {RangeError} When `limit` is not a positive integer.
 *
 * @example Denied entries of one session
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryAudit } from "./query_audit.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import type { PrincipalId, SessionId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const found = await queryAudit(store, {
 *   principal: "alice" as PrincipalId,
 *   session: "6f1c9a3e-0000-4000-8000-000000000001" as SessionId,
 *   decision: "denied",
 * });
 * assert.deepEqual(found, []);
 * ```
 */
export async function queryAudit(
  store: Store,
  query: AuditQuery,
): Promise<AuditEntry[]> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(
      `Cannot query the audit log with limit ${limit}: expected a positive integer`,
    );
  }
  for (const t of [query.from, query.to]) {
    if (t !== undefined && !Number.isSafeInteger(t)) {
      throw new RangeError(
        `Cannot query the audit log from/to ${t}: expected integer milliseconds`,
      );
    }
  }
  const p = query.principal;
  const out: AuditEntry[] = [];
  let pending: number[] = [];
  const take = (seq: number, value: unknown): void => {
    const entry = toEntry(p, seq, value);
    if (out.length < limit && matches(entry, query)) out.push(entry);
  };
  const flush = async (): Promise<void> => {
    const entries = await store.getMany(pending.map((s) => entryKey(p, s)));
    entries.forEach((stored, i) => take(pending[i]!, stored?.value));
    pending = [];
  };
  for await (const [seq, value] of candidates(store, query)) {
    throwIfAborted(query.signal, "an audit query");
    if (value === undefined) pending.push(seq);
    else {
      if (pending.length > 0) await flush(); // keep the candidates' order
      take(seq, value);
    }
    if (pending.length >= FETCH_BATCH) await flush();
    if (out.length >= limit) return out;
  }
  await flush();
  return out;
}

async function* candidates(
  store: Store,
  q: AuditQuery,
): AsyncGenerator<readonly [number, unknown]> {
  const p = q.principal;
  const base: ListOptions = {
    ...(q.reverse === undefined ? {} : { reverse: q.reverse }),
    ...(q.signal === undefined ? {} : { signal: q.signal }),
  };
  const exact = q.session !== undefined
    ? ["session", q.session] as const
    : q.capsule !== undefined
    ? ["capsule", q.capsule] as const
    : q.decision !== undefined && INDEXED_DECISIONS.has(q.decision)
    ? ["decision", q.decision] as const
    : undefined;
  if (exact !== undefined) {
    // The head first: every index key below `tail` was committed with or
    // before it; the entries from `tail` to the head are walked.
    const stored = (await store.get(headKey(p)))?.value;
    const head = readHead(p, stored);
    const last = head === null ? -1 : head.seq;
    const tail = exact[0] === "decision" ? last + 1 : Math.max(
      headIndexFrom(stored) ?? defaultIndexFrom(head),
      blockStart(last + 1),
    );
    // Each seq of the walk is fetched: a missing entry is reported.
    const walk = Array.from(
      { length: Math.max(0, last + 1 - tail) },
      (_, i) => [tail + i, undefined] as const,
    );
    if (q.reverse === true) yield* walk.reverse();
    for await (const e of store.list([INDEX_NS, p, ...exact], base)) {
      const seqs = indexedSeqs(e.key[4] as number, e.value);
      if (q.reverse === true) seqs.reverse();
      for (const seq of seqs) if (seq < tail) yield [seq, undefined];
    }
    if (q.reverse !== true) yield* walk;
    return;
  }
  if (q.from !== undefined || q.to !== undefined) {
    yield* timeCandidates(store, q);
    return;
  }
  for await (const e of store.list([ENTRY_NS, p], base)) {
    yield [e.key[2] as number, e.value];
  }
}

/**
 * Reads one entry by seq or id, as stored (use `verify()` to trust it).
 *
 * @param store The audit store.
 * @param principal The chain.
 * @param at The seq (number) or the entry id (string).
 * @returns The entry, or `null`.
 * @throws {KernelError} `AUDIT_CHAIN_BROKEN` when the stored value is not
 * an entry; `STORE_UNAVAILABLE`.
 *
 * @example A missing entry
 * ```ts
 * import { readAuditEntry } from "./query_audit.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import type { PrincipalId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * console.assert(await readAuditEntry(store, "alice" as PrincipalId, 0) === null);
 * ```
 */
export async function readAuditEntry(
  store: Store,
  principal: PrincipalId,
  at: number | string,
): Promise<AuditEntry | null> {
  let seq = at;
  if (typeof at === "string") {
    if (!UUID.test(at)) return null;
    const carried = seqOfEntryId(at);
    if (carried !== undefined) {
      const stored = await store.get(entryKey(principal, carried));
      if (stored === null) return null;
      const entry = toEntry(principal, carried, stored.value);
      return entry.id === at ? entry : null;
    }
    // An id of a chain written before ids carried their seq.
    const found = (await store.get(idKey(principal, at)))?.value;
    if (typeof found !== "number") return null;
    seq = found;
  }
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) return null;
  const stored = await store.get(entryKey(principal, seq as number));
  return stored === null
    ? null
    : toEntry(principal, seq as number, stored.value);
}

function matches(e: AuditEntry, q: AuditQuery): boolean {
  return (q.session === undefined || e.session === q.session) &&
    (q.capsule === undefined || e.capsule === q.capsule) &&
    (q.decision === undefined || e.decision === q.decision) &&
    (q.from === undefined || e.timestamp >= q.from) &&
    (q.to === undefined || e.timestamp < q.to);
}

function toEntry(principal: string, seq: number, value: unknown): AuditEntry {
  const parsed = value === undefined
    ? { ok: false as const, issue: "it is missing" }
    : decodeEntry(value);
  if (!parsed.ok) {
    throw new KernelError(
      "AUDIT_CHAIN_BROKEN",
      `Cannot read audit entry ${seq} of '${principal}': ${parsed.issue}`,
      { data: { principal, seq } },
    );
  }
  return parsed.value.entry;
}
