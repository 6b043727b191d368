/**
 * Private: when a session hub boots its spare (the runtime booted ahead for
 * the next session of a workspace). Booting capsules is CPU work on the
 * daemon's one thread, so the spare waits until no turn runs: it must not
 * slow the turn of the session that just took the last spare, whose prompt
 * comes right after its `create`.
 *
 * @module
 */
import type { Clock } from "../core/ports.ts";

/** How long a new spare waits for the prompt of the session that took the last one. */
const SPARE_DELAY_MS = 100;

/**
 * How long a new spare waits for the first turn of the session just created
 * to start (the prompt comes after `create`, slower than
 * {@linkcode SPARE_DELAY_MS} on a loaded machine). Once that turn runs, the
 * spare waits for it to end.
 */
const SPARE_PROMPT_WAIT_MS = 1_000;

/** How often a spare waiting for the turns to end looks again. */
const SPARE_IDLE_POLL_MS = 25;

/** What the wait looks at. */
export interface SpareWait {
  /** The hub closed: stop waiting. */
  readonly closed: () => boolean;
  /** Whether the first turn of the session just created has started. */
  readonly started: (() => boolean) | undefined;
  /** Whether another session may be about to prompt (a spare was replaced or sessions are live). */
  readonly othersLive: boolean;
  /** Whether any session is busy (turn, tool call, commit). */
  readonly anyBusy: () => boolean;
}

/**
 * Waits until a spare may boot: the just-created session's first turn
 * started (at most {@linkcode SPARE_PROMPT_WAIT_MS}), a short delay when
 * others are live, then no session busy.
 *
 * @param clock The hub's clock.
 * @param w What to look at.
 * @returns When the spare may boot (or the hub closed).
 */
export async function waitToBootSpare(
  clock: Clock,
  w: SpareWait,
): Promise<void> {
  if (w.started !== undefined) {
    const until = clock.now() + SPARE_PROMPT_WAIT_MS;
    while (!w.closed() && !w.started() && clock.now() < until) {
      await clock.sleep(SPARE_IDLE_POLL_MS);
    }
  }
  if (w.othersLive) await clock.sleep(SPARE_DELAY_MS);
  while (!w.closed() && w.anyBusy()) await clock.sleep(SPARE_IDLE_POLL_MS);
}
