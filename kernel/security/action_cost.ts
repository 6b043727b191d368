/**
 * What an action costs at least, whatever its caller estimates: the gate
 * reserves `max(estimatedCostMicros, actionCostMicros(action))`. Only
 * `mcp_sampling` has a cost of its own — an MCP server spending the user's
 * LLM budget — and it is priced here, in one place.
 *
 * Security model: the estimate is deliberately high so a server cannot spend
 * more than it reserved. There is no per-token price in the configuration,
 * so {@linkcode SAMPLING_PRICE} uses list prices of the dearest frontier
 * models ($15 per million input tokens, $75 per million output tokens) and
 * counts a token per 3 prompt characters (English averages about 4). Every
 * requested output token is charged (`max_tokens`, not what the model
 * ends up writing), and the reservation is committed in full when the call
 * succeeds. With the default per-action limit ($10) a request for more than
 * about 133,000 tokens is refused with `BUDGET_EXCEEDED`.
 *
 * @module
 */
import type { Action } from "./action.ts";
import { mcpRequestProblem } from "./mcp_request.ts";

/** The price the gate assumes for one sampling request. */
export interface SamplingPrice {
  /** Micro-dollars per 1,000 prompt tokens. */
  readonly inputMicrosPer1kTokens: number;
  /** Micro-dollars per 1,000 output tokens. */
  readonly outputMicrosPer1kTokens: number;
  /** Prompt characters counted as one token (rounded up). */
  readonly charsPerToken: number;
}

/** The conservative default: $15 / $75 per million tokens, 3 characters a token. */
export const SAMPLING_PRICE: SamplingPrice = Object.freeze({
  inputMicrosPer1kTokens: 15_000,
  outputMicrosPer1kTokens: 75_000,
  charsPerToken: 3,
});

/** Options of {@linkcode actionCostMicros}. */
export interface ActionCostOptions {
  /** The sampling price; {@linkcode SAMPLING_PRICE} when absent. */
  readonly price?: SamplingPrice;
}

/**
 * The least the gate reserves for an action, in micro-dollars: for a valid
 * `mcp_sampling`, `ceil((ceil(prompt_chars / charsPerToken) × input +
 * max_tokens × output) / 1000)`; `0` for every other action, and for an
 * invalid sampling request (the policy blocks it before any reservation).
 *
 * @param action The action.
 * @param options The sampling price.
 * @returns Micro-dollars, a non-negative safe integer.
 * @throws {RangeError} When the price is not made of positive safe integers.
 *
 * @example A 4,096-token sampling request with a 3,000-character prompt
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionCostMicros } from "./action_cost.ts";
 * const sampling = { type: "mcp_sampling", server: "s", "max_tokens": 4096, "prompt_chars": 3000 } as const;
 * assert.equal(actionCostMicros(sampling), 15_000 + 307_200); // $0.3222
 * assert.equal(actionCostMicros({ type: "file_read", path: "/ws/a" }), 0);
 * ```
 */
export function actionCostMicros(
  action: Action,
  options: ActionCostOptions = {},
): number {
  if (action.type !== "mcp_sampling" || mcpRequestProblem(action) !== null) {
    return 0;
  }
  const price = options.price ?? SAMPLING_PRICE;
  for (const [name, value] of Object.entries(price)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot price sampling with ${name} = ${value}: expected a positive integer`,
      );
    }
  }
  const inputTokens = Math.ceil(action.prompt_chars / price.charsPerToken);
  const thousandths = inputTokens * price.inputMicrosPer1kTokens +
    action.max_tokens * price.outputMicrosPer1kTokens;
  const micros = Math.ceil(thousandths / 1000);
  if (!Number.isSafeInteger(micros)) {
    throw new RangeError(
      `Cannot price a sampling request of ${action.max_tokens} tokens: the cost overflows`,
    );
  }
  return micros;
}
