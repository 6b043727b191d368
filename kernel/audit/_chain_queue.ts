/**
 * Private: per-chain queues that turn concurrent appends into group commits.
 *
 * Appends to one chain wait in a FIFO queue; while one commit is running,
 * everything that arrives queues up and goes into the next commit together.
 * With `gather`, an idle queue starts its commit one microtask after the
 * first value instead of at once, so values pushed in the same synchronous
 * step (a burst) go into that first commit together too.
 * A *lazy* value (an outcome record, which nothing waits on) starts no
 * commit of its own — not even when it arrives while a commit is running:
 * it rides with the next eager value of its chain (the
 * next call's decision), or goes at the latest when {@linkcode
 * ChainQueue.flush} is called or after one to two `linger` periods: a
 * chain has at most one linger timer, which is not cancelled when its lazy
 * values leave with an eager one (cancelling costs more than the timer);
 * when it fires it commits the lazy values that were already waiting when
 * it was set, or sets itself again for newer ones. Order is kept: a lazy
 * value is always committed before any value queued after it.
 * This is only a performance aid — chain integrity rests on the head
 * compare-and-set of each commit, which still guards against every other
 * writer of the store.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/** What a flush returns per value: a result, an error, or `undefined` to retry. */
export type FlushOutcome<R> = R | KernelError | undefined;

/** Writes a batch of one chain; may throw to fail the whole batch. */
export type FlushFn<T, R> = (
  key: string,
  values: readonly T[],
) => Promise<readonly FlushOutcome<R>[]>;

interface Waiter<T, R> {
  readonly value: T;
  /** Must be committed by the running drain (else it may wait: lazy). */
  go: boolean;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Waits before lazy values go without an eager one: resolves (or rejects)
 * when they must be committed; aborted when they left earlier.
 */
export type LingerFn = (signal: AbortSignal) => Promise<void>;

/** The abort reason of a linger timer cancelled by a flush. */
const FLUSHED = new KernelError("ABORTED", "Flushed");

/** Queues per key, flushed one batch at a time per key. */
export class ChainQueue<T, R> {
  #flush: FlushFn<T, R>;
  #maxBatch: number;
  #linger: LingerFn;
  #gather: boolean;
  #pending = new Map<string, Waiter<T, R>[]>();
  /** Keys whose queue is being drained. */
  #draining = new Set<string>();
  /** Keys holding only lazy values (not draining). */
  #lingering = new Set<string>();
  /** Keys with a linger timer set, and the timer's cancel (for flush). */
  #timers = new Map<string, AbortController>();
  /** Per key, how many times its lazy values left (with any commit). */
  #departures = new Map<string, number>();
  /** Per key, the result of the value queued last (what `flush()` awaits). */
  #last = new Map<string, Promise<R>>();

  /**
   * @param flush Writes one batch.
   * @param maxBatch Values per batch at most.
   * @param linger How long lazy values may wait for an eager one.
   * @param gather Start an idle queue's commit one microtask late, so a
   *   synchronous burst shares it (default: at once).
   */
  constructor(
    flush: FlushFn<T, R>,
    maxBatch: number,
    linger: LingerFn,
    gather = false,
  ) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
    this.#linger = linger;
    this.#gather = gather;
  }

  /**
   * Queues a value and resolves with its result.
   *
   * @param key The chain.
   * @param value What to write.
   * @param signal Cancels while still queued (`ABORTED`).
   * @param lazy Start no commit for it (see the module doc).
   * @returns The result, once the commit holding it is done.
   */
  push(
    key: string,
    value: T,
    signal: AbortSignal | undefined,
    lazy = false,
  ): Promise<R> {
    const result = new Promise<R>((resolve, reject) => {
      const waiter = { value, signal, resolve, reject, go: false };
      let list = this.#pending.get(key);
      if (list === undefined) {
        list = [];
        this.#pending.set(key, list);
      }
      list.push(waiter);
      if (!lazy) return this.#start(key);
      if (this.#draining.has(key)) return; // waits behind the running drain
      this.#lingering.add(key);
      if (!this.#timers.has(key)) this.#arm(key);
    });
    this.#last.set(key, result);
    const forget = () => {
      if (this.#last.get(key) === result) this.#last.delete(key);
    };
    // silent-ok: only bookkeeping; the caller gets the rejection.
    result.then(forget, forget);
    return result;
  }

  /**
   * Commits the values queued so far (lazy ones included) now, and waits
   * until they are settled. Values queued later are not waited for, so a
   * flush under sustained load still ends.
   *
   * @param key Only this chain (default: every chain).
   * @returns When those values are settled.
   */
  async flush(key?: string): Promise<void> {
    const keys = key === undefined ? [...this.#last.keys()] : [key];
    const waits: Promise<unknown>[] = [];
    for (const k of keys) {
      const last = this.#last.get(k);
      if (last === undefined) continue;
      if (this.#lingering.has(k) || this.#draining.has(k)) this.#start(k);
      waits.push(last);
    }
    // No timer outlives a flush of its chain.
    for (const k of key === undefined ? [...this.#timers.keys()] : [key]) {
      this.#timers.get(k)?.abort(FLUSHED);
      this.#timers.delete(k);
    }
    await Promise.allSettled(waits);
  }

  /** Sets the chain's linger timer (see the module doc). */
  #arm(key: string): void {
    const timer = new AbortController();
    this.#timers.set(key, timer);
    const departed = this.#departures.get(key) ?? 0;
    this.#linger(timer.signal).then(
      () => {
        if (this.#timers.get(key) !== timer) return;
        this.#timers.delete(key);
        if (!this.#lingering.has(key)) return;
        // The values waiting when the timer was set are still here: go.
        if ((this.#departures.get(key) ?? 0) === departed) this.#start(key);
        else this.#arm(key); // they left; these came later
      },
      // silent-ok: cancelled by a flush, which commits the values itself.
      () => {},
    );
  }

  /** Everything queued on `key` so far must go, in order; drains it. */
  #start(key: string): void {
    for (const w of this.#pending.get(key) ?? []) w.go = true;
    if (this.#lingering.delete(key)) {
      this.#departures.set(key, (this.#departures.get(key) ?? 0) + 1);
    }
    if (this.#draining.has(key)) return;
    this.#draining.add(key);
    void this.#drain(key);
  }

  async #drain(key: string): Promise<void> {
    const list = this.#pending.get(key)!;
    // The rest of a synchronous burst joins the first value's commit.
    if (this.#gather) await Promise.resolve();
    // Lazy values queued after the last that must go ride along when they
    // fit into a batch, and otherwise wait (below) instead of committing.
    while (list.some((w) => w.go)) {
      const batch = takeLive(list, this.#maxBatch);
      if (batch.length === 0) continue;
      let outcomes: readonly FlushOutcome<R>[];
      try {
        outcomes = await this.#flush(key, batch.map((w) => w.value));
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      const retry: Waiter<T, R>[] = [];
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (o === undefined) retry.push(w);
        else if (o instanceof KernelError) w.reject(o);
        else w.resolve(o);
      });
      list.unshift(...retry);
    }
    // In the same step as the loop's end: a push after this starts a drain.
    this.#draining.delete(key);
    if (list.length === 0) {
      this.#pending.delete(key);
      return;
    }
    // Only lazy values are left: they linger like those of an idle queue.
    this.#lingering.add(key);
    if (!this.#timers.has(key)) this.#arm(key);
  }
}

/** Takes up to `max` waiters, rejecting those whose signal has fired. */
function takeLive<T, R>(list: Waiter<T, R>[], max: number): Waiter<T, R>[] {
  const out: Waiter<T, R>[] = [];
  while (out.length < max && list.length > 0) {
    const w = list.shift()!;
    if (w.signal?.aborted) {
      w.reject(
        new KernelError("ABORTED", "Cancelled an audit append while queued", {
          cause: w.signal.reason,
        }),
      );
    } else out.push(w);
  }
  return out;
}
