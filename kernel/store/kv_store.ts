/**
 * {@linkcode KvStore}: the {@linkcode Store} port on a Deno KV database —
 * or on anything shaped like one ({@linkcode KvLike}), such as the
 * PostgreSQL table that `kernel/host/open_pg.ts` opens, which thereby gets
 * the same validation, codec, limits and transactions.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import { KvAtomicWrite } from "./_kv_atomic.ts";
import { kvError } from "./_kv_errors.ts";
import { SerialLane } from "./_serial_lane.ts";
import { runTransaction } from "./_transaction.ts";
import { decodeValue } from "./_value_codec.ts";
import type { KvLike, KvLikeEntry, KvLikeSelector } from "./kv_like.ts";
import type {
  AtomicWrite,
  ListOptions,
  Store,
  StoreEntry,
  StoreKey,
  StoreLimits,
  StoreValue,
  Transaction,
  TransactOptions,
  TransactResult,
  Versionstamp,
} from "./store.ts";
import { DEFAULT_MAX_KEY_BYTES, formatKey, validateKey } from "./store_key.ts";

/**
 * The limits of Deno KV (measured on Deno 2.9).
 *
 * @example Size a batch to the backend
 * ```ts
 * import { DENO_KV_LIMITS } from "./kv_store.ts";
 * const perCommit = Math.min(500, DENO_KV_LIMITS.maxAtomicMutations);
 * console.assert(perCommit === 500);
 * ```
 */
export const DENO_KV_LIMITS: StoreLimits = Object.freeze({
  maxKeyBytes: DEFAULT_MAX_KEY_BYTES,
  maxValueBytes: 65_536,
  maxAtomicChecks: 100,
  maxAtomicMutations: 1_000,
  maxAtomicBytes: 819_200,
});

/** Keys per `getMany` round trip (Deno KV reads at most 10 ranges at once). */
const READ_BATCH = 10;

/**
 * The {@linkcode Store} on a Deno KV database (a file, or `:memory:`).
 *
 * Values are stored as tagged bytes (see {@linkcode StoreValue}), so their
 * size is measured exactly before writing: an oversized value fails with
 * `STORE_VALUE_TOO_LARGE` and nothing is written. All reads are strongly
 * consistent. The store owns the database: {@linkcode KvStore.close} closes it.
 *
 * @example Set, get, list and a checked commit
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * await store.set(["notes", "a"], { text: "hello" });
 * const entry = await store.get(["notes", "a"]);
 * assert.deepEqual(entry?.value, { text: "hello" });
 *
 * const keys = [];
 * for await (const e of store.list(["notes"])) keys.push(e.key);
 * assert.deepEqual(keys, [["notes", "a"]]);
 *
 * const stale = await store.atomic().check(["notes", "a"], null).set(["notes", "a"], 1).commit();
 * assert.equal(stale.ok, false);
 * ```
 */
export class KvStore implements Store {
  /** The limits of Deno KV. */
  readonly limits: StoreLimits = DENO_KV_LIMITS;
  #kv: KvLike;
  #closed = false;
  #lane = new SerialLane();

  /**
   * Wraps an open database.
   *
   * @param kv An open database, e.g. from `openKv()`; the store takes ownership of it.
   */
  constructor(kv: KvLike) {
    this.#kv = kv;
  }

  /**
   * Reads one key.
   *
   * @param key The key.
   * @returns The entry, or `null` when absent.
   * @throws {KernelError} `STORE_KEY_INVALID`, `STORE_UNAVAILABLE`.
   */
  async get(key: StoreKey): Promise<StoreEntry | null> {
    const [entry] = await this.getMany([key]);
    return entry ?? null;
  }

  /**
   * Reads several keys, in order; batches of up to 10 keys are one snapshot.
   *
   * @param keys The keys.
   * @returns One entry or `null` per key.
   * @throws {KernelError} `STORE_KEY_INVALID`, `STORE_UNAVAILABLE`.
   */
  async getMany(keys: readonly StoreKey[]): Promise<(StoreEntry | null)[]> {
    const checked = keys.map((k) => this.#check(k));
    const out: (StoreEntry | null)[] = [];
    for (let i = 0; i < checked.length; i += READ_BATCH) {
      const batch = checked.slice(i, i + READ_BATCH);
      // Rendered only for an error message.
      const what = () =>
        `get ${formatKey(batch[0])}${
          batch.length > 1 ? ` and ${batch.length - 1} more` : ""
        }`;
      const kv = this.#open(what);
      let raw: readonly KvLikeEntry[];
      try {
        raw = await kv.getMany(batch);
      } catch (err) {
        throw kvError(err, what());
      }
      batch.forEach((key, j) => out.push(toEntry(key, raw[j])));
    }
    return out;
  }

  /**
   * Writes one key.
   *
   * @param key The key.
   * @param value The value.
   * @returns The new versionstamp.
   * @throws {KernelError} `STORE_KEY_INVALID`, `STORE_VALUE_TOO_LARGE`,
   * `CANONICAL_JSON_UNSUPPORTED`, `STORE_UNAVAILABLE`.
   */
  async set(key: StoreKey, value: StoreValue): Promise<Versionstamp> {
    const result = await this.atomic().set(key, value).commit();
    if (!result.ok) {
      throw new KernelError(
        "INTERNAL",
        `Cannot set ${formatKey(key)}: an unchecked commit failed`,
      );
    }
    return result.versionstamp;
  }

  /**
   * Deletes one key (a no-op when absent).
   *
   * @param key The key.
   * @throws {KernelError} `STORE_KEY_INVALID`, `STORE_UNAVAILABLE`.
   */
  async delete(key: StoreKey): Promise<void> {
    const result = await this.atomic().delete(key).commit();
    if (!result.ok) {
      throw new KernelError(
        "INTERNAL",
        `Cannot delete ${formatKey(key)}: an unchecked commit failed`,
      );
    }
  }

  /**
   * Lists the entries strictly under `prefix`, in key order. The prefix and
   * options are checked at once; the entries stream as you iterate.
   *
   * @param prefix The namespace, optionally followed by parts.
   * @param options Limit, order, range and cancellation.
   * @returns The entries.
   * @throws {KernelError} `STORE_KEY_INVALID` (also when `start`/`end` lie
   * outside the prefix); while iterating `ABORTED`, `STORE_UNAVAILABLE`.
   * @throws {RangeError} When `limit` is not a positive integer.
   */
  list(
    prefix: StoreKey,
    options: ListOptions = {},
  ): AsyncIterableIterator<StoreEntry> {
    const p = this.#check(prefix, true);
    const start = options.start === undefined
      ? undefined
      : this.#under(p, options.start, "start");
    const end = options.end === undefined
      ? undefined
      : this.#under(p, options.end, "end");
    const { limit } = options;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new RangeError(
        `Cannot list ${
          formatKey(p)
        } with limit ${limit}: expected a positive integer`,
      );
    }
    const selector: KvLikeSelector = start && end
      ? { start, end }
      : start
      ? { prefix: p, start }
      : end
      ? { prefix: p, end }
      : { prefix: p };
    this.#open(`list ${formatKey(p)}`);
    return this.#iterate(p, selector, options);
  }

  /**
   * Starts an atomic commit.
   *
   * @returns The builder.
   * @throws {KernelError} From its methods: `STORE_KEY_INVALID`,
   * `STORE_VALUE_TOO_LARGE`, `STORE_ATOMIC_TOO_LARGE`, `STORE_UNAVAILABLE`.
   */
  atomic(): AtomicWrite {
    return new KvAtomicWrite({
      limits: this.limits,
      open: (what) => this.#open(what),
    });
  }

  /**
   * Runs `fn` as an optimistic transaction (see {@linkcode Store.transact}).
   *
   * @param fn The transaction function.
   * @param options Attempts and cancellation.
   * @returns The value of `fn` and the commit's versionstamp.
   * @throws {KernelError} `STORE_CONFLICT`, `ABORTED`, and anything `fn` or
   * the commit throws.
   */
  transact<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    options: TransactOptions = {},
  ): Promise<TransactResult<T>> {
    return runTransaction(this, fn, { ...options, lane: this.#lane });
  }

  /**
   * Closes the database. Idempotent.
   *
   * @returns When closed.
   * @throws {KernelError} `STORE_UNAVAILABLE` if the database fails to close.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    let done: void | Promise<void>;
    try {
      done = this.#kv.close();
    } catch (err) {
      return Promise.reject(kvError(err, "close the store"));
    }
    return done instanceof Promise
      ? done.catch((err) => {
        throw kvError(err, "close the store");
      })
      : Promise.resolve();
  }

  /** Same as {@linkcode KvStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *#iterate(
    prefix: StoreKey,
    selector: KvLikeSelector,
    options: ListOptions,
  ): AsyncGenerator<StoreEntry> {
    const what = `list ${formatKey(prefix)}`;
    const it = this.#open(what).list(selector, {
      consistency: "strong",
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.reverse === undefined ? {} : { reverse: options.reverse }),
    });
    for (;;) {
      throwIfAborted(options.signal, what);
      this.#open(what);
      let next: IteratorResult<KvLikeEntry>;
      try {
        next = await it.next();
      } catch (err) {
        throw kvError(err, what);
      }
      if (next.done) return;
      const key = storedKey(next.value.key, what);
      yield toEntry(key, next.value) as StoreEntry;
    }
  }

  #open(what: string | (() => string)): KvLike {
    if (this.#closed) {
      throw new KernelError(
        "STORE_UNAVAILABLE",
        `Cannot ${
          typeof what === "string" ? what : what()
        } as the store is closed`,
      );
    }
    return this.#kv;
  }

  #check(key: StoreKey, prefix = false): StoreKey {
    return validateKey(key, { prefix, maxKeyBytes: this.limits.maxKeyBytes });
  }

  #under(prefix: StoreKey, key: StoreKey, what: string): StoreKey {
    const k = this.#check(key);
    if (k.length <= prefix.length || prefix.some((part, i) => k[i] !== part)) {
      throw new KernelError(
        "STORE_KEY_INVALID",
        `Cannot list ${formatKey(prefix)} from ${what} key ${
          formatKey(k)
        } as it is not under the prefix`,
        { data: { key: formatKey(k) } },
      );
    }
    return k;
  }
}

function toEntry(
  key: StoreKey,
  raw: KvLikeEntry | undefined,
): StoreEntry | null {
  if (raw === undefined || raw.versionstamp === null) return null;
  return {
    key,
    value: decodeValue(raw.value, () => formatKey(key)),
    versionstamp: raw.versionstamp,
  };
}

function storedKey(raw: readonly unknown[], what: string): StoreKey {
  const ok = typeof raw[0] === "string" &&
    raw.every((p) => typeof p === "string" || typeof p === "number");
  if (!ok) {
    throw new KernelError(
      "INTERNAL",
      `Cannot ${what} as it holds a key we did not write: ${formatKey(raw)}`,
    );
  }
  return Object.freeze([...raw]) as unknown as StoreKey;
}
