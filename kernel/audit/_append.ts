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
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { JsonValue, Store, StoreKey, StoreValue } from "../store/store.ts";
import type { AuditChainHead, AuditEntry, AuditRecord } from "./audit_entry.ts";
import { type ChainState, chainState } from "./_chain_state.ts";
import { commitIndexWrites, entryKey, headKey } from "./_keys.ts";
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

/** What one append needs. */
export interface AppendContext extends SealContext {
  /** The entries to add, in order (none: only bring the chain to `current`). */
  readonly records: readonly AuditRecord[];
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
      const plan = await planAppend(ctx, state);
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
  const plan = await planAppend(ctx, state);
  if (plan.writes.length === 0) return finish(plan, state, null);
  const op = store.atomic().check(headKey(ctx.principal), state.versionstamp);
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
  const state = {
    head: plan.head,
    maxTimestamp: plan.maxTimestamp,
    versionstamp,
  };
  return { rotation, results, state };
}

async function planAppend(
  ctx: AppendContext,
  state: ChainState,
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
  for (const record of ctx.records) {
    if (budget <= 0) {
      slots.push(undefined);
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
    head = headAfter(h, current.keyId);
    budget -= h.bytes.length + 1_024;
  }
  const sealed = await signAll(hashed);
  let max = state.maxTimestamp;
  const writes: [StoreKey, StoreValue][] = [];
  const indexed: { entry: AuditEntry; maxBefore: number | null }[] = [];
  for (const { entry: e, stored } of sealed) {
    writes.push([entryKey(p, e.seq), stored]);
    indexed.push({ entry: e, maxBefore: max });
    max = max === null ? e.timestamp : Math.max(max, e.timestamp);
  }
  writes.push(...commitIndexWrites(indexed));
  if (head !== null && sealed.length > 0) {
    const stored = { ...head, max_timestamp: max } as unknown as JsonValue;
    writes.push([headKey(p), stored]);
  }
  return {
    rotation: rotated ? sealed[0]!.entry : null,
    results: slots.map((s) => typeof s === "number" ? sealed[s]!.entry : s),
    writes,
    head,
    maxTimestamp: max,
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
