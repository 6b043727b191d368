/**
 * The `Store` port: namespaced keys, JSON or byte values, versionstamps,
 * atomic commits with checks, and optimistic transactions.
 *
 * Backends (Deno KV today, PostgreSQL or Deno Deploy KV later) implement this
 * interface; kernel code depends only on it.
 *
 * @module
 */

/**
 * One part of a key after the namespace: a non-empty string (well-formed
 * Unicode, no NUL) or a safe integer (`-0` is stored as `0`). At the same
 * position every string sorts before every number; strings sort by their
 * UTF-8 bytes, numbers numerically (so `2 < 10`, but `"10" < "2"`).
 */
export type StoreKeyPart = string | number;

/**
 * A key: the namespace first (e.g. `"caps:tokens"`, `"default:capsule:fs"`),
 * then one or more parts. Keys are tuples, so there is no separator to inject:
 * `["a:b", "c"]` and `["a", "b:c"]` are different keys. As a list prefix the
 * same shape may stop after the namespace.
 *
 * Limits: the namespace is 1–256 UTF-8 bytes; the encoded key (each string
 * part costs its UTF-8 length + 2 bytes, each number 9 bytes, the namespace
 * counting as a string part) is at most {@linkcode StoreLimits.maxKeyBytes}.
 */
export type StoreKey = readonly [namespace: string, ...parts: StoreKeyPart[]];

/** A JSON value: what a store holds besides raw bytes. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * A stored value: JSON (stored as RFC 8785 canonical JSON text, so object
 * keys come back sorted and properties whose value is `undefined` are
 * dropped) or raw bytes (a `Uint8Array`, returned as a fresh `Uint8Array`).
 */
export type StoreValue = JsonValue | Uint8Array;

/**
 * An opaque version of an entry, changed by every write of the key. Compare
 * only for equality, or pass it back to a check.
 */
export type Versionstamp = string;

/** One stored entry. */
export interface StoreEntry {
  /** The full key, namespace first. */
  readonly key: StoreKey;
  /** The decoded value. */
  readonly value: StoreValue;
  /** The version written by the last commit that touched the key. */
  readonly versionstamp: Versionstamp;
}

/** The size limits of a backend. Exceeding one is an error, never truncation. */
export interface StoreLimits {
  /** Max encoded key size in bytes (see {@linkcode StoreKey}). */
  readonly maxKeyBytes: number;
  /** Max encoded value size in bytes: 1 tag byte + the JSON text or the raw bytes. */
  readonly maxValueBytes: number;
  /** Max checks in one atomic commit (transaction reads count as checks). */
  readonly maxAtomicChecks: number;
  /** Max sets and deletes in one atomic commit. */
  readonly maxAtomicMutations: number;
  /** Max payload of one atomic commit, in the backend's own accounting. */
  readonly maxAtomicBytes: number;
}

/** Options of {@linkcode Store.list}. */
export interface ListOptions {
  /** Stop after this many entries (a positive integer). */
  readonly limit?: number;
  /** Iterate from the last key to the first. */
  readonly reverse?: boolean;
  /** First key to include (inclusive); must lie under the prefix. */
  readonly start?: StoreKey;
  /** First key to exclude (exclusive upper bound); must lie under the prefix. */
  readonly end?: StoreKey;
  /** Cancels the listing: the next step throws `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** The outcome of a commit: `ok: false` means a check failed and nothing was written. */
export type CommitResult =
  | { readonly ok: true; readonly versionstamp: Versionstamp }
  | { readonly ok: false };

/**
 * An atomic commit being built: all checks must hold, then all mutations are
 * applied together, or none are. Keys and values are validated, and limits
 * counted, as each operation is added; an add that throws also makes
 * `commit()` reject with the same error, so a half-built commit never lands.
 */
export interface AtomicWrite {
  /**
   * Requires the key's current versionstamp to equal `versionstamp`
   * (`null`: the key must not exist).
   */
  check(key: StoreKey, versionstamp: Versionstamp | null): this;
  /** Writes `value` at `key`. */
  set(key: StoreKey, value: StoreValue): this;
  /** Deletes `key` (a no-op if it does not exist). */
  delete(key: StoreKey): this;
  /** Commits once; a second call throws `TypeError`. */
  commit(): Promise<CommitResult>;
}

/**
 * The view a transaction function gets. Reads go to the store and are
 * remembered: reading a key again returns the first result, and at commit
 * every read key is checked against the versionstamp seen (so a concurrent
 * write makes the attempt conflict and run again). Writes are buffered until
 * the function returns.
 */
export interface Transaction {
  /** Reads one key (repeatable within the transaction). */
  get(key: StoreKey): Promise<StoreEntry | null>;
  /** Reads several keys, in order. */
  getMany(keys: readonly StoreKey[]): Promise<(StoreEntry | null)[]>;
  /** Buffers a write; reading the key afterwards in the same attempt throws `TypeError`. */
  set(key: StoreKey, value: StoreValue): void;
  /** Buffers a delete. */
  delete(key: StoreKey): void;
  /** Which attempt this is, starting at 1. */
  readonly attempt: number;
}

/** Options of {@linkcode Store.transact}. */
export interface TransactOptions {
  /** Attempts before giving up with `STORE_CONFLICT` (default 100). */
  readonly maxAttempts?: number;
  /** Cancels between attempts and while waiting to retry. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode Store.transact} returns. */
export interface TransactResult<T> {
  /** What the transaction function returned in the attempt that committed. */
  readonly value: T;
  /** The versionstamp of the commit. */
  readonly versionstamp: Versionstamp;
  /** How many attempts it took. */
  readonly attempts: number;
}

/**
 * The storage port. Every method throws `STORE_UNAVAILABLE` once the store is
 * closed, `STORE_KEY_INVALID` for a bad key and `STORE_VALUE_TOO_LARGE` for a
 * value over {@linkcode StoreLimits.maxValueBytes}.
 *
 * @example Code that depends only on the port
 * ```ts
 * import type { Store } from "./store.ts";
 * import { KvStore } from "./kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 *
 * async function countNotes(store: Store): Promise<number> {
 *   let n = 0;
 *   for await (const _ of store.list(["notes"])) n++;
 *   return n;
 * }
 * await using store = new KvStore(await openKv(":memory:"));
 * await store.set(["notes", "a"], "x");
 * console.assert(await countNotes(store) === 1);
 * ```
 */
export interface Store extends AsyncDisposable {
  /** The limits of this backend. */
  readonly limits: StoreLimits;
  /** Reads one key; `null` when it does not exist. */
  get(key: StoreKey): Promise<StoreEntry | null>;
  /**
   * Reads several keys, in order. Up to 10 keys are one consistent snapshot;
   * larger requests are read in batches of 10.
   */
  getMany(keys: readonly StoreKey[]): Promise<(StoreEntry | null)[]>;
  /** Writes one key and returns the new versionstamp. */
  set(key: StoreKey, value: StoreValue): Promise<Versionstamp>;
  /** Deletes one key (a no-op if it does not exist). */
  delete(key: StoreKey): Promise<void>;
  /**
   * Lists the entries strictly under `prefix` (the prefix key itself is not
   * included), in key order, streaming in batches.
   */
  list(
    prefix: StoreKey,
    options?: ListOptions,
  ): AsyncIterableIterator<StoreEntry>;
  /** Starts an atomic commit. */
  atomic(): AtomicWrite;
  /**
   * Runs `fn` as an optimistic transaction and commits its writes together
   * with a check of every key it read; on a conflict runs it again (so `fn`
   * must have no side effects besides the transaction's). An error thrown by
   * `fn` aborts without writing. Do not start a transaction inside another.
   */
  transact<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    options?: TransactOptions,
  ): Promise<TransactResult<T>>;
  /** Closes the store; later calls throw `STORE_UNAVAILABLE`. Idempotent. */
  close(): Promise<void>;
}
