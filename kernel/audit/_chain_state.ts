/**
 * Private: what an `AuditLog` remembers about a chain between appends — its
 * head, its max timestamp and the versionstamp of its head key — so that an
 * append can commit without first reading the head.
 *
 * Remembering is only an optimisation. Every commit still checks the head
 * key's versionstamp, so when anyone else moved the head (another `AuditLog`
 * on the same store, a tool, an attacker) the commit fails, the state is
 * dropped, and the append reads the head again. A remembered state can be
 * stale, never wrong in a way that lands: the store rejects a commit made on
 * a stale head.
 *
 * @module
 */
import type { Store, StoreEntry, Versionstamp } from "../store/store.ts";
import type { AuditChainHead } from "./audit_entry.ts";
import { decodeEntry } from "./_entry_codec.ts";
import {
  ENTRY_NS,
  entryKey,
  headIndexFrom,
  headMaxTimestamp,
  INDEX_BLOCK,
  INDEX_NS,
  type IndexRef,
  indexRef,
  MARK_KIND,
  readHead,
} from "./_keys.ts";

/** A chain as of its last known head. */
export interface ChainState {
  /** The head, or `null` for an empty chain. */
  readonly head: AuditChainHead | null;
  /** The largest entry timestamp so far, or `null` for an empty chain. */
  readonly maxTimestamp: number | null;
  /** Versionstamp of the head key (`null`: the key does not exist). */
  readonly versionstamp: Versionstamp | null;
  /** The first seq whose session and capsule are indexed per block. */
  readonly indexFrom: number;
  /**
   * The entries of the current (incomplete) block from `indexFrom` on, in
   * seq order; `undefined` when not known (read from the store when the
   * block completes).
   */
  readonly block: readonly IndexRef[] | undefined;
}

/**
 * The `index_from` of a chain whose head does not carry one: the next
 * block boundary (the entries before it keep their per-commit keys), or 0
 * for an empty chain.
 *
 * @param head The head, or `null`.
 * @returns The first seq to index per block.
 */
export function defaultIndexFrom(head: AuditChainHead | null): number {
  if (head === null) return 0;
  const next = head.seq + 1;
  return Math.ceil(next / INDEX_BLOCK) * INDEX_BLOCK;
}

/**
 * The state of a chain from its stored head key.
 *
 * A head without `max_timestamp` (written before the field existed, or
 * edited) gets it recovered from the last time mark and the entries after
 * it — the whole chain when it has no marks yet.
 *
 * @param store The audit store.
 * @param principal The chain.
 * @param stored The head key as read (or `null`).
 * @returns The state.
 * @throws {KernelError} `STORE_UNAVAILABLE`; `AUDIT_CHAIN_BROKEN` when the
 *   head key holds something that is not a head (fail closed).
 */
export async function chainState(
  store: Store,
  principal: string,
  stored: StoreEntry | null,
): Promise<ChainState> {
  const head = readHead(principal, stored?.value);
  const versionstamp = stored?.versionstamp ?? null;
  const indexFrom = headIndexFrom(stored?.value) ?? defaultIndexFrom(head);
  if (head === null) {
    return { head, maxTimestamp: null, versionstamp, indexFrom, block: [] };
  }
  const maxTimestamp = headMaxTimestamp(stored?.value) ??
    await recoverMaxTimestamp(store, principal);
  return { head, maxTimestamp, versionstamp, indexFrom, block: undefined };
}

/**
 * Reads the index refs of the entries `from ..< to` (the earlier entries of
 * a block that a commit completes, when the log does not remember them).
 * Entries below the head never change; one that does not decode is left
 * out (a query cannot return it; `verify()` reports it).
 *
 * @param store The audit store.
 * @param principal The chain.
 * @param from First seq.
 * @param to Seq after the last.
 * @returns The refs, in seq order.
 */
export async function readIndexRefs(
  store: Store,
  principal: string,
  from: number,
  to: number,
): Promise<IndexRef[]> {
  const out: IndexRef[] = [];
  if (from >= to) return out;
  const entries = store.list([ENTRY_NS, principal], {
    start: entryKey(principal, from),
    end: entryKey(principal, to),
  });
  for await (const e of entries) {
    const decoded = decodeEntry(e.value);
    if (decoded.ok) out.push(indexRef(decoded.value.entry)); // silent-ok: see the doc.
  }
  return out;
}

/**
 * Recomputes a chain's max timestamp from the store. Entries that do not
 * decode are skipped: they cannot be returned by a query anyway (reading
 * them fails with `AUDIT_CHAIN_BROKEN`) and `verify()` reports them.
 */
async function recoverMaxTimestamp(
  store: Store,
  principal: string,
): Promise<number | null> {
  let max: number | null = null;
  let from = 0;
  const marks = store.list([INDEX_NS, principal, MARK_KIND], {
    reverse: true,
    limit: 1,
  });
  for await (const m of marks) {
    const [, , , t, seq] = m.key;
    if (typeof t === "number" && typeof seq === "number") {
      max = t;
      from = seq + 1;
    }
  }
  const entries = store.list([ENTRY_NS, principal], {
    start: entryKey(principal, from),
  });
  for await (const e of entries) {
    const decoded = decodeEntry(e.value);
    if (!decoded.ok) continue; // silent-ok: see the function doc.
    const t = decoded.value.entry.timestamp;
    if (max === null || t > max) max = t;
  }
  return max;
}
