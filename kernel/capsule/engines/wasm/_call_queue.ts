/**
 * Private: the per-instance FIFO that serialises calls into one plug-in
 * (Extism instances are not re-entrant: two concurrent calls corrupt them).
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";

interface Waiter {
  readonly wake: () => void;
  readonly fail: (err: KernelError) => void;
}

/** Runs one task at a time, in arrival order; waiting can be cancelled. */
export class CallQueue {
  #busy = false;
  #waiters: Waiter[] = [];

  /** Calls queued behind the running one. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Runs `task` once every earlier task has finished.
   *
   * @param task The work.
   * @param signal Cancels the wait (not the task once it runs).
   * @returns What `task` returned.
   * @throws {KernelError} `ABORTED` when the signal fires while waiting, or
   *   what {@linkcode CallQueue.close} was given.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  /**
   * Rejects every waiting task with `err` (the running one is not touched).
   *
   * @param err The error the waiters get.
   */
  rejectWaiting(err: KernelError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.fail(err);
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(aborted(signal));
      };
      const waiter: Waiter = {
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        fail: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next.wake(); // the lane stays busy: ownership passes on
    else this.#busy = false;
  }
}

function aborted(signal: AbortSignal | undefined): KernelError {
  return new KernelError("ABORTED", "Cancelled while waiting for the capsule", {
    cause: signal?.reason,
  });
}
