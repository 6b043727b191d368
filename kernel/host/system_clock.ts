/**
 * The {@linkcode Clock} port on the real wall clock.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";
import { longTimer } from "../core/long_timer.ts";

/**
 * Creates the real clock: `now()` is `Date.now()`, `sleep()` and `timer()`
 * use `setTimeout`.
 *
 * `sleep()` rejects with `ABORTED` as soon as its signal fires and clears its
 * timer, so a cancelled sleep leaves nothing behind; a cancelled `timer()`
 * is only cleared. Delays longer than about 24.8 days are split into several
 * timers.
 *
 * @returns A {@linkcode Clock}.
 * @throws {RangeError} From `sleep()` when `ms` is negative or NaN (`Infinity`
 * sleeps until aborted).
 * @throws {KernelError} From `sleep()`: `ABORTED` when the signal fires.
 *
 * @example Time and a cancelled sleep
 * ```ts
 * import { systemClock } from "./system_clock.ts";
 * const clock = systemClock();
 * console.assert(clock.now() > 0);
 * const ac = new AbortController();
 * const slept = clock.sleep(60_000, { signal: ac.signal });
 * ac.abort();
 * await slept.catch((e) => console.assert(e.code === "ABORTED"));
 * ```
 */
export function systemClock(): Clock {
  return {
    now(): number {
      return Date.now();
    },
    sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
      return sleep(ms, options.signal);
    },
    timer,
  };
}

/** `Clock.timer`: `setTimeout`, chained past the timer limit. */
function timer(ms: number, fire: () => void): () => void {
  if (Number.isNaN(ms) || ms < 0) {
    throw new RangeError(
      `Cannot set a timer of ${ms} ms: expected a non-negative number`,
    );
  }
  return longTimer(ms, fire);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (Number.isNaN(ms) || ms < 0) {
    return Promise.reject(
      new RangeError(
        `Cannot sleep for ${ms} ms: expected a non-negative number`,
      ),
    );
  }
  if (signal?.aborted) return Promise.reject(aborted(signal));
  if (ms === 0) return Promise.resolve(); // no timer turn for no wait
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(aborted(signal!));
    };
    const cancel = longTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The cancellation error, without a stack trace: it is made in the signal's
 * abort listener, so its stack would only name the event dispatch (the
 * reason, its `cause`, keeps its own).
 */
function aborted(signal: AbortSignal): KernelError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KernelError("ABORTED", "Cancelled sleep", {
      cause: signal.reason,
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
