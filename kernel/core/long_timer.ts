/**
 * A `setTimeout` of any length: `setTimeout` takes at most 2^31 - 1 ms (about
 * 24.8 days; a longer delay fires at once), so a longer timer is chained in
 * steps of that size. The one implementation behind the system clock's
 * `sleep` and `timer`, the js engine's waiting bound and the deadline of a
 * linked signal.
 *
 * @module
 */

/** The largest delay `setTimeout` accepts (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `fire` once after `ms` (never synchronously) unless cancelled first.
 *
 * @param ms The delay (a non-negative number; not checked here).
 * @param fire What to call.
 * @returns Cancels the timer; harmless after it fired.
 *
 * @example A timer cancelled before it fires
 * ```ts
 * import { longTimer } from "./long_timer.ts";
 * let fired = false;
 * const cancel = longTimer(10, () => fired = true);
 * cancel();
 * await new Promise((r) => setTimeout(r, 20));
 * console.assert(!fired);
 * ```
 */
export function longTimer(ms: number, fire: () => void): () => void {
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
