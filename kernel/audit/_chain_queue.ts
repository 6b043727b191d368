/**
 * Private: per-chain queues that turn concurrent appends into group commits.
 *
 * Appends to one chain wait in a FIFO queue; while one commit is running,
 * everything that arrives queues up and goes into the next commit together.
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
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/** Queues per key, flushed one batch at a time per key. */
export class ChainQueue<T, R> {
  #flush: FlushFn<T, R>;
  #maxBatch: number;
  #pending = new Map<string, Waiter<T, R>[]>();

  /**
   * @param flush Writes one batch.
   * @param maxBatch Values per batch at most.
   */
  constructor(flush: FlushFn<T, R>, maxBatch: number) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  /**
   * Queues a value and resolves with its result.
   *
   * @param key The chain.
   * @param value What to write.
   * @param signal Cancels while still queued (`ABORTED`).
   * @returns The result.
   */
  push(key: string, value: T, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiter = { value, signal, resolve, reject };
      const list = this.#pending.get(key);
      if (list !== undefined) {
        list.push(waiter);
        return;
      }
      this.#pending.set(key, [waiter]);
      void this.#drain(key);
    });
  }

  async #drain(key: string): Promise<void> {
    const list = this.#pending.get(key)!;
    while (list.length > 0) {
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
    this.#pending.delete(key);
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
