/**
 * A map that holds at most `max` entries: setting a key makes it the most
 * recently used, and a set beyond `max` drops the least recently used. It is
 * the one bounded "what this kernel last saw" cache: the budget ledger's
 * spends and the capsule KV's keys (each with the versionstamp it was seen
 * at) are kept in one, so a long-lived kernel's memory does not grow with
 * the keys it touched. A read does not refresh a key's place (only a write
 * does): the caches write every key they read that matters.
 *
 * @module
 */

/** A string-keyed map bounded to its most recently set entries. */
export class LruMap<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();

  /**
   * @param max Entries kept at most (a positive integer).
   * @throws {RangeError} When `max` is not a positive integer.
   *
   * @example The least recently set key goes first
   * ```ts
   * import assert from "node:assert/strict";
   * import { LruMap } from "./lru_map.ts";
   * const m = new LruMap<number>(2);
   * m.set("a", 1);
   * m.set("b", 2);
   * m.set("a", 3); // "a" is now the most recent
   * m.set("c", 4); // drops "b"
   * assert.equal(m.get("b"), undefined);
   * assert.equal(m.get("a"), 3);
   * ```
   */
  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`An LruMap holds at least 1 entry, not ${max}`);
    }
    this.#max = max;
  }

  /** The entries held now. */
  get size(): number {
    return this.#map.size;
  }

  /**
   * The value of a key, if held.
   *
   * @param key The key.
   * @returns The value, or `undefined`.
   */
  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  /**
   * Sets a key as the most recently used; drops the least recently used
   * when over the bound.
   *
   * @param key The key.
   * @param value Its value.
   */
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      this.#map.delete(this.#map.keys().next().value as string);
    }
  }

  /**
   * Drops a key.
   *
   * @param key The key.
   */
  delete(key: string): void {
    this.#map.delete(key);
  }
}
