/**
 * Shared helpers of the cache and model-router tests: the fake provider
 * fixture capsule, LLM requests, and readers of the stream a watcher saw.
 *
 * @module
 */
import * as path from "node:path";
import type {
  LlmRequest,
  LlmStreamMessage,
  ToolDefinition,
} from "../sdk/mod.ts";
import type { BusEnvelope } from "../kernel/bus/envelope.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { AgentFixture } from "./agent_fixture_test.ts";

/** The deterministic provider fixture (answers as the names in its `providers` env). */
export const FAKE_PROVIDER: string = path.resolve(
  import.meta.dirname ?? ".",
  "fixtures/agent_capsules/fake-provider",
);

/** A tool definition for requests that use tools. */
export const TOOL: ToolDefinition = {
  name: "read_file",
  description: "Reads a file",
  input_schema: { type: "object", properties: { path: { type: "string" } } },
};

/**
 * An LLM request with one user message.
 *
 * @param id The request id.
 * @param text The user's text.
 * @param more Fields to override (session, model, tools, …).
 * @returns The request.
 */
export function llmRequest(
  id: string,
  text: string,
  more: Partial<LlmRequest> & Record<string, unknown> = {},
): LlmRequest {
  return {
    request_id: id,
    session_id: "s1",
    model: "",
    system: "You are terse.",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    tools: [],
    ...more,
  };
}

/**
 * The stream messages a watcher saw for one request.
 *
 * @param seen The watcher's envelopes.
 * @param requestId The request.
 * @returns Their payloads, in order, with the topic.
 */
export function streamOf(
  seen: readonly BusEnvelope[],
  requestId: string,
): (LlmStreamMessage & { topic: string })[] {
  return seen
    .map((e) => ({
      ...(e.payload as unknown as LlmStreamMessage),
      topic: e.topic,
    }))
    .filter((m) => m.request_id === requestId);
}

/**
 * What a stream says: its text, tool calls, usage and stop reason.
 *
 * @param messages One request's stream messages.
 * @returns The assembled content.
 */
export function assembled(messages: readonly LlmStreamMessage[]): {
  text: string;
  tools: { id: string; name: string; args: string }[];
  usage: unknown;
  stop: string | undefined;
} {
  let text = "";
  const tools: { id: string; name: string; args: string }[] = [];
  let usage: unknown;
  let stop: string | undefined;
  for (const { event: e } of messages) {
    if (e.type === "text_delta") text += e.text;
    if (e.type === "tool_call_start") {
      tools.push({ id: e.id, name: e.name, args: "" });
    }
    if (e.type === "tool_call_delta") {
      const t = tools.find((x) => x.id === e.id);
      if (t) t.args += e.args_delta;
    }
    if (e.type === "usage") usage = e.usage;
    if (e.type === "done") stop = e.stop_reason;
  }
  return { text, tools, usage, stop };
}

/**
 * How many times the fake provider answered as each name.
 *
 * @param fx The fixture.
 * @returns Provider name → calls.
 */
export async function providerCalls(
  fx: AgentFixture,
): Promise<Record<string, number>> {
  const s = await fx.runtime.registry.invoke(
    "fake-provider" as CapsuleId,
    "stats",
    {},
  ) as Record<string, { calls: number }>;
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.calls]));
}

/** What the fake provider keeps of the last request it answered. */
export interface LastRequest {
  readonly request_id: string;
  readonly session_id: string;
  readonly model: string;
  /** The names of its tools. */
  readonly tools: readonly string[];
}

/**
 * The last request the fake provider answered as `provider`.
 *
 * @param fx The fixture.
 * @param provider The provider name.
 * @returns Its ids, model and tool names, or `null`.
 */
export async function lastRequest(
  fx: AgentFixture,
  provider: string,
): Promise<LastRequest | null> {
  const s = await fx.runtime.registry.invoke(
    "fake-provider" as CapsuleId,
    "stats",
    {},
  ) as Record<string, { last: LastRequest | null }>;
  return s[provider]?.last ?? null;
}
