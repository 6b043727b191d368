import assert from "node:assert/strict";
import type { Action } from "./action.ts";
import { actionCostMicros, SAMPLING_PRICE } from "./action_cost.ts";
import { MAX_SAMPLING_PROMPT_CHARS } from "./mcp_request.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

function sample(maxTokens: number, promptChars: number): Action {
  return {
    type: "mcp_sampling",
    server: "s",
    "max_tokens": maxTokens,
    "prompt_chars": promptChars,
  };
}

test("`actionCostMicros()` prices sampling from max_tokens and prompt characters, rounding up", () => {
  // 1 output token at $75/M = 75 µ$; 1 prompt char ⇒ 1 token at $15/M = 15 µ$.
  assert.equal(actionCostMicros(sample(1, 0)), 75);
  assert.equal(actionCostMicros(sample(1, 1)), 90);
  assert.equal(actionCostMicros(sample(1, 4)), 75 + 30);
  assert.equal(actionCostMicros(sample(4096, 3000)), 322_200);
  // The largest request: 1M output tokens ⇒ $75, more than the default $10 per action.
  assert.equal(actionCostMicros(sample(1_000_000, 0)), 75_000_000);
  const most = actionCostMicros(sample(1_000_000, MAX_SAMPLING_PROMPT_CHARS));
  assert.ok(Number.isSafeInteger(most) && most > 75_000_000);
});

test("`actionCostMicros()` grows with every input and is zero for other actions", () => {
  assert.ok(
    actionCostMicros(sample(101, 0)) > actionCostMicros(sample(100, 0)),
  );
  assert.ok(
    actionCostMicros(sample(100, 4)) > actionCostMicros(sample(100, 3)),
  );
  const others: Action[] = [
    { type: "file_read", path: "/ws/a" },
    { type: "mcp_tool_call", server: "s", tool: "t" },
    { type: "mcp_resource_read", server: "s", uri: "m://x" },
    { type: "mcp_elicitation", server: "s", mode: "form", message: "?" },
  ];
  for (const a of others) assert.equal(actionCostMicros(a), 0, a.type);
});

test("`actionCostMicros()` is zero for an invalid sampling request (the policy blocks it)", () => {
  for (
    const a of [sample(0, 0), sample(-10, 0), sample(2e6, 0), sample(10, -1)]
  ) {
    assert.equal(actionCostMicros(a), 0);
  }
});

test("`actionCostMicros()` uses a given price and rejects a price that is not positive integers", () => {
  const price = { ...SAMPLING_PRICE, outputMicrosPer1kTokens: 1000 };
  assert.equal(actionCostMicros(sample(10, 0), { price }), 10);
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(
      () =>
        actionCostMicros(sample(10, 0), {
          price: { ...SAMPLING_PRICE, charsPerToken: bad },
        }),
      RangeError,
    );
  }
  assert.ok(Object.isFrozen(SAMPLING_PRICE));
});
