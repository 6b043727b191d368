/**
 * The {@linkcode Clock} port on the real wall clock.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";

/** The largest delay `setTimeout` accepts (2^31 - 1 ms); longer sleeps are chained. */
const MAX_TIMER_MS = 2_147_483_647;

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
  let remaining = ms;
  const next = (): ReturnType<typeof setTimeout> => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    return setTimeout(tick, step);
  };
  const tick = (): void => {
    if (remaining <= 0) fire();
    else handle = next();
  };
  let handle = next();
  return () => clearTimeout(handle);
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
  return new Promise<void>((resolve, reject) => {
    let remaining = ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal!));
    };
    const tick = (): void => {
      if (remaining <= 0) {
        signal?.removeEventListener("abort", onAbort);
        resolve();
        return;
      }
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      timer = setTimeout(tick, step);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    tick();
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
