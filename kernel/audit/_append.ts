/**
 * Private: appends to a chain as one atomic store commit that
 * compare-and-sets the chain head: the commit checks that the head key still
 * has the versionstamp the entries were built on, so two appends can never
 * fork a chain. Several records may share one commit (group commit); a record
 * that cannot be written (unserialisable, too large) is refused on its own.
 *
 * Fast path: with a remembered {@linkcode ChainState} the commit is built on
 * it without reading the store. When the check fails (someone else moved the
 * head) or nothing is remembered, the append runs as a store transaction
 * that reads the head, so conflicting retries queue in the store's lane.
 *
 * Conditions: a record may carry store keys whose versionstamps must still
 * hold when its entry is committed (what allowed the decision it records).
 * The fast path checks them all in its commit; when that commit fails, the
 * transaction reads them, refuses the records whose conditions no longer
 * hold (`STORE_CONFLICT`) and commits the rest — those reads are checks of
 * the transaction's commit, so a condition is true at the moment the entry
 * lands.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { JsonValue, Store, StoreKey, StoreValue } from "../store/store.ts";
import type { AuditChainHead, AuditEntry, AuditRecord } from "./audit_entry.ts";
import type { AuditCondition } from "./audit_log_options.ts";
import { type ChainState, chainState, readIndexRefs } from "./_chain_state.ts";
import {
  blockStart,
  commitIndexWrites,
  entryKey,
  headKey,
  INDEX_BLOCK,
  type IndexRef,
} from "./_keys.ts";
import {
  type Hashed,
  hashRecord,
  hashRotation,
  headAfter,
  type SealContext,
  signAll,
} from "./_seal.ts";

/** Max entries one commit may carry in total bytes (Deno KV allows ~800 KB). */
const BATCH_BYTES = 512 * 1024;
/** Attempts of the transactional path before giving up. */
const MAX_ATTEMPTS = 1_000;
/** Conditions one commit checks at most (Deno KV allows 100 checks). */
const MAX_CONDITIONS = 64;
/** Keys per `getMany` (Deno KV reads at most 10 at once). */
const READ_BATCH = 10;

/** What one append needs. */
export interface AppendContext extends SealContext {
  /** The entries to add, in order (none: only bring the chain to `current`). */
  readonly records: readonly AuditRecord[];
  /** Per record (same index), the conditions its commit must check. */
  readonly conditions?: readonly (readonly AuditCondition[] | undefined)[];
  /** The key that signs new entries (read once per attempt). */
  readonly current: () => KeyPair;
  /** Keys this runtime held before, by key id (to sign a rotation entry). */
  readonly signers: ReadonlyMap<string, KeyPair>;
  /** The chain as remembered from the last append, if any. */
  readonly state: ChainState | undefined;
}

/** What {@linkcode appendEntries} wrote. */
export interface AppendResult {
  /** The rotation entry written first, when the chain was on an older key. */
  readonly rotation: AuditEntry | null;
  /**
   * Per record, in order: its entry; the error that kept it out (the others
   * were still written); or `undefined` when the commit was full (retry it).
   */
  readonly results: readonly (AuditEntry | KernelError | undefined)[];
  /** The chain after the commit, to remember for the next append. */
  readonly state: ChainState;
}

/** The entries of one attempt and the store writes that add them. */
interface Plan {
  readonly rotation: AuditEntry | null;
  readonly results: (AuditEntry | KernelError | undefined)[];
  readonly writes: [StoreKey, StoreValue][];
  readonly head: AuditChainHead | null;
  readonly maxTimestamp: number | null;
  /** The entries of the chain's incomplete block after the commit. */
  readonly block: readonly IndexRef[] | undefined;
  /** The conditions of the records this plan writes. */
  readonly conditions: readonly AuditCondition[];
}

/**
 * Appends as one checked commit: on the remembered state when there is one,
 * else (or when the head moved) as a store transaction retried on conflicts.
 *
 * @param store The audit store.
 * @param ctx The append.
 * @returns The entries written, the records refused and the new state.
 * @throws {KernelError} `AUDIT_FAILED` when nothing could be written.
 */
export async function appendEntries(
  store: Store,
  ctx: AppendContext,
): Promise<AppendResult> {
  try {
    if (ctx.state !== undefined) {
      const done = await commitOn(store, ctx, ctx.state);
      if (done !== undefined) return done;
    }
    const p = ctx.principal;
    const { value, versionstamp } = await store.transact(async (tx) => {
      const state = await chainState(store, p, await tx.get(headKey(p)));
      const stale = await staleRecords(ctx, (keys) => tx.getMany(keys));
      const plan = await planAppend(store, ctx, state, stale);
      for (const [key, v] of plan.writes) tx.set(key, v);
      return { plan, state };
    }, { maxAttempts: MAX_ATTEMPTS });
    return finish(value.plan, value.state, versionstamp);
  } catch (err) {
    if (KernelError.is(err, "AUDIT_FAILED")) throw err;
    throw failed(ctx.principal, err);
  }
}

/** Commits on a remembered state; `undefined` when the head had moved. */
async function commitOn(
  store: Store,
  ctx: AppendContext,
  state: ChainState,
): Promise<AppendResult | undefined> {
  const plan = await planAppend(store, ctx, state);
  if (plan.writes.length === 0) return finish(plan, state, null);
  const op = store.atomic().check(headKey(ctx.principal), state.versionstamp);
  for (const c of plan.conditions) op.check(c.key, c.versionstamp);
  for (const [key, v] of plan.writes) op.set(key, v);
  const result = await op.commit();
  return result.ok ? finish(plan, state, result.versionstamp) : undefined;
}

/** The result of a committed plan; `versionstamp` `null`: nothing written. */
function finish(
  plan: Plan,
  before: ChainState,
  versionstamp: string | null,
): AppendResult {
  const { rotation, results } = plan;
  if (versionstamp === null || plan.writes.length === 0) {
    return { rotation, results, state: before };
  }
  const state: ChainState = {
    head: plan.head,
    maxTimestamp: plan.maxTimestamp,
    versionstamp,
    indexFrom: before.indexFrom,
    block: plan.block,
  };
  return { rotation, results, state };
}

/**
 * The indexes of the records whose conditions no longer hold, read through
 * `read` (a transaction's reads: checked again at its commit).
 */
async function staleRecords(
  ctx: AppendContext,
  read: (
    keys: StoreKey[],
  ) => Promise<readonly ({ versionstamp: string } | null)[]>,
): Promise<ReadonlySet<number>> {
  const stale = new Set<number>();
  const all: { i: number; c: AuditCondition }[] = [];
  ctx.conditions?.forEach((cs, i) => cs?.forEach((c) => all.push({ i, c })));
  for (let k = 0; k < all.length; k += READ_BATCH) {
    const batch = all.slice(k, k + READ_BATCH);
    const entries = await read(batch.map((b) => b.c.key));
    batch.forEach(({ i, c }, j) => {
      if ((entries[j]?.versionstamp ?? null) !== c.versionstamp) stale.add(i);
    });
  }
  return stale;
}

function conflict(principal: string): KernelError {
  return new KernelError(
    "STORE_CONFLICT",
    `Cannot append to the audit chain of '${principal}' as what allowed the decision changed in the store before its entry was committed`,
    { data: { principal } },
  );
}

async function planAppend(
  store: Store,
  ctx: AppendContext,
  state: ChainState,
  stale: ReadonlySet<number> = new Set(),
): Promise<Plan> {
  const p = ctx.principal;
  const current = ctx.current();
  let head = state.head;
  const hashed: Hashed[] = [];
  let rotated = false;
  if (head !== null && head.key_id !== current.keyId) {
    const old = ctx.signers.get(head.key_id);
    if (old === undefined) {
      throw new KernelError(
        "AUDIT_FAILED",
        `Cannot append to the audit chain of '${p}' as its next entry must be signed by key ${head.key_id}, which this runtime does not hold`,
        { data: { principal: p, keyId: head.key_id } },
      );
    }
    const h = hashRotation(ctx, head, old, current);
    hashed.push(h);
    rotated = true;
    head = headAfter(h, current.keyId);
  }
  // Per record: the index of its entry in `hashed`, an error, or undefined.
  const slots: (number | KernelError | undefined)[] = [];
  let budget = BATCH_BYTES;
  const conditions: AuditCondition[] = [];
  for (const [i, record] of ctx.records.entries()) {
    const own = ctx.conditions?.[i] ?? [];
    if (own.length > MAX_CONDITIONS) {
      slots.push(
        failed(p, `it carries more than ${MAX_CONDITIONS} conditions`),
      );
      continue;
    }
    if (conditions.length + own.length > MAX_CONDITIONS) budget = 0;
    if (budget <= 0) {
      slots.push(undefined);
      continue;
    }
    if (stale.has(i)) {
      slots.push(conflict(p));
      continue;
    }
    let h: Hashed;
    try {
      h = hashRecord(ctx, head, current, record);
    } catch (err) {
      if (
        !KernelError.is(err, "CANONICAL_JSON_UNSUPPORTED") &&
        !KernelError.is(err, "AUDIT_FAILED")
      ) throw err;
      slots.push(failed(p, err));
      continue;
    }
    slots.push(hashed.length);
    hashed.push(h);
    conditions.push(...own);
    head = headAfter(h, current.keyId);
    budget -= h.bytes.length + 1_024;
  }
  const sealed = signAll(hashed);
  let max = state.maxTimestamp;
  const writes: [StoreKey, StoreValue][] = [];
  const indexed: { entry: AuditEntry; maxBefore: number | null }[] = [];
  for (const { entry: e, stored } of sealed) {
    writes.push([entryKey(p, e.seq), stored]);
    indexed.push({ entry: e, maxBefore: max });
    max = max === null ? e.timestamp : Math.max(max, e.timestamp);
  }
  const indexFrom = state.indexFrom;
  let block = state.block;
  const ends = sealed.some(({ entry: e }) =>
    e.seq >= indexFrom && e.seq % INDEX_BLOCK === INDEX_BLOCK - 1
  );
  if (block === undefined && ends) {
    // A block ends here and the log does not remember its earlier entries.
    const first = sealed[0]!.entry.seq;
    const from = Math.max(indexFrom, blockStart(first));
    block = await readIndexRefs(store, p, from, first);
  }
  const index = commitIndexWrites(indexed, indexFrom, block ?? []);
  writes.push(...index.writes);
  if (head !== null && sealed.length > 0) {
    const stored = {
      ...head,
      max_timestamp: max,
      index_from: indexFrom,
    } as unknown as JsonValue;
    writes.push([headKey(p), stored]);
  }
  return {
    rotation: rotated ? sealed[0]!.entry : null,
    results: slots.map((s) => typeof s === "number" ? sealed[s]!.entry : s),
    writes,
    head,
    maxTimestamp: max,
    block: block === undefined && !ends ? undefined : index.block,
    conditions,
  };
}

function failed(principal: string, err: unknown): KernelError {
  const why = err instanceof Error ? err.message : String(err);
  return new KernelError(
    "AUDIT_FAILED",
    `Cannot append to the audit chain of '${principal}': ${why}`,
    { data: { principal }, cause: err },
  );
}
