/**
 * A token bucket per capsule, driven by the Clock port.
 *
 * @module
 */

/** A capsule's publish rate: a sustained rate and a burst. */
export interface RateLimit {
  /** Messages per second, sustained. Positive. */
  readonly perSecond: number;
  /** Messages that may be sent at once after a quiet period. At least 1. */
  readonly burst: number;
}

/**
 * The default per-capsule limit: 1,000 messages per second sustained, bursts
 * of 2,000. Generous for token streaming; the kernel itself is never limited.
 *
 * @example Read the default
 * ```ts
 * import { DEFAULT_RATE_LIMIT } from "./rate_limiter.ts";
 * console.assert(DEFAULT_RATE_LIMIT.burst >= DEFAULT_RATE_LIMIT.perSecond);
 * ```
 */
export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({
  perSecond: 1_000,
  burst: 2_000,
});

/**
 * A token bucket: starts full, refills continuously at `perSecond`, holds at
 * most `burst` tokens; each message takes one. A clock that goes backwards
 * refills nothing.
 *
 * @example Exhaust and refill
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenBucket } from "./rate_limiter.ts";
 * const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, 0);
 * assert.ok(bucket.take(0) && bucket.take(0));
 * assert.ok(!bucket.take(0));
 * assert.ok(bucket.take(100)); // 100 ms at 10/s refills one token
 * ```
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /**
   * Creates a full bucket.
   *
   * @param limit The rate and burst.
   * @param now The current time in ms (Clock port).
   * @throws {RangeError} When the rate is not positive or the burst is below 1.
   */
  constructor(limit: RateLimit, now: number) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError(
        `Cannot use rate limit ${limit.perSecond}/s burst ${limit.burst}: expected a positive rate and a burst of at least 1`,
      );
    }
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#tokens = limit.burst;
    this.#last = now;
  }

  /**
   * Takes one token if there is one.
   *
   * @param now The current time in ms.
   * @returns `true` when the message may go.
   */
  take(now: number): boolean {
    if (now > this.#last) {
      const refilled = this.#tokens + (now - this.#last) * this.#perMs;
      this.#tokens = refilled > this.#burst ? this.#burst : refilled;
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens available now (fractional), for diagnostics. */
  get tokens(): number {
    return this.#tokens;
  }
}
