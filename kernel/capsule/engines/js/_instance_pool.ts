/**
 * Private: a lazily grown pool of up to `max` instances, each lent to one
 * caller at a time. An acquire takes a free instance, else makes a new one
 * while fewer than `max` exist (or are being made), else waits in FIFO order
 * until one is released; a waiter whose signal fires leaves the queue.
 *
 * An instance that must not be used again is {@linkcode InstancePool.recycle}d:
 * dropped, and a fresh one made in its place. A failed make stops all growth
 * (as a failed recycle stopped a one-instance capsule before): the pool then
 * serves with what is left, and once nothing is left every acquire fails.
 *
 * @module
 */

interface Waiter<T> {
  readonly resolve: (item: T) => void;
  readonly reject: (err: unknown) => void;
}

/** What a pool needs. */
export interface InstancePoolOptions<T> {
  /** The most instances alive (or being made) at once, at least 1. */
  readonly max: number;
  /** Makes a fresh instance. */
  readonly make: () => Promise<T>;
  /** Frees an instance (dropped, or at close). */
  readonly dispose: (item: T) => void;
  /** Reports a failed make; `live` instances are left. */
  readonly onMakeFailed: (err: unknown, live: number) => void;
  /** The error of an acquire when no instance is left and none can be made. */
  readonly unavailable: () => Error;
}

/** See the module doc. */
export class InstancePool<T> {
  readonly #o: InstancePoolOptions<T>;
  readonly #live = new Set<T>();
  readonly #idle: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #making = 0;
  #made = 1;
  #grows = true;
  #closed = false;

  /**
   * @param first The first instance (already made).
   * @param options Bound, maker, disposer and failure reporting.
   */
  constructor(first: T, options: InstancePoolOptions<T>) {
    if (!Number.isSafeInteger(options.max) || options.max < 1) {
      throw new RangeError(
        `A pool needs at least one instance, got ${options.max}`,
      );
    }
    this.#o = options;
    this.#live.add(first);
    this.#idle.push(first);
  }

  /** Instances made so far (the first, growth and recycles). */
  get made(): number {
    return this.#made;
  }

  /** The instances alive now (lent or free). */
  get live(): readonly T[] {
    return [...this.#live];
  }

  /** Acquires waiting for an instance. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * Lends an instance; give it back with {@linkcode release} (or
   * {@linkcode recycle}).
   *
   * @param signal Cancels the wait (also while an instance is being made).
   * @param aborted The rejection when `signal` fires.
   * @returns The instance, now lent to the caller.
   */
  acquire(signal: AbortSignal, aborted: () => Error): Promise<T> {
    if (signal.aborted || this.#closed) return Promise.reject(aborted());
    const free = this.#idle.pop();
    if (free !== undefined) return Promise.resolve(free);
    const size = this.#live.size + this.#making;
    if (this.#grows && size < this.#o.max) return this.#grow(signal, aborted);
    if (size === 0) return Promise.reject(this.#o.unavailable());
    return this.#wait(signal, aborted);
  }

  /**
   * Gives a lent instance back: to the first waiter, else to the free list.
   *
   * @param item The instance.
   */
  release(item: T): void {
    if (this.#closed || !this.#live.has(item)) return;
    const next = this.#waiters.shift();
    if (next !== undefined) next.resolve(item);
    else this.#idle.push(item);
  }

  /**
   * Drops a lent instance and makes a fresh one in its place (unless growth
   * stopped or the pool is closed), which goes to the first waiter or the
   * free list.
   *
   * @param item The instance that must not be used again.
   * @returns When the fresh instance is made or its make failed.
   */
  async recycle(item: T): Promise<void> {
    this.#live.delete(item);
    this.#o.dispose(item);
    if (this.#closed || !this.#grows) return this.#failWaitersIfEmpty();
    this.#making++;
    let fresh: T;
    try {
      fresh = await this.#o.make();
    } catch (err) {
      this.#making--;
      this.#makeFailed(err);
      return;
    }
    this.#making--;
    this.#made++;
    if (this.#closed) return this.#o.dispose(fresh);
    this.#live.add(fresh);
    this.release(fresh);
  }

  /**
   * Closes the pool: every later acquire is refused with its `aborted`
   * error, waiters are rejected, every instance alive is disposed (lent ones
   * too: call it once their users have finished).
   *
   * @param reason The rejection of the waiters.
   */
  close(reason: Error): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(reason);
    for (const item of this.#live) this.#o.dispose(item);
    this.#live.clear();
    this.#idle.length = 0;
  }

  /**
   * Makes an instance for this caller. A caller cancelled meanwhile gets
   * its rejection at once; the instance, once made, joins the pool.
   */
  #grow(signal: AbortSignal, aborted: () => Error): Promise<T> {
    this.#making++;
    const making = this.#o.make();
    return new Promise<T>((resolve, reject) => {
      let gone = false;
      const onAbort = () => {
        gone = true;
        reject(aborted());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      making.then((item) => {
        signal.removeEventListener("abort", onAbort);
        this.#making--;
        this.#made++;
        if (this.#closed) {
          this.#o.dispose(item);
          if (!gone) reject(aborted());
          return;
        }
        this.#live.add(item);
        if (gone) this.release(item);
        else resolve(item);
      }, (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        this.#making--;
        this.#makeFailed(err);
        if (gone) return;
        // Served by the instances left, if any.
        if (this.#live.size + this.#making === 0) {
          reject(this.#o.unavailable());
        } else this.#wait(signal, aborted).then(resolve, reject);
      });
    });
  }

  #wait(signal: AbortSignal, aborted: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(aborted());
      const onAbort = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(aborted());
      };
      const waiter: Waiter<T> = {
        resolve: (item) => {
          signal.removeEventListener("abort", onAbort);
          resolve(item);
        },
        reject: (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #makeFailed(err: unknown): void {
    this.#grows = false;
    this.#o.onMakeFailed(err, this.#live.size);
    this.#failWaitersIfEmpty();
  }

  /** With nothing alive nor being made, no waiter can ever be served. */
  #failWaitersIfEmpty(): void {
    if (this.#live.size + this.#making > 0) return;
    for (const w of this.#waiters.splice(0)) w.reject(this.#o.unavailable());
  }
}
