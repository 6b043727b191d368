/**
 * Private: optimistic transactions over any {@linkcode Store}, used by the
 * backends' `transact()`.
 *
 * Each attempt runs the function against a fresh {@linkcode Transaction};
 * the commit checks every key read against the versionstamp seen and applies
 * the buffered writes, all or nothing. The first attempt runs freely; after a
 * conflict the retries queue in the store's {@linkcode SerialLane}, so losers
 * retry one at a time rather than colliding again.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { SerialLane } from "./_serial_lane.ts";
import type {
  Store,
  StoreEntry,
  StoreKey,
  StoreValue,
  Transaction,
  TransactOptions,
  TransactResult,
  Versionstamp,
} from "./store.ts";
import { formatKey, keyId, validateKey } from "./store_key.ts";

/** Default number of attempts before `STORE_CONFLICT`. */
export const DEFAULT_MAX_ATTEMPTS = 100;

type Write = { readonly key: StoreKey; readonly value: StoreValue } | {
  readonly key: StoreKey;
  readonly value?: undefined;
  readonly deleted: true;
};

/**
 * Runs `fn` as an optimistic transaction on `store`.
 *
 * @param store The store to read and commit through.
 * @param fn The transaction function.
 * @param options Attempts, cancellation and the store's retry lane.
 * @returns The function's value and the commit's versionstamp.
 * @throws {KernelError} `STORE_CONFLICT` after `maxAttempts` conflicts;
 * `ABORTED`; anything `fn` or the store throws.
 */
export async function runTransaction<T>(
  store: Store,
  fn: (tx: Transaction) => T | Promise<T>,
  options: TransactOptions & { readonly lane: SerialLane },
): Promise<TransactResult<T>> {
  const max = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(
      `Cannot run a transaction with maxAttempts ${max}: expected a positive integer`,
    );
  }
  const { signal } = options;
  const first = await attemptOnce(store, fn, 1, signal);
  if (first) return first;
  if (max === 1) throw conflict(1);
  return await options.lane.run(async () => {
    for (let attempt = 2; attempt <= max; attempt++) {
      const done = await attemptOnce(store, fn, attempt, signal);
      if (done) return done;
    }
    throw conflict(max);
  }, signal);
}

async function attemptOnce<T>(
  store: Store,
  fn: (tx: Transaction) => T | Promise<T>,
  attempt: number,
  signal: AbortSignal | undefined,
): Promise<TransactResult<T> | undefined> {
  throwIfAborted(signal, "a store transaction");
  const tx = new OptimisticTransaction(store, attempt);
  let value: T;
  try {
    value = await fn(tx);
  } finally {
    tx.finish();
  }
  throwIfAborted(signal, "a store transaction");
  const atomic = store.atomic();
  for (const [key, versionstamp] of tx.reads()) atomic.check(key, versionstamp);
  for (const w of tx.writes()) {
    if ("deleted" in w) atomic.delete(w.key);
    else atomic.set(w.key, w.value);
  }
  const result = await atomic.commit();
  return result.ok
    ? { value, versionstamp: result.versionstamp, attempts: attempt }
    : undefined;
}

function conflict(attempts: number): KernelError {
  return new KernelError(
    "STORE_CONFLICT",
    `Cannot commit the store transaction as concurrent writers changed what it read, ${attempts} times in a row`,
    { data: { attempts } },
  );
}

class OptimisticTransaction implements Transaction {
  readonly attempt: number;
  #store: Store;
  #reads = new Map<string, { key: StoreKey; entry: StoreEntry | null }>();
  #writes = new Map<string, Write>();
  #done = false;

  constructor(store: Store, attempt: number) {
    this.#store = store;
    this.attempt = attempt;
  }

  async get(key: StoreKey): Promise<StoreEntry | null> {
    const [entry] = await this.getMany([key]);
    return entry ?? null;
  }

  async getMany(keys: readonly StoreKey[]): Promise<(StoreEntry | null)[]> {
    this.#live();
    const checked = keys.map((k) => this.#readable(k));
    const missing = checked.filter((k) => !this.#reads.has(keyId(k)));
    if (missing.length > 0) {
      const entries = await this.#store.getMany(missing);
      this.#live();
      missing.forEach((key, i) => {
        const id = keyId(key);
        // A key listed twice in one call: keep the first result.
        if (!this.#reads.has(id)) {
          this.#reads.set(id, { key, entry: entries[i] ?? null });
        }
      });
    }
    return checked.map((k) => this.#reads.get(keyId(k))?.entry ?? null);
  }

  set(key: StoreKey, value: StoreValue): void {
    this.#live();
    const k = this.#validate(key);
    this.#writes.set(keyId(k), { key: k, value });
  }

  delete(key: StoreKey): void {
    this.#live();
    const k = this.#validate(key);
    this.#writes.set(keyId(k), { key: k, deleted: true });
  }

  /** Ends the attempt: later calls throw `TypeError`. */
  finish(): void {
    this.#done = true;
  }

  *reads(): Iterable<[StoreKey, Versionstamp | null]> {
    for (const { key, entry } of this.#reads.values()) {
      yield [key, entry?.versionstamp ?? null];
    }
  }

  writes(): Iterable<Write> {
    return this.#writes.values();
  }

  #live(): void {
    if (this.#done) {
      throw new TypeError(
        "Cannot use a store transaction after its function returned",
      );
    }
  }

  #validate(key: StoreKey): StoreKey {
    return validateKey(key, { maxKeyBytes: this.#store.limits.maxKeyBytes });
  }

  #readable(key: StoreKey): StoreKey {
    const k = this.#validate(key);
    if (this.#writes.has(keyId(k))) {
      throw new TypeError(
        `Cannot read ${formatKey(k)} in a transaction after writing it`,
      );
    }
    return k;
  }
}
