/**
 * {@linkcode Reservation}: the handle of money held by
 * {@linkcode BudgetLedger.reserve} until the action either happens
 * (`commit()`) or does not (`refund()`).
 *
 * @module
 */
import type { Logger } from "../core/ports.ts";

/** Where a reservation stands. */
export type ReservationState = "pending" | "committed" | "refunded";

/**
 * Money reserved against a session and a workspace budget. It settles once:
 * after `commit()` a `refund()` does nothing, and after `refund()` (or an
 * abort of the signal given to `reserve()`) a `commit()` does nothing.
 * Both are idempotent. A reservation never settled stays counted: after a
 * crash the money is spent, never silently given back (fail-secure).
 */
export interface Reservation {
  /** The reserved cost, in micro-dollars. */
  readonly costMicros: number;
  /** The current state (`pending` while a refund is still being written). */
  readonly state: ReservationState;
  /**
   * Makes the spend final.
   *
   * @returns `true` when the reservation is committed (now or before),
   * `false` when it was refunded or is being refunded.
   */
  commit(): boolean;
  /**
   * Gives the money back to both budgets (clamped at zero).
   *
   * @returns `true` when the reservation is refunded (now or before),
   * `false` when it was committed.
   * @throws {KernelError} Store errors; the reservation then stays pending
   * so the refund can be retried.
   */
  refund(): Promise<boolean>;
}

/** What the ledger gives a reservation. */
export interface ReservationOptions {
  /** The reserved cost, in micro-dollars. */
  readonly costMicros: number;
  /** Writes the refund to the store. */
  readonly refund: () => Promise<void>;
  /** When it fires before the reservation settles, the money is refunded. */
  readonly signal?: AbortSignal | undefined;
  /** Told when a refund triggered by the signal fails. */
  readonly logger?: Logger | undefined;
}

/**
 * The ledger's implementation of {@linkcode Reservation}.
 *
 * @example A committed reservation cannot be refunded
 * ```ts
 * import assert from "node:assert/strict";
 * import { LedgerReservation } from "./budget_reservation.ts";
 * let refunds = 0;
 * const r = new LedgerReservation({ costMicros: 5, refund: async () => { refunds++; } });
 * assert.equal(r.commit(), true);
 * assert.equal(await r.refund(), false);
 * assert.equal(refunds, 0);
 * ```
 */
export class LedgerReservation implements Reservation {
  /** The reserved cost, in micro-dollars. */
  readonly costMicros: number;
  #state: ReservationState | "refunding" = "pending";
  #refunding: Promise<boolean> | null = null;
  #write: () => Promise<void>;
  #signal: AbortSignal | undefined;
  #logger: Logger | undefined;
  #onAbort = (): void => {
    this.refund().catch((err: unknown) => {
      // Logged, not thrown: nobody awaits an abort listener. The reservation
      // stays pending (the money stays counted) and refund() may be retried.
      this.#logger?.log("warn", "Cannot refund an aborted budget reservation", {
        costMicros: this.costMicros,
        error: err instanceof Error ? err.message : String(err),
      });
    });
  };

  /**
   * Wraps a reservation already written to the store.
   *
   * @param options The cost, the refund writer, the abort signal and a logger.
   */
  constructor(options: ReservationOptions) {
    this.costMicros = options.costMicros;
    this.#write = options.refund;
    this.#signal = options.signal;
    this.#logger = options.logger;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The current state (`pending` while a refund is still being written). */
  get state(): ReservationState {
    return this.#state === "refunding" ? "pending" : this.#state;
  }

  /**
   * Makes the spend final (idempotent).
   *
   * @returns `true` when committed, `false` when refunded or refunding.
   */
  commit(): boolean {
    if (this.#state === "pending") {
      this.#state = "committed";
      this.#detach();
    }
    return this.#state === "committed";
  }

  /**
   * Gives the money back (idempotent; concurrent calls share one write).
   *
   * @returns `true` when refunded, `false` when committed.
   * @throws {KernelError} Store errors; the reservation then stays pending.
   */
  refund(): Promise<boolean> {
    if (this.#state === "committed") return Promise.resolve(false);
    if (this.#state === "refunded") return Promise.resolve(true);
    if (this.#refunding !== null) return this.#refunding;
    this.#state = "refunding";
    this.#detach();
    this.#refunding = this.#write().then(
      () => {
        this.#state = "refunded";
        this.#refunding = null;
        return true;
      },
      (err: unknown) => {
        this.#state = "pending";
        this.#refunding = null;
        if (this.#signal !== undefined && !this.#signal.aborted) {
          this.#signal.addEventListener("abort", this.#onAbort, { once: true });
        }
        throw err;
      },
    );
    return this.#refunding;
  }

  #detach(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
