/**
 * Private: a per-key async mutex. Operations on one overlay path run one at a
 * time (copy-up included); operations on different paths run concurrently.
 *
 * @module
 */

/** Serialises async work per string key. */
export class KeyedLock {
  #tails = new Map<string, Promise<void>>();

  /**
   * Runs `fn` while holding every key. Keys are taken in sorted order, so two
   * callers holding overlapping sets cannot deadlock.
   *
   * @param keys The keys to hold.
   * @param fn The work.
   * @returns What `fn` returns.
   */
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /**
   * Resolves once nobody holds or waits for `key` anymore (readers use it to
   * see a write either before or after, never half done).
   *
   * @param key The key.
   * @returns `undefined` when the key is free (no await needed).
   */
  idle(key: string): Promise<void> | undefined {
    return this.#tails.get(key);
  }

  async #acquire(key: string): Promise<() => void> {
    const prev = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev === undefined ? mine : prev.then(() => mine);
    this.#tails.set(key, tail);
    if (prev !== undefined) await prev;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
