/**
 * {@linkcode BudgetLedger}: per-action, session and workspace spending limits
 * over the Store, with atomic dual reservations.
 *
 * Security model: a reservation is one optimistic store transaction that
 * reads the session spend and the workspace spend, checks both limits and
 * writes both increments together, so concurrent reservations — in this
 * process or another one sharing the store — can never overshoot a limit,
 * and a failed reservation writes nothing (no two-phase refund). Spend is
 * persisted, so a restart does not reset it; a reservation neither committed
 * nor refunded before a crash stays counted (fail-secure). Session spend is
 * keyed by (principal, session) and workspace spend by (principal, BLAKE3 of
 * the workspace root), so principals never share a budget.
 *
 * Speed: the ledger remembers the spend it last read or wrote per key, with
 * its versionstamp, and grants a reservation on those with one commit that
 * *checks* both versionstamps — the transaction's own guarantee (if anyone
 * spent or refunded since, the check fails and the reservation runs as the
 * transaction, reading first). A refusal is only ever decided on a fresh read.
 *
 * @module
 */
import { LruMap } from "../core/lru_map.ts";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { Clock, Logger } from "../core/ports.ts";
import { blake3Hex } from "../crypto/blake3.ts";
import type { Store, StoreEntry, StoreKey } from "../store/store.ts";
import { keyId } from "../store/store_key.ts";
import {
  type BudgetDenial,
  budgetDenialMessage,
  type BudgetLimits,
  type BudgetSnapshot,
  type BudgetWarning,
  checkBudgetLimits,
  isMicros,
} from "./budget.ts";
import { LedgerReservation, type Reservation } from "./budget_reservation.ts";
import type { GateContext } from "./context.ts";

/** Store namespace of session spend: `[ns, principal, session]`. */
export const SESSION_SPEND_NAMESPACE = "budget:session";
/** Store namespace of workspace spend: `[ns, principal, blake3(workspace)]`. */
export const WORKSPACE_SPEND_NAMESPACE = "budget:workspace";

/** Ports of a {@linkcode BudgetLedger}. */
export interface BudgetLedgerDeps {
  /** Where spend is persisted. */
  readonly store: Store;
  /** Stamps `updated_at`. */
  readonly clock: Clock;
  /** Told when a refund triggered by an abort signal fails. */
  readonly logger?: Logger;
}

/** Options of {@linkcode BudgetLedger.reserve}. */
export interface ReserveOptions {
  /**
   * Cancels the reservation: before it is written ⇒ `ABORTED`; after, while
   * the reservation is pending ⇒ the money is refunded.
   */
  readonly signal?: AbortSignal;
}

/** A granted reservation. */
export interface BudgetGrant {
  /** `true`: reserved. */
  readonly ok: true;
  /** The handle to commit or refund. */
  readonly reservation: Reservation;
  /** Present when a cap crossed its warning threshold. */
  readonly warning?: BudgetWarning;
}

/** What {@linkcode BudgetLedger.reserve} returns. */
export type BudgetReserveResult = BudgetGrant | BudgetDenial;

/** Spend keys remembered at most (the least recently used go). */
const SEEN_KEYS = 256;

/** A key's spend as last read or written, and its versionstamp. */
interface Seen {
  readonly spent: number;
  /** `null`: the key was absent. */
  readonly versionstamp: string | null;
}

interface Keys {
  readonly session: StoreKey;
  readonly workspace: StoreKey;
  readonly workspaceRoot: string;
}

type Outcome = { readonly ok: true; readonly warning?: BudgetWarning } | {
  readonly ok: false;
  readonly reason: "session" | "workspace";
  readonly available: number;
};

/**
 * Enforces spending limits with atomic, persisted reservations.
 *
 * @example Reserve, then commit or refund
 * ```ts
 * import assert from "node:assert/strict";
 * import { BudgetLedger } from "./budget_ledger.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { FakeClock } from "../testing/fake_clock.ts";
 * import type { GateContext } from "./context.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const ledger = new BudgetLedger({ store, clock: new FakeClock(0) }, {
 *   perActionMicros: 2_000_000, sessionMaxMicros: 3_000_000,
 *   workspaceMaxMicros: null, warnAtPercent: 80,
 * });
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const first = await ledger.reserve(ctx, 2_000_000);
 * assert.ok(first.ok);
 * first.reservation.commit();
 * const second = await ledger.reserve(ctx, 1_500_000);
 * assert.ok(!second.ok);
 * assert.equal(second.message, "budget exceeded (session budget): requested $1.50, available $1.00");
 * ```
 */
export class BudgetLedger {
  #store: Store;
  #clock: Clock;
  #logger: Logger | undefined;
  #limits: BudgetLimits;
  /** Spend last read or written per key (see the module doc: speed). */
  #seen = new LruMap<Seen>(SEEN_KEYS);

  /**
   * Creates a ledger.
   *
   * @param deps The store, the clock and an optional logger.
   * @param limits The limits, in micro-dollars.
   * @throws {RangeError} When a limit is not a non-negative safe integer.
   */
  constructor(deps: BudgetLedgerDeps, limits: BudgetLimits) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#limits = checkBudgetLimits(limits);
  }

  /** The limits in force. */
  get limits(): BudgetLimits {
    return this.#limits;
  }

  /**
   * Reserves `costMicros` against the per-action limit, the session budget
   * and the workspace budget, atomically. A cost of `0` is a no-op: it is
   * always granted, writes nothing and never warns. Exactly reaching a cap
   * is allowed (with a warning when the threshold is below 100 %).
   *
   * @param ctx Whose session and workspace pay.
   * @param costMicros The estimated cost: a non-negative safe integer.
   * @param options Cancellation (before the write ⇒ `ABORTED`; after ⇒ refund).
   * @returns `{ok: true, reservation, warning?}` or a refusal
   * `{ok: false, reason, requested, available, message}` (nothing recorded).
   * @throws {RangeError} When `costMicros` is negative, fractional, NaN or unsafe.
   * @throws {KernelError} `ABORTED`; `STORE_CONFLICT`, `STORE_UNAVAILABLE`,
   * `INTERNAL` (malformed stored spend).
   */
  async reserve(
    ctx: GateContext,
    costMicros: number,
    options: ReserveOptions = {},
  ): Promise<BudgetReserveResult> {
    if (!isMicros(costMicros)) {
      throw new RangeError(
        `Cannot reserve ${costMicros} micro-dollars: expected a non-negative safe integer`,
      );
    }
    const { signal } = options;
    throwIfAborted(signal, "a budget reservation");
    const limits = this.#limits;
    if (costMicros > limits.perActionMicros) {
      return denial("per_action", costMicros, limits.perActionMicros);
    }
    if (costMicros === 0) {
      return { ok: true, reservation: settledNoop() };
    }
    const keys = spendKeys(ctx);
    const now = this.#clock.now();
    const outcome = await this.#onSeen(keys, costMicros, now, signal) ??
      await this.#reserveRead(keys, costMicros, now, signal);
    if (!outcome.ok) {
      return denial(outcome.reason, costMicros, outcome.available);
    }
    const reservation = new LedgerReservation({
      costMicros,
      refund: () => this.#refund(keys, costMicros),
      signal,
      logger: this.#logger,
    });
    if (signal?.aborted) {
      // Aborted between the commit and here: give the money back and report it.
      await reservation.refund();
      throwIfAborted(signal, "a budget reservation");
    }
    return outcome.warning === undefined
      ? { ok: true, reservation }
      : { ok: true, reservation, warning: outcome.warning };
  }

  /** Reserves on the remembered spend; `undefined`: read it first. */
  async #onSeen(
    keys: Keys,
    cost: number,
    now: number,
    signal: AbortSignal | undefined,
  ): Promise<Outcome | undefined> {
    const s = this.#seen.get(keyId(keys.session));
    const w = this.#seen.get(keyId(keys.workspace));
    if (s === undefined || w === undefined) return undefined;
    const decided = decide(this.#limits, s.spent, w.spent, cost);
    if (!decided.ok) return undefined; // refused only on a fresh read
    throwIfAborted(signal, "a budget reservation");
    const r = await this.#store.atomic()
      .check(keys.session, s.versionstamp)
      .check(keys.workspace, w.versionstamp)
      .set(keys.session, record(s.spent + cost, now))
      .set(keys.workspace, record(w.spent + cost, now, keys.workspaceRoot))
      .commit();
    if (!r.ok) {
      this.#forget(keys);
      return undefined;
    }
    this.#remember(keys.session, s.spent + cost, r.versionstamp);
    this.#remember(keys.workspace, w.spent + cost, r.versionstamp);
    return decided;
  }

  /** Reserves as one transaction that reads the spend first. */
  async #reserveRead(
    keys: Keys,
    cost: number,
    now: number,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    let read: [StoreEntry | null, StoreEntry | null] = [null, null];
    const { value: outcome, versionstamp } = await this.#store.transact(
      async (tx) => {
        const [s = null, w = null] = await tx.getMany([
          keys.session,
          keys.workspace,
        ]);
        read = [s, w];
        const sessionSpent = readSpent(s, keys.session);
        const workspaceSpent = readSpent(w, keys.workspace);
        const decided = decide(
          this.#limits,
          sessionSpent,
          workspaceSpent,
          cost,
        );
        if (decided.ok) {
          tx.set(keys.session, record(sessionSpent + cost, now));
          tx.set(
            keys.workspace,
            record(workspaceSpent + cost, now, keys.workspaceRoot),
          );
        }
        return decided;
      },
      signal === undefined ? {} : { signal },
    );
    const [s, w] = read;
    if (outcome.ok && versionstamp !== null) {
      this.#remember(
        keys.session,
        readSpent(s, keys.session) + cost,
        versionstamp,
      );
      this.#remember(
        keys.workspace,
        readSpent(w, keys.workspace) + cost,
        versionstamp,
      );
    } else this.#rememberRead(keys, s, w);
    return outcome;
  }

  #rememberRead(keys: Keys, s: StoreEntry | null, w: StoreEntry | null): void {
    this.#remember(
      keys.session,
      readSpent(s, keys.session),
      s?.versionstamp ?? null,
    );
    this.#remember(
      keys.workspace,
      readSpent(w, keys.workspace),
      w?.versionstamp ?? null,
    );
  }

  #remember(key: StoreKey, spent: number, versionstamp: string | null): void {
    this.#seen.set(keyId(key), { spent, versionstamp });
  }

  #forget(keys: Keys): void {
    this.#seen.delete(keyId(keys.session));
    this.#seen.delete(keyId(keys.workspace));
  }

  /**
   * Reads the recorded spend of the context's session and workspace.
   *
   * @param ctx Whose session and workspace.
   * @returns The spend and the limits.
   * @throws {KernelError} `STORE_UNAVAILABLE`; `INTERNAL` (malformed stored spend).
   */
  async snapshot(ctx: GateContext): Promise<BudgetSnapshot> {
    const keys = spendKeys(ctx);
    const [s = null, w = null] = await this.#store.getMany([
      keys.session,
      keys.workspace,
    ]);
    this.#rememberRead(keys, s, w);
    return {
      sessionSpentMicros: readSpent(s ?? null, keys.session),
      workspaceSpentMicros: readSpent(w ?? null, keys.workspace),
      limits: this.#limits,
    };
  }

  async #refund(keys: Keys, costMicros: number): Promise<void> {
    this.#forget(keys);
    const now = this.#clock.now();
    await this.#store.transact(async (tx) => {
      const [s, w] = await tx.getMany([keys.session, keys.workspace]);
      const sessionSpent = readSpent(s ?? null, keys.session);
      const workspaceSpent = readSpent(w ?? null, keys.workspace);
      tx.set(keys.session, record(Math.max(0, sessionSpent - costMicros), now));
      tx.set(
        keys.workspace,
        record(
          Math.max(0, workspaceSpent - costMicros),
          now,
          keys.workspaceRoot,
        ),
      );
    });
  }
}

function decide(
  limits: BudgetLimits,
  sessionSpent: number,
  workspaceSpent: number,
  cost: number,
): Outcome {
  const wsMax = limits.workspaceMaxMicros;
  if (wsMax !== null && cost > wsMax - workspaceSpent) {
    return {
      ok: false,
      reason: "workspace",
      available: Math.max(0, wsMax - workspaceSpent),
    };
  }
  const sessionMax = limits.sessionMaxMicros;
  if (cost > sessionMax - sessionSpent) {
    return {
      ok: false,
      reason: "session",
      available: Math.max(0, sessionMax - sessionSpent),
    };
  }
  if (!Number.isSafeInteger(workspaceSpent + cost)) {
    throw new RangeError("Cannot record spend beyond the safe integer range");
  }
  const pct = limits.warnAtPercent;
  const sessionAfter = sessionSpent + cost;
  if (sessionAfter * 100 >= sessionMax * pct) {
    const percentUsed = (sessionAfter * 100) / sessionMax;
    return { ok: true, warning: { scope: "session", percentUsed } };
  }
  const wsAfter = workspaceSpent + cost;
  if (wsMax !== null && wsAfter * 100 >= wsMax * pct) {
    const percentUsed = (wsAfter * 100) / wsMax;
    return { ok: true, warning: { scope: "workspace", percentUsed } };
  }
  return { ok: true };
}

function denial(
  reason: BudgetDenial["reason"],
  requested: number,
  available: number,
): BudgetDenial {
  const message = budgetDenialMessage(reason, requested, available);
  return { ok: false, reason, requested, available, message };
}

/** The last workspace root hashed, and its hash (one kernel, one root). */
let hashed: { readonly root: string; readonly hex: string } | undefined;

function workspaceHash(root: string): string {
  if (hashed?.root !== root) hashed = { root, hex: blake3Hex(root) };
  return hashed.hex;
}

function spendKeys(ctx: GateContext): Keys {
  return {
    session: [SESSION_SPEND_NAMESPACE, ctx.principal, ctx.session],
    workspace: [
      WORKSPACE_SPEND_NAMESPACE,
      ctx.principal,
      workspaceHash(ctx.workspace),
    ],
    workspaceRoot: ctx.workspace,
  };
}

function readSpent(entry: StoreEntry | null, key: StoreKey): number {
  if (entry === null) return 0;
  const value = entry.value;
  const spent = typeof value === "object" && value !== null &&
      !(value instanceof Uint8Array) && !Array.isArray(value)
    ? (value as Record<string, unknown>)["spent_micros"]
    : undefined;
  if (!isMicros(spent)) {
    throw new KernelError(
      "INTERNAL",
      `Cannot read the budget spend under ${
        JSON.stringify(key[0])
      } as the stored record is malformed`,
    );
  }
  return spent;
}

function record(
  spent: number,
  now: number,
  workspace?: string,
): { spent_micros: number; updated_at: number; workspace?: string } {
  return workspace === undefined
    ? { spent_micros: spent, updated_at: now }
    : { spent_micros: spent, updated_at: now, workspace };
}

function settledNoop(): Reservation {
  return new LedgerReservation({
    costMicros: 0,
    refund: () => Promise.resolve(),
  });
}
