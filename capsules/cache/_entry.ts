/**
 * What the cache stores and replays: the key of a request, the shape check of
 * a provider's answer, and the stream rebuilt from a stored answer.
 *
 * @module
 */
import type { LlmResponse, LlmStreamEvent } from "@astrid/sdk";
import { sha256Hex } from "./_sha256.ts";

/** The request field only the cache's own re-entrant call may carry. */
export const BYPASS_FIELD = "cache";
/** Its value. */
export const BYPASS_VALUE = "bypass";

/** JSON with object keys sorted at every level, so equal requests hash equal. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  const obj = value as Record<string, unknown>;
  const parts = Object.keys(obj).sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${parts.join(",")}}`;
}

/**
 * The cache key of a request for one provider: SHA-256 of the provider name
 * and the canonical request without its `request_id`, the bypass marker and,
 * unless the scope is `session`, its `session_id`. Every other field is
 * kept, unknown ones included, so a field that changes the answer also
 * changes the key.
 *
 * @param provider The provider (the topic's last segment).
 * @param request The request payload.
 * @param scope `global` (sessions share entries) or `session`.
 * @returns 64 hex digits.
 */
export function cacheKey(
  provider: string,
  request: Record<string, unknown>,
  scope: "global" | "session",
): string {
  const rest: Record<string, unknown> = { ...request };
  delete rest.request_id;
  delete rest[BYPASS_FIELD];
  if (scope === "global") delete rest.session_id;
  return sha256Hex(canonicalJson({ provider, request: rest }));
}

/**
 * Whether an answer is a complete, successful {@linkcode LlmResponse} worth
 * storing (an `error` stop is never cached).
 *
 * @param value The provider's answer.
 * @returns Whether to store it.
 */
export function isCacheable(value: unknown): value is LlmResponse {
  const r = value as Partial<LlmResponse> | null;
  if (r === null || typeof r !== "object" || !Array.isArray(r.content)) {
    return false;
  }
  const blocksOk = r.content.every((b) =>
    (b?.type === "text" && typeof b.text === "string") ||
    (b?.type === "tool_use" && typeof b.id === "string" &&
      typeof b.name === "string" && b.input !== null &&
      typeof b.input === "object")
  );
  return blocksOk && typeof r.model === "string" &&
    typeof r.stop_reason === "string" && r.stop_reason !== "error" &&
    typeof r.usage?.input_tokens === "number" &&
    typeof r.usage?.output_tokens === "number";
}

/**
 * The stream events of a stored answer, in the order a provider sends them:
 * one `text_delta` per text block, `tool_call_start`/`tool_call_delta`/
 * `tool_call_end` per tool call (the arguments as one JSON delta), then
 * `usage` and `done`. Rebuilt rather than recorded: deterministic, and a hit
 * replays exactly what the stored answer says.
 *
 * @param response The stored answer.
 * @returns The events.
 */
export function streamOf(response: LlmResponse): LlmStreamEvent[] {
  const out: LlmStreamEvent[] = [];
  for (const block of response.content) {
    if (block.type === "text") {
      if (block.text !== "") out.push({ type: "text_delta", text: block.text });
    } else {
      out.push({ type: "tool_call_start", id: block.id, name: block.name });
      out.push({
        type: "tool_call_delta",
        id: block.id,
        args_delta: JSON.stringify(block.input),
      });
      out.push({ type: "tool_call_end", id: block.id });
    }
  }
  out.push({ type: "usage", usage: response.usage });
  out.push({ type: "done", stop_reason: response.stop_reason });
  return out;
}
