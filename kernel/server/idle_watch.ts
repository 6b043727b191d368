/**
 * The idle timeout of an ephemeral daemon: fires once no request has been in
 * flight for `idleMs` and no session runs a turn.
 *
 * @module
 */
import type { Activity } from "./activity.ts";

/** Options of {@linkcode watchIdle}. */
export interface IdleWatchOptions {
  /** How long without activity before `onIdle`. */
  readonly idleMs: number;
  /** The request counter. */
  readonly activity: Activity;
  /** Whether a turn runs (asked only when no request is in flight). */
  readonly busy: () => Promise<boolean>;
  /** Called once, when idle. */
  readonly onIdle: () => void;
  /** The clock (ms). */
  readonly now: () => number;
}

/**
 * Starts watching.
 *
 * @param options Timeout, counters, callback.
 * @returns `stop()` ends the watch.
 */
export function watchIdle(options: IdleWatchOptions): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(check, Math.max(10, ms));
  };
  const check = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const { activity, idleMs } = options;
    if (activity.inFlight > 0) return schedule(idleMs);
    const left = activity.lastActive + idleMs - options.now();
    if (left > 0) return schedule(left);
    let busy = true;
    try {
      busy = await options.busy();
    } catch {
      busy = true; // cannot tell: stay up rather than end a turn
    }
    if (stopped) return;
    if (busy || activity.inFlight > 0) {
      activity.touch();
      return schedule(idleMs);
    }
    stopped = true;
    options.onIdle();
  };
  schedule(options.idleMs);
  return {
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
