/**
 * The storage port of the kernel and its Deno KV implementation.
 *
 * A {@linkcode Store} maps keys to values with versionstamps. A key is a
 * tuple whose first element is the namespace (`["caps:tokens", id]`,
 * `["default:capsule:fs", "cursor"]`); a value is JSON or raw bytes. Besides
 * get/set/delete and ordered prefix listing, the port offers:
 *
 * - `atomic()`: checks on versionstamps plus several sets and deletes, across
 *   namespaces, committed all or nothing (`{ ok: false }` when a check fails);
 * - `transact(fn)`: an optimistic transaction — every key `fn` reads is
 *   checked at commit, and `fn` reruns on a conflict. Single-use token
 *   consumption, dual budget reservations and audit-chain appends are each
 *   one transaction;
 * - {@linkcode updateValue}: read-modify-write of one key.
 *
 * Limits are errors, never truncation: `STORE_KEY_INVALID`,
 * `STORE_VALUE_TOO_LARGE`, `STORE_ATOMIC_TOO_LARGE`; a closed store throws
 * `STORE_UNAVAILABLE`; a transaction that keeps losing throws `STORE_CONFLICT`.
 * {@linkcode KvStore} runs on Deno KV, opened by `kernel/host/open_kv.ts`,
 * or on PostgreSQL through the same {@linkcode KvLike} shape, opened by
 * `kernel/host/open_pg.ts` (keys stored as {@linkcode encodeKey} bytes, so
 * byte order is key order). The one conformance suite
 * (`_conformance_test_suite.ts`) runs against both.
 *
 * Security model: keys are tuples validated part by part, so no user-chosen
 * string can reach another namespace (there is no separator to inject, and
 * strings that are not valid Unicode — which would collide after UTF-8
 * encoding — are refused). Concurrency safety rests on versionstamp checks
 * in one atomic commit, never on in-process locks; the lane that orders
 * retries is only a performance aid.
 *
 * @example Consume a single-use token exactly once
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./mod.ts";
 * import { openKv } from "../host/open_kv.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const consume = () =>
 *   store.transact(async (tx) => {
 *     if (await tx.get(["caps:used", "t1"])) return false;
 *     tx.set(["caps:used", "t1"], { at: 1 });
 *     return true;
 *   });
 * const results = await Promise.all([consume(), consume(), consume()]);
 * assert.equal(results.filter((r) => r.value).length, 1);
 * ```
 *
 * @module
 */
export type {
  AtomicWrite,
  CommitResult,
  JsonValue,
  ListOptions,
  Store,
  StoreEntry,
  StoreKey,
  StoreKeyPart,
  StoreLimits,
  StoreValue,
  Transaction,
  TransactOptions,
  TransactResult,
  Versionstamp,
} from "./store.ts";
export {
  decodeKey,
  DEFAULT_MAX_KEY_BYTES,
  encodeKey,
  formatKey,
  keySize,
  MAX_NAMESPACE_BYTES,
  validateKey,
} from "./store_key.ts";
export type { ValidateKeyOptions } from "./store_key.ts";
export { DENO_KV_LIMITS, KvStore } from "./kv_store.ts";
export type {
  KvLike,
  KvLikeAtomic,
  KvLikeEntry,
  KvLikeKey,
  KvLikeListOptions,
  KvLikeSelector,
} from "./kv_like.ts";
export { updateValue } from "./update_value.ts";
export type { UpdateValueOptions } from "./update_value.ts";
