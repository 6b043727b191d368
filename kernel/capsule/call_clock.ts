/**
 * The two clocks of one guest call. An engine's deadline limits the guest's
 * **own running time** per call (`limits.timeoutMs`); the time the guest
 * spends waiting for the kernel — a host call's gate decision and audit
 * append, a bus request, a model's stream, a human's approval — is counted
 * apart and bounded by the much larger `limits.waitTimeoutMs`.
 *
 * Why: on a busy machine a host call's audit append can take longer than a
 * capsule's whole CPU allowance, and an agent's turn may wait minutes on a
 * model or a person. A wall-clock deadline over both turns load into
 * spurious `CAPSULE_TIMEOUT`s and makes long waits impossible, while a
 * runaway loop must still be stopped promptly.
 *
 * The clock starts running; {@linkcode CallClock.wait} and
 * {@linkcode CallClock.run} switch between the two phases. The engine checks
 * {@linkcode CallClock.expired} while the guest runs (js: the interrupt
 * handler) or arms a timer for {@linkcode CallClock.msLeft} in the current
 * phase (wasm: the worker is terminated).
 *
 * @module
 */

/** Which allowance ran out. */
export type CallClockExpiry = "timeout" | "wait_timeout";

/** Limits of one call. */
export interface CallClockLimits {
  /** The guest's own running time per call, in ms. */
  readonly timeoutMs: number;
  /** Total time the call may spend waiting for the kernel, in ms. */
  readonly waitTimeoutMs: number;
}

/** Default bound on waiting for the kernel within one call: 30 minutes. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30 * 60_000;

/**
 * Running time and waiting time of one call, measured apart.
 *
 * @example
 * ```ts
 * import { CallClock } from "./call_clock.ts";
 * let t = 0;
 * const c = new CallClock({ timeoutMs: 100, waitTimeoutMs: 10_000 }, () => t);
 * t = 60;
 * c.wait();          // 60 ms of running time used
 * t = 5_060;         // 5 s waiting for a host call: not running time
 * c.run();
 * console.assert(c.expired() === undefined && c.msLeft() === 40);
 * t = 5_101;
 * console.assert(c.expired() === "timeout");
 * ```
 */
export class CallClock {
  readonly #now: () => number;
  /** The two allowances of this call. */
  readonly limits: CallClockLimits;
  #runUsed = 0;
  #waitUsed = 0;
  #phase: "run" | "wait" = "run";
  #since: number;

  /**
   * Starts a call, running.
   *
   * @param limits The two allowances.
   * @param now A monotonic millisecond clock (default `performance.now`).
   */
  constructor(limits: CallClockLimits, now: () => number = performance.now) {
    this.limits = limits;
    this.#now = now === performance.now ? () => performance.now() : now;
    this.#since = this.#now();
  }

  /** The current phase. */
  get phase(): "run" | "wait" {
    return this.#phase;
  }

  /** Milliseconds of running time used so far. */
  get runMs(): number {
    return this.#runUsed + (this.#phase === "run" ? this.#elapsed() : 0);
  }

  /** Milliseconds spent waiting so far. */
  get waitMs(): number {
    return this.#waitUsed + (this.#phase === "wait" ? this.#elapsed() : 0);
  }

  /** The guest stops running and waits for the kernel. Idempotent. */
  wait(): void {
    if (this.#phase === "wait") return;
    this.#runUsed += this.#elapsed();
    this.#phase = "wait";
    this.#since = this.#now();
  }

  /** The guest runs again. Idempotent. */
  run(): void {
    if (this.#phase === "run") return;
    this.#waitUsed += this.#elapsed();
    this.#phase = "run";
    this.#since = this.#now();
  }

  /** Milliseconds left in the current phase's allowance (never negative). */
  msLeft(): number {
    const limit = this.#phase === "run"
      ? this.limits.timeoutMs
      : this.limits.waitTimeoutMs;
    const used = this.#phase === "run" ? this.runMs : this.waitMs;
    return Math.max(0, limit - used);
  }

  /** Which allowance is used up, if any (checks the current phase). */
  expired(): CallClockExpiry | undefined {
    if (this.msLeft() > 0) return undefined;
    return this.#phase === "run" ? "timeout" : "wait_timeout";
  }

  #elapsed(): number {
    return this.#now() - this.#since;
  }
}
