/**
 * A {@linkcode Clock} whose time moves only when a test says so.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

/**
 * A manual clock for tests. `now()` starts at the given time; `advance(ms)`
 * moves it forward, waking due sleepers one at a time in order of due time
 * (ties in the order they began sleeping), with `now()` equal to each
 * sleeper's due time when it wakes. Sleeps started by woken code inside the
 * window also fire before `advance()` returns.
 *
 * @example Drive a timeout without waiting
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock(1_000);
 * let woke = 0;
 * const done = clock.sleep(500).then(() => { woke = clock.now(); });
 * await clock.advance(499);
 * console.assert(woke === 0);
 * await clock.advance(1);
 * await done;
 * console.assert(woke === 1_500);
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];

  /**
   * Creates a clock stopped at `startMs`.
   *
   * @param startMs The initial `now()`, in ms since the epoch. Default `0`.
   */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  /**
   * The current fake time.
   *
   * @returns Milliseconds since the epoch.
   */
  now(): number {
    return this.#now;
  }

  /** How many sleeps are waiting. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  /**
   * Resolves once the fake time has advanced by `ms`.
   *
   * @param ms Milliseconds to wait; `0` resolves on the next `advance()`.
   * @param options Optional cancellation.
   * @returns A promise that resolves when due.
   * @throws {KernelError} `ABORTED` when the signal fires first.
   * @throws {RangeError} When `ms` is negative or NaN.
   */
  sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (Number.isNaN(ms) || ms < 0) {
      return Promise.reject(
        new RangeError(
          `Cannot sleep for ${ms} ms: expected a non-negative number`,
        ),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(aborted(signal));
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        due: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {},
      };
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(aborted(signal!));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /**
   * Calls `fire` once the fake time has advanced by `ms`, unless cancelled
   * first. Counted in {@linkcode pendingSleeps} until it fires or is
   * cancelled.
   *
   * @param ms Milliseconds to wait; `0` fires on the next `advance()`.
   * @param fire What to call when due.
   * @returns Cancels the timer (idempotent).
   * @throws {RangeError} When `ms` is negative or NaN.
   */
  timer(ms: number, fire: () => void): () => void {
    if (Number.isNaN(ms) || ms < 0) {
      throw new RangeError(
        `Cannot set a timer of ${ms} ms: expected a non-negative number`,
      );
    }
    const sleeper: Sleeper = {
      due: this.#now + ms,
      seq: this.#seq++,
      resolve: fire,
    };
    this.#sleepers.push(sleeper);
    return () => {
      this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
    };
  }

  /**
   * Moves time forward by `ms`, waking every sleeper that falls due, in order.
   * Each wake is followed by a full turn of the event loop so that its
   * continuation runs (and may sleep again) before the next one wakes.
   *
   * @param ms Milliseconds to advance.
   * @returns A promise that resolves when time has reached `now() + ms`.
   * @throws {RangeError} When `ms` is negative or not finite.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(
        `Cannot advance by ${ms} ms: expected a non-negative finite number`,
      );
    }
    const target = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      this.#now = next.due;
      next.resolve();
      await settle();
    }
    this.#now = target;
  }

  #nextDue(target: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (s.due > target) continue;
      if (
        best === undefined || s.due < best.due ||
        (s.due === best.due && s.seq < best.seq)
      ) best = s;
    }
    return best;
  }
}

/** Lets every pending microtask (and promise chain) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function aborted(signal: AbortSignal): KernelError {
  return new KernelError("ABORTED", "Cancelled sleep", {
    cause: signal.reason,
  });
}
