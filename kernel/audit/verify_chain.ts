/**
 * {@linkcode verifyChain}: walk one principal's audit chain in the store and
 * name the first bad entry.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import type { PrincipalId } from "../core/ids.ts";
import { type Blake3Hasher, createBlake3Hasher } from "../crypto/blake3.ts";
import { keyId } from "../crypto/key_id.ts";
import type { Store } from "../store/store.ts";
import { ChainChecker } from "./_chain_checker.ts";
import { asHead, ENTRY_NS, entryKey, headKey } from "./_keys.ts";
import { SignatureWindow } from "./_signature_window.ts";
import { AuditVerifyPool } from "./verify_pool.ts";
import type { AuditChainHead } from "./audit_entry.ts";
import type { AuditIssue, AuditVerifyResult } from "./verify_result.ts";

/** Options of {@linkcode verifyChain}. */
export interface VerifyChainOptions {
  /**
   * Keys trusted to sign the first entry (and any entry, once current): a
   * map from key id to public key, or a list of public keys. Other keys are
   * trusted only when a valid rotation entry of the chain announces them.
   */
  readonly pinnedKeys: ReadonlyMap<string, Uint8Array> | readonly Uint8Array[];
  /** Cancels the walk (`ABORTED`). */
  readonly signal?: AbortSignal;
  /** Called with the number of entries checked so far, every 1,000 entries. */
  readonly onProgress?: (entriesChecked: number) => void;
  /** A BLAKE3 hasher to reuse (one is created otherwise). */
  readonly hasher?: Blake3Hasher;
  /**
   * Where signatures are checked: a pool of worker threads to use, `"off"`
   * for this thread only, or `"auto"` (default): a temporary pool for chains
   * of {@linkcode AUTO_POOL_MIN_ENTRIES} entries or more, this thread below.
   */
  readonly pool?: AuditVerifyPool | "auto" | "off";
}

/**
 * Chain length from which `pool: "auto"` starts worker threads (starting
 * them costs ~10 ms, about 300 signature checks).
 *
 * @example Decide up front
 * ```ts
 * import { AUTO_POOL_MIN_ENTRIES } from "./verify_chain.ts";
 * console.assert(AUTO_POOL_MIN_ENTRIES > 1_000);
 * ```
 */
export const AUTO_POOL_MIN_ENTRIES = 4_096;

const PROGRESS_EVERY = 1_000;

/**
 * Verifies a chain: every entry's shape, hash, position, link to the entry
 * before, signing key and signature (one per group commit: the signature of
 * a batch's last entry covers the unsigned entries before it, and a chain
 * may not end on an unsigned entry); then that the head describes the last
 * entry (so a deleted tail is caught) and that nothing lies beyond it.
 * Signatures are checked many at a time, but the result always names the
 * first bad entry in chain order.
 *
 * @param store The audit store.
 * @param principal The chain.
 * @param options Pinned keys, cancellation, progress.
 * @returns `{valid, entriesVerified, firstBad?}`.
 * @throws {KernelError} `ABORTED`; `STORE_UNAVAILABLE`; `KEY_INVALID` for a
 * pinned key that is not 32 bytes.
 * @throws {TypeError} When a pinned map entry's id is not its key's id.
 *
 * @example An empty chain is valid
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyChain } from "./verify_chain.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import type { PrincipalId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const result = await verifyChain(store, "nobody" as PrincipalId, { pinnedKeys: [] });
 * assert.deepEqual(result, { valid: true, entriesVerified: 0 });
 * ```
 */
export async function verifyChain(
  store: Store,
  principal: PrincipalId,
  options: VerifyChainOptions,
): Promise<AuditVerifyResult> {
  const pinned = pinnedMap(options.pinnedKeys);
  const hasher = options.hasher ?? await createBlake3Hasher();
  const checker = new ChainChecker(principal, { pinned, hasher });
  const stored = (await store.get(headKey(principal)))?.value;
  const head = asHead(stored);
  if (head === null && stored !== undefined && stored !== null) {
    return {
      valid: false,
      entriesVerified: 0,
      firstBad: {
        seq: 0,
        id: null,
        code: "HEAD_MISMATCH",
        reason: "The chain head is unreadable (it holds no head record)",
      },
    };
  }
  const wanted = options.pool ?? "auto";
  const own = wanted === "auto" && head !== null &&
      head.seq + 1 >= AUTO_POOL_MIN_ENTRIES
    ? new AuditVerifyPool()
    : undefined;
  const pool = own ?? (typeof wanted === "string" ? undefined : wanted);
  try {
    return await walk(store, principal, { ...options, checker, head, pool });
  } finally {
    own?.close();
  }
}

async function walk(
  store: Store,
  principal: PrincipalId,
  options: Omit<VerifyChainOptions, "pool"> & {
    readonly checker: ChainChecker;
    readonly head: AuditChainHead | null;
    readonly pool: AuditVerifyPool | undefined;
  },
): Promise<AuditVerifyResult> {
  const { signal, onProgress, checker, head, pool } = options;
  const window = new SignatureWindow(
    pool
      ? { batchSize: 256, inFlight: 2 * pool.size + 1, pool }
      : { batchSize: 64, inFlight: 4 },
  );
  const end = head === null ? {} : { end: entryKey(principal, head.seq + 1) };
  const it = store.list([ENTRY_NS, principal], {
    ...end,
    ...(signal ? { signal } : {}),
  });
  let seen = 0;
  try {
    for await (const stored of it) {
      const outcome = checker.check(stored.key[2], stored.value);
      if (outcome.issue !== undefined) {
        return failed(await window.drain() ?? outcome.issue, window);
      }
      const settling = outcome.job === undefined
        ? undefined
        : window.push(outcome.job);
      const issue = settling === undefined ? undefined : await settling;
      if (issue !== undefined) return failed(issue, window);
      if (onProgress !== undefined && ++seen % PROGRESS_EVERY === 0) {
        onProgress(seen);
      }
    }
    const issue = await window.drain() ?? checker.unsealed();
    if (issue !== undefined) return failed(issue, window);
  } finally {
    // On an early exit (abort, store error) no check may be left dangling.
    await window.abandon();
  }
  throwIfAborted(signal, "verifying an audit chain");
  const tail = await tailIssue(store, principal, checker, head);
  if (tail !== undefined) {
    return { valid: false, entriesVerified: window.verified, firstBad: tail };
  }
  onProgress?.(window.verified);
  return { valid: true, entriesVerified: window.verified };
}

async function tailIssue(
  store: Store,
  principal: PrincipalId,
  checker: ChainChecker,
  head: AuditChainHead | null,
): Promise<AuditIssue | undefined> {
  const n = checker.nextSeq;
  const last = { seq: n - 1, id: checker.lastId };
  if (head === null) {
    if (n === 0 || await movedOn(store, principal, n - 1)) return undefined;
    return {
      ...last,
      code: "HEAD_MISSING",
      reason: `The chain has ${n} entries but no head (the head was deleted)`,
    };
  }
  if (head.seq >= n) {
    const where = n === 0 ? "before entry 0" : `at entry ${n - 1}`;
    return {
      seq: n,
      id: head.seq === n ? head.id : null,
      code: "TRUNCATED",
      reason:
        `The head names entry ${head.seq} but the chain ends ${where} (the tail was deleted)`,
    };
  }
  if (
    head.hash !== checker.lastHash || head.id !== checker.lastId ||
    head.key_id !== checker.signer
  ) {
    return {
      ...last,
      code: "HEAD_MISMATCH",
      reason: "The chain head does not describe the last entry",
    };
  }
  const beyond = await firstBeyond(store, principal, n);
  if (beyond === undefined || await movedOn(store, principal, beyond)) {
    return undefined;
  }
  return {
    seq: n,
    id: null,
    code: "HEAD_MISMATCH",
    reason:
      `Entry ${beyond} lies beyond the head (written without moving the head)`,
  };
}

/** Whether the head has reached `seq` since the walk began (a concurrent append). */
async function movedOn(
  store: Store,
  principal: PrincipalId,
  seq: number,
): Promise<boolean> {
  const now = asHead((await store.get(headKey(principal)))?.value);
  return now !== null && now.seq >= seq;
}

async function firstBeyond(
  store: Store,
  principal: PrincipalId,
  from: number,
): Promise<number | undefined> {
  const it = store.list([ENTRY_NS, principal], {
    start: entryKey(principal, from),
    limit: 1,
  });
  for await (const e of it) {
    return typeof e.key[2] === "number" ? e.key[2] : from;
  }
  return undefined;
}

function failed(issue: AuditIssue, window: SignatureWindow): AuditVerifyResult {
  return {
    valid: false,
    entriesVerified: Math.min(issue.seq, window.verified),
    firstBad: issue,
  };
}

function pinnedMap(
  keys: ReadonlyMap<string, Uint8Array> | readonly Uint8Array[],
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (Array.isArray(keys)) {
    for (const k of keys as readonly Uint8Array[]) out.set(keyId(k), k.slice());
    return out;
  }
  for (const [id, k] of keys as ReadonlyMap<string, Uint8Array>) {
    if (keyId(k) !== id) {
      throw new TypeError(
        `Cannot pin public key under id ${id}: its key id is ${keyId(k)}`,
      );
    }
    out.set(id, k.slice());
  }
  return out;
}
