/**
 * Private: a FIFO lane that runs one task at a time. A store sends
 * transaction retries through it, so that writers who lost a conflict retry
 * one after another instead of all colliding again (which makes N concurrent
 * writers on one key cost O(N) attempts instead of O(N²)).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

interface Waiter {
  readonly wake: () => void;
}

/** A FIFO mutex whose waiters can be cancelled. */
export class SerialLane {
  #busy = false;
  #queue: Waiter[] = [];

  /**
   * Runs `task` when the lane is free, then frees it.
   *
   * @param task What to run alone.
   * @param signal Cancels waiting (not the task itself).
   * @returns What `task` returned.
   * @throws {KernelError} `ABORTED` when the signal fires while waiting.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(aborted(signal));
      };
      const waiter: Waiter = {
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next.wake(); // the lane stays busy and passes to `next`
    else this.#busy = false;
  }
}

function aborted(signal: AbortSignal | undefined): KernelError {
  return new KernelError(
    "ABORTED",
    "Cancelled waiting to retry a store transaction",
    {
      cause: signal?.reason,
    },
  );
}
