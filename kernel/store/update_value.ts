/**
 * {@linkcode updateValue}: read-modify-write of one key, retried on conflict.
 *
 * @module
 */
import type { Store, StoreEntry, StoreKey, StoreValue } from "./store.ts";

/** Options of {@linkcode updateValue}. */
export interface UpdateValueOptions {
  /**
   * Computes the new value from the current one (`null` when the key is
   * absent). May run several times, so it must be free of side effects;
   * throwing aborts the update without writing (e.g. a budget check).
   */
  readonly apply: (current: StoreValue | null) => StoreValue;
  /** Attempts before `STORE_CONFLICT` (default 100). */
  readonly maxAttempts?: number;
  /** Cancels between attempts. */
  readonly signal?: AbortSignal;
}

/**
 * Atomically replaces the value at `key` by `apply(current)`: if another
 * writer changes the key between the read and the write, the update runs
 * again on the new value, so no increment is ever lost.
 *
 * @param store The store.
 * @param key The key to update.
 * @param options The update function, attempts and cancellation.
 * @returns The key, the value `apply` returned (stored as canonical JSON) and the
 * commit's versionstamp.
 * @throws {KernelError} `STORE_CONFLICT` when every attempt conflicted;
 * `ABORTED`; `STORE_KEY_INVALID`, `STORE_VALUE_TOO_LARGE`,
 * `STORE_UNAVAILABLE`; anything `apply` throws.
 *
 * @example Concurrent increments are not lost
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./kv_store.ts";
 * import { updateValue } from "./update_value.ts";
 * import { openKv } from "../host/open_kv.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const inc = (v: unknown) => (typeof v === "number" ? v : 0) + 1;
 * await Promise.all([1, 2, 3].map(() => updateValue(store, ["stats", "hits"], { apply: inc })));
 * assert.equal((await store.get(["stats", "hits"]))?.value, 3);
 * ```
 */
export async function updateValue(
  store: Store,
  key: StoreKey,
  options: UpdateValueOptions,
): Promise<StoreEntry> {
  const result = await store.transact(async (tx) => {
    const current = await tx.get(key);
    const value = options.apply(current === null ? null : current.value);
    tx.set(key, value);
    return value;
  }, {
    ...(options.maxAttempts === undefined
      ? {}
      : { maxAttempts: options.maxAttempts }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { key, value: result.value, versionstamp: result.versionstamp };
}
