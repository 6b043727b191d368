/**
 * The token counts of a model usage report (a provider's `usage` stream
 * event, a sub-agent's answer): reported by capsules, so anything that is not
 * a non-negative safe integer counts as 0.
 *
 * @module
 */

/** Tokens in and out. */
export interface UsageTokens {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/**
 * Reads the token counts of a usage report.
 *
 * @param usage The report (any value).
 * @returns Its input and output tokens; malformed counts are 0.
 *
 * @example A malformed count is 0
 * ```ts
 * import { usageTokens } from "./usage_tokens.ts";
 * const u = usageTokens({ input_tokens: 5, output_tokens: -1 });
 * console.assert(u.input_tokens === 5 && u.output_tokens === 0);
 * ```
 */
export function usageTokens(usage: unknown): UsageTokens {
  const u = typeof usage === "object" && usage !== null && !Array.isArray(usage)
    ? usage as Record<string, unknown>
    : {};
  const n = (v: unknown) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  return {
    input_tokens: n(u["input_tokens"]),
    output_tokens: n(u["output_tokens"]),
  };
}
