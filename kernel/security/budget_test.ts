import assert from "node:assert/strict";
import {
  budgetDenialMessage,
  budgetExceededError,
  budgetLimitsFromConfig,
  formatUsd,
  usdToMicros,
} from "./budget.ts";

Deno.test({
  name: "`usdToMicros()` rounds dollars to whole micro-dollars",
  permissions: "none",
  fn() {
    assert.equal(usdToMicros(0), 0);
    assert.equal(usdToMicros(100), 100_000_000);
    assert.equal(usdToMicros(0.1 + 0.2), 300_000);
    assert.equal(usdToMicros(0.0000004), 0);
    for (const bad of [-0.01, Number.NaN, Infinity, 1e12]) {
      assert.throws(() => usdToMicros(bad), RangeError);
    }
  },
});

Deno.test({
  name: "`formatUsd()` shows cents, or more digits below a cent",
  permissions: "none",
  fn() {
    assert.equal(formatUsd(0), "$0.00");
    assert.equal(formatUsd(10_000), "$0.01");
    assert.equal(formatUsd(100_000_000), "$100.00");
    assert.equal(formatUsd(1), "$0.000001");
    assert.equal(formatUsd(-2_500_000), "-$2.50");
    assert.throws(() => formatUsd(0.5), RangeError);
  },
});

Deno.test({
  name:
    "`budgetLimitsFromConfig()` converts dollars, keeps an unset workspace uncapped and clamps the warning percent",
  permissions: "none",
  fn() {
    assert.deepEqual(
      budgetLimitsFromConfig({
        session_max_usd: 2.5,
        per_action_max_usd: 0.25,
        workspace_max_usd: 40,
        warn_at_percent: 140,
      }),
      {
        perActionMicros: 250_000,
        sessionMaxMicros: 2_500_000,
        workspaceMaxMicros: 40_000_000,
        warnAtPercent: 100,
      },
    );
    assert.equal(
      budgetLimitsFromConfig({
        session_max_usd: 1,
        per_action_max_usd: 1,
        warn_at_percent: -3,
      }).warnAtPercent,
      0,
    );
  },
});

Deno.test({
  name: "`budgetExceededError()` carries the code, the message and the amounts",
  permissions: "none",
  fn() {
    const message = budgetDenialMessage("per_action", 12_000_000, 10_000_000);
    const err = budgetExceededError({
      ok: false,
      reason: "per_action",
      requested: 12_000_000,
      available: 10_000_000,
      message,
    });
    assert.equal(err.code, "BUDGET_EXCEEDED");
    assert.equal(
      err.message,
      "budget exceeded (per-action limit): requested $12.00, available $10.00",
    );
    assert.deepEqual(err.data, {
      reason: "per_action",
      requested: 12_000_000,
      available: 10_000_000,
    });
  },
});
