/**
 * Private: the seqs a time-range query has to look at, from the time marks
 * and the index of late entries (layout in `_keys.ts`).
 *
 * Let `max(s)` be the largest timestamp among entries `0..s`; it never
 * decreases with `s`, and each mark stores it for its seq. For a range
 * `[from, to)`:
 *
 * - the last mark with `max < from`, at seq `lo`, proves every entry up to
 *   `lo` is too early;
 * - the first mark with `max >= to`, at seq `hi`, proves every later entry
 *   in range is late (its timestamp is below the max before it), so it is in
 *   the late index.
 *
 * So the candidates are the entries `lo+1 ..= hi`, walked in seq order, plus
 * the late entries in `[from, to)` after `hi`. Marks come every `MARK_EVERY`
 * seqs, so the walk covers the entries in range plus at most that many on
 * each side. Chains written before marks existed have no marks (the walk
 * covers the whole chain) and every entry in the late index (so the result
 * stays exact).
 *
 * @module
 */
import type { ListOptions, Store, StoreKey } from "../store/store.ts";
import { ENTRY_NS, entryKey, INDEX_NS, LATE_KIND, MARK_KIND } from "./_keys.ts";

/** A time range query. */
export interface TimeRange {
  /** The chain. */
  readonly principal: string;
  /** Inclusive lower bound (ms). */
  readonly from?: number | undefined;
  /** Exclusive upper bound (ms). */
  readonly to?: number | undefined;
  /** Newest first. */
  readonly reverse?: boolean | undefined;
  /** Cancels the listing. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Candidates for a time range, in seq order (or reversed): `[seq, value]`
 * for walked entries, `[seq, undefined]` for late entries still to fetch.
 * The caller checks each entry's timestamp.
 *
 * @param store The audit store.
 * @param q The range.
 * @returns The candidates.
 * @throws {KernelError} While iterating: `ABORTED`, `STORE_UNAVAILABLE`.
 */
export async function* timeCandidates(
  store: Store,
  q: TimeRange,
): AsyncGenerator<readonly [number, unknown]> {
  const p = q.principal;
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) return;
  const signal = q.signal === undefined ? {} : { signal: q.signal };
  const marks: StoreKey = [INDEX_NS, p, MARK_KIND];
  const lo = q.from === undefined
    ? -1
    : await firstSeq(store, marks, { end: [...marks, q.from], reverse: true });
  const hi = q.to === undefined
    ? undefined
    : await firstSeq(store, marks, { start: [...marks, q.to] });
  const bounded = hi !== undefined && hi !== -1;
  const late = bounded ? await lateAfter(store, q, hi) : [];
  const walk: ListOptions = {
    ...signal,
    start: entryKey(p, lo + 1),
    ...(bounded ? { end: entryKey(p, hi + 1) } : {}),
    ...(q.reverse ? { reverse: true } : {}),
  };
  if (q.reverse) {
    for (const seq of late.toReversed()) {
      yield [seq, undefined];
    }
  }
  // Marks edited out of order could give hi <= lo: nothing to walk then.
  if (!bounded || hi > lo) {
    for await (const e of store.list([ENTRY_NS, p], walk)) {
      yield [e.key[2] as number, e.value];
    }
  }
  if (!q.reverse) { for (const seq of late) yield [seq, undefined]; }
}

/** The seq of the first mark listed, or -1 when there is none. */
async function firstSeq(
  store: Store,
  prefix: StoreKey,
  options: ListOptions,
): Promise<number> {
  for await (const m of store.list(prefix, { ...options, limit: 1 })) {
    const seq = m.key[4];
    if (typeof seq === "number" && seq >= 0) return seq;
  }
  return -1;
}

/** Seqs after `hi` of late entries in `[from, to)`, ascending. */
async function lateAfter(
  store: Store,
  q: TimeRange,
  hi: number,
): Promise<number[]> {
  const prefix: StoreKey = [INDEX_NS, q.principal, LATE_KIND];
  const out: number[] = [];
  const it = store.list(prefix, {
    ...(q.from === undefined ? {} : { start: [...prefix, q.from] }),
    ...(q.to === undefined ? {} : { end: [...prefix, q.to] }),
    ...(q.signal === undefined ? {} : { signal: q.signal }),
  });
  for await (const e of it) {
    const seq = e.key[4];
    if (typeof seq === "number" && seq > hi) out.push(seq);
  }
  return out.sort((a, b) => a - b);
}
