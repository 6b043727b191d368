/**
 * The structural subset of a Deno KV database that {@linkcode KvStore} uses.
 *
 * It is declared here, without naming the host runtime, so that kernel code
 * never touches the host directly: `kernel/host/open_kv.ts` opens the real
 * database and returns a value of this shape.
 *
 * @module
 */

/** A key as the KV database sees it (our keys use strings and numbers only). */
export type KvLikeKey = readonly (string | number)[];

/** An entry as the KV database returns it; `versionstamp` is `null` when absent. */
export interface KvLikeEntry {
  /** The key, as stored. */
  readonly key: readonly unknown[];
  /** The stored value, or `null` when absent. */
  readonly value: unknown;
  /** The entry's version, or `null` when absent. */
  readonly versionstamp: string | null;
}

/** A range to list. */
export type KvLikeSelector =
  | { readonly prefix: KvLikeKey }
  | { readonly prefix: KvLikeKey; readonly start: KvLikeKey }
  | { readonly prefix: KvLikeKey; readonly end: KvLikeKey }
  | { readonly start: KvLikeKey; readonly end: KvLikeKey };

/** Options of a listing. */
export interface KvLikeListOptions {
  /** Max entries. */
  limit?: number;
  /** Descending order. */
  reverse?: boolean;
  /** Entries fetched per round trip. */
  batchSize?: number;
  /** Read consistency. */
  consistency?: "strong" | "eventual";
}

/** An atomic operation of the KV database. */
export interface KvLikeAtomic {
  /** Adds versionstamp checks. */
  check(...checks: { key: KvLikeKey; versionstamp: string | null }[]): unknown;
  /** Adds a write. */
  set(key: KvLikeKey, value: unknown): unknown;
  /** Adds a delete. */
  delete(key: KvLikeKey): unknown;
  /** Commits. */
  commit(): Promise<{ ok: true; versionstamp: string } | { ok: false }>;
}

/**
 * The subset of a Deno KV database used by {@linkcode KvStore}. A real
 * Deno KV database handle satisfies it structurally.
 */
export interface KvLike {
  /** Reads one key. */
  get(key: KvLikeKey): Promise<KvLikeEntry>;
  /** Reads up to 10 keys as one snapshot. */
  getMany(keys: readonly KvLikeKey[]): Promise<readonly KvLikeEntry[]>;
  /** Lists a range. */
  list(
    selector: KvLikeSelector,
    options?: KvLikeListOptions,
  ): AsyncIterableIterator<KvLikeEntry>;
  /** Starts an atomic operation. */
  atomic(): KvLikeAtomic;
  /** Closes the database (a network backend may finish asynchronously). */
  close(): void | Promise<void>;
}
