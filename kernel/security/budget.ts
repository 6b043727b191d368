/**
 * Budget vocabulary: limits, results and money formatting. Amounts are
 * integer micro-dollars (1 USD = 1_000_000 µ$) so sums never drift.
 *
 * The ledger that enforces the limits is {@linkcode BudgetLedger} in
 * `budget_ledger.ts`; the handle of one reservation is in
 * `budget_reservation.ts`.
 *
 * @module
 */
import type { BudgetConfig } from "../config/astrid_config.ts";
import { KernelError } from "../core/errors.ts";

/** Micro-dollars in one US dollar. */
export const MICROS_PER_USD = 1_000_000;

/**
 * The limits a {@linkcode BudgetLedger} enforces, in micro-dollars.
 * `workspaceMaxMicros: null` means the workspace is uncapped (its spend is
 * still recorded). A limit of `0` allows no spending at all.
 */
export interface BudgetLimits {
  /** The most one action may cost. */
  readonly perActionMicros: number;
  /** The most one session (of one principal) may spend. */
  readonly sessionMaxMicros: number;
  /** The most one workspace (of one principal) may spend; `null` = uncapped. */
  readonly workspaceMaxMicros: number | null;
  /** Warn once this percentage (0–100) of a cap is used. */
  readonly warnAtPercent: number;
}

/** Which budget a spend counts against. */
export type BudgetScope = "session" | "workspace";

/** Which limit refused a reservation. */
export type BudgetDenialReason = "per_action" | BudgetScope;

/** A warning that a cap is nearly used up (the reservation still succeeded). */
export interface BudgetWarning {
  /** The cap that crossed its warning threshold (session wins over workspace). */
  readonly scope: BudgetScope;
  /** Spend after this reservation, as a percentage of the cap (may be fractional). */
  readonly percentUsed: number;
}

/** A refused reservation: nothing was recorded. */
export interface BudgetDenial {
  /** `false`: refused. */
  readonly ok: false;
  /** The limit that refused. */
  readonly reason: BudgetDenialReason;
  /** The requested cost, in micro-dollars. */
  readonly requested: number;
  /** What that limit still allows, in micro-dollars (never negative). */
  readonly available: number;
  /** E.g. "budget exceeded (session budget): requested $2.50, available $1.00". */
  readonly message: string;
}

/** What {@linkcode BudgetLedger.snapshot} reports. */
export interface BudgetSnapshot {
  /** Spend recorded for the context's session. */
  readonly sessionSpentMicros: number;
  /** Spend recorded for the context's workspace. */
  readonly workspaceSpentMicros: number;
  /** The ledger's limits. */
  readonly limits: BudgetLimits;
}

const REASON_LABELS: Readonly<Record<BudgetDenialReason, string>> = {
  "per_action": "per-action limit",
  session: "session budget",
  workspace: "workspace budget",
};

/**
 * Converts US dollars (as configured) to integer micro-dollars, rounding to
 * the nearest micro-dollar.
 *
 * @param usd A finite, non-negative amount of dollars.
 * @returns Micro-dollars.
 * @throws {RangeError} When `usd` is negative, NaN, infinite or too large.
 *
 * @example Convert a configured cap
 * ```ts
 * import assert from "node:assert/strict";
 * import { usdToMicros } from "./budget.ts";
 * assert.equal(usdToMicros(2.5), 2_500_000);
 * assert.equal(usdToMicros(0.1 + 0.2), 300_000);
 * ```
 */
export function usdToMicros(usd: number): number {
  const micros = Math.round(usd * MICROS_PER_USD);
  if (!Number.isFinite(usd) || usd < 0 || !Number.isSafeInteger(micros)) {
    throw new RangeError(
      `Cannot convert ${usd} USD to micro-dollars: expected a finite, non-negative amount`,
    );
  }
  return micros;
}

/**
 * Formats micro-dollars as dollars: two decimals for whole cents
 * (`$2.50`), up to six for smaller amounts (`$0.0025`).
 *
 * @param micros An integer amount of micro-dollars.
 * @returns The amount with a leading `$` (and `-` when negative).
 * @throws {RangeError} When `micros` is not a safe integer.
 *
 * @example Format amounts
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatUsd } from "./budget.ts";
 * assert.equal(formatUsd(2_500_000), "$2.50");
 * assert.equal(formatUsd(2_500), "$0.0025");
 * ```
 */
export function formatUsd(micros: number): string {
  if (!Number.isSafeInteger(micros)) {
    throw new RangeError(
      `Cannot format ${micros} micro-dollars: expected a safe integer`,
    );
  }
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  const dollars = Math.trunc(abs / MICROS_PER_USD);
  const fraction = String(abs % MICROS_PER_USD).padStart(6, "0");
  const shown = fraction.endsWith("0000")
    ? fraction.slice(0, 2)
    : fraction.replace(/0+$/, "");
  return `${sign}$${dollars}.${shown}`;
}

/**
 * Builds the human message of a refusal.
 *
 * @param reason The limit that refused.
 * @param requested The requested micro-dollars.
 * @param available What the limit still allows, in micro-dollars.
 * @returns E.g. "budget exceeded (per-action limit): requested $12.00, available $10.00".
 *
 * @example Describe a refusal
 * ```ts
 * import assert from "node:assert/strict";
 * import { budgetDenialMessage } from "./budget.ts";
 * assert.equal(
 *   budgetDenialMessage("session", 2_500_000, 1_000_000),
 *   "budget exceeded (session budget): requested $2.50, available $1.00",
 * );
 * ```
 */
export function budgetDenialMessage(
  reason: BudgetDenialReason,
  requested: number,
  available: number,
): string {
  return `budget exceeded (${REASON_LABELS[reason]}): requested ${
    formatUsd(requested)
  }, available ${formatUsd(available)}`;
}

/**
 * Turns a refusal into the `BUDGET_EXCEEDED` error the gate reports.
 *
 * @param denial The refusal from {@linkcode BudgetLedger.reserve}.
 * @returns A `KernelError` with `data {reason, requested, available}`.
 *
 * @example Report a refusal
 * ```ts
 * import assert from "node:assert/strict";
 * import { budgetExceededError, budgetDenialMessage } from "./budget.ts";
 * const err = budgetExceededError({
 *   ok: false, reason: "workspace", requested: 5, available: 1,
 *   message: budgetDenialMessage("workspace", 5, 1),
 * });
 * assert.equal(err.code, "BUDGET_EXCEEDED");
 * ```
 */
export function budgetExceededError(denial: BudgetDenial): KernelError {
  return new KernelError("BUDGET_EXCEEDED", denial.message, {
    data: {
      reason: denial.reason,
      requested: denial.requested,
      available: denial.available,
    },
  });
}

/**
 * Converts the `[budget]` config section (dollars) into ledger limits
 * (micro-dollars). `warn_at_percent` is clamped to 0–100.
 *
 * @param config The effective `[budget]` values.
 * @returns The limits.
 * @throws {RangeError} When an amount is negative or not finite.
 *
 * @example Defaults of the config schema
 * ```ts
 * import assert from "node:assert/strict";
 * import { budgetLimitsFromConfig } from "./budget.ts";
 * assert.deepEqual(
 *   budgetLimitsFromConfig({ session_max_usd: 100, per_action_max_usd: 10, warn_at_percent: 80 }),
 *   { perActionMicros: 10_000_000, sessionMaxMicros: 100_000_000, workspaceMaxMicros: null, warnAtPercent: 80 },
 * );
 * ```
 */
export function budgetLimitsFromConfig(config: BudgetConfig): BudgetLimits {
  const warn = Number.isFinite(config.warn_at_percent)
    ? Math.min(100, Math.max(0, config.warn_at_percent))
    : 80;
  return {
    perActionMicros: usdToMicros(config.per_action_max_usd),
    sessionMaxMicros: usdToMicros(config.session_max_usd),
    workspaceMaxMicros: config.workspace_max_usd === undefined
      ? null
      : usdToMicros(config.workspace_max_usd),
    warnAtPercent: warn,
  };
}

/**
 * Checks limits given in code (a programmer error otherwise).
 *
 * @param limits The limits to check.
 * @returns The same limits, frozen, with `warnAtPercent` clamped to 0–100.
 * @throws {RangeError} When an amount is not a non-negative safe integer or
 * `warnAtPercent` is NaN.
 *
 * @example Reject a fractional limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBudgetLimits } from "./budget.ts";
 * assert.throws(() => checkBudgetLimits({
 *   perActionMicros: 1.5, sessionMaxMicros: 10, workspaceMaxMicros: null, warnAtPercent: 80,
 * }), RangeError);
 * ```
 */
export function checkBudgetLimits(limits: BudgetLimits): BudgetLimits {
  const amounts: Array<[string, number | null]> = [
    ["perActionMicros", limits.perActionMicros],
    ["sessionMaxMicros", limits.sessionMaxMicros],
    ["workspaceMaxMicros", limits.workspaceMaxMicros],
  ];
  for (const [name, value] of amounts) {
    if (value === null && name === "workspaceMaxMicros") continue;
    if (!isMicros(value)) {
      throw new RangeError(
        `Cannot use ${value} as ${name}: expected a non-negative safe integer of micro-dollars`,
      );
    }
  }
  if (Number.isNaN(limits.warnAtPercent)) {
    throw new RangeError("Cannot use NaN as warnAtPercent");
  }
  return Object.freeze({
    ...limits,
    warnAtPercent: Math.min(100, Math.max(0, limits.warnAtPercent)),
  });
}

/**
 * Tells whether a value is a valid amount of micro-dollars.
 *
 * @param value Anything.
 * @returns `true` for a non-negative safe integer.
 *
 * @example Integers only
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMicros } from "./budget.ts";
 * assert.ok(isMicros(0));
 * assert.ok(!isMicros(0.5));
 * ```
 */
export function isMicros(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value >= 0;
}
