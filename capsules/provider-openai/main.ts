/**
 * provider-openai: answers `llm.v1.request.generate.openai` with the chat
 * completions API (`POST {base}/v1/chat/completions`, `stream: true`,
 * `stream_options.include_usage`), against OpenAI or any compatible server.
 * Each `data:` chunk's deltas become `LlmStreamMessage`s on
 * `llm.v1.stream.openai` as they arrive; tool calls stream by `index` (id
 * and name in the first delta, argument fragments after). The interceptor
 * returns the assembled `LlmResponse` as `final`.
 *
 * Failures throw a `ProviderError` (`PROVIDER_FAILED`) after an `error`
 * stream event: an API error (its message quoted; 429 and 5xx retried a
 * bounded number of times), an `error` chunk, or a stream that ends before
 * a `finish_reason` / `data: [DONE]`.
 */
import {
  defineCapsule,
  type InterceptEvent,
  type LlmRequest,
  type LlmResponse,
  LlmStreamBuilder,
  type Message,
  openProviderStream,
  ProviderError,
  sseEvents,
  type StopReason,
} from "@astrid/sdk";

const PROVIDER = "openai";

type WireMessage = Record<string, unknown>;

/** LLM messages as chat messages: tool results become `tool` messages. */
function wireMessages(system: string, messages: readonly Message[]) {
  const out: WireMessage[] = system
    ? [{ role: "system", content: system }]
    : [];
  for (const m of messages) {
    let text = "";
    const calls: WireMessage[] = [];
    for (const b of m.content) {
      if (b.type === "text") text += b.text;
      else if (b.type === "tool_use") {
        calls.push({
          id: b.id,
          type: "function",
          function: { name: b.name, arguments: JSON.stringify(b.input) },
        });
      } else {
        out.push({
          role: "tool",
          tool_call_id: b.tool_use_id,
          content: b.is_error ? `Error: ${b.content}` : b.content,
        });
      }
    }
    if (m.role === "assistant") {
      if (text !== "" || calls.length > 0) {
        out.push({
          role: "assistant",
          content: text === "" ? null : text,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        });
      }
    } else if (text !== "") out.push({ role: "user", content: text });
  }
  return out;
}

function requestBody(
  req: LlmRequest,
  config: Readonly<Record<string, string>>,
): string {
  return JSON.stringify({
    model: req.model || config.OPENAI_MODEL || "gpt-4o-mini",
    stream: true,
    stream_options: { include_usage: true },
    messages: wireMessages(req.system, req.messages),
    ...(req.max_tokens !== undefined ? { max_tokens: req.max_tokens } : {}),
    ...(req.tools.length > 0
      ? {
        tools: req.tools.map((t) => ({
          type: "function",
          function: {
            name: t.name,
            description: t.description,
            parameters: t.input_schema,
          },
        })),
      }
      : {}),
  });
}

function stopReason(finish: unknown, sawTool: boolean): StopReason {
  switch (finish) {
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "length":
      return "max_tokens";
    case "stop":
      return sawTool ? "tool_use" : "end_turn";
    default:
      return sawTool ? "tool_use" : "end_turn";
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function generate(
  req: LlmRequest,
  config: Readonly<Record<string, string>>,
): Promise<LlmResponse> {
  const out = new LlmStreamBuilder(req, { provider: PROVIDER });
  const base = (config.OPENAI_BASE_URL || "https://api.openai.com")
    .replace(/\/+$/, "").replace(/\/v1$/, "");
  try {
    const stream = await openProviderStream({
      url: `${base}/v1/chat/completions`,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "authorization": "Bearer {{secret:OPENAI_API_KEY}}",
      },
      body: requestBody(req, config),
    }, { provider: PROVIDER });
    let model = req.model || config.OPENAI_MODEL || "";
    let finish: unknown = null;
    let sawTool = false;
    /** Streamed tool call index → its id. */
    const tools = new Map<number, string>();
    let complete = false;
    for await (const { data } of sseEvents(stream.chunks())) {
      if (data.trim() === "[DONE]") {
        complete = true;
        break;
      }
      let chunk: Json;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new ProviderError("openai sent a data line that is not JSON");
      }
      if (chunk.error) {
        throw new ProviderError(
          `openai stream error: ${
            chunk.error.message ?? JSON.stringify(chunk.error)
          }`,
        );
      }
      if (typeof chunk.model === "string" && chunk.model) model = chunk.model;
      if (chunk.usage) {
        out.usage({
          input_tokens: chunk.usage.prompt_tokens ?? 0,
          output_tokens: chunk.usage.completion_tokens ?? 0,
        });
      }
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === "string") await out.text(delta.content);
      for (const call of delta.tool_calls ?? []) {
        const index = Number(call.index ?? 0);
        let id = tools.get(index);
        if (id === undefined) {
          id = String(call.id ?? `call_${index}`);
          tools.set(index, id);
          sawTool = true;
          await out.toolStart(id, String(call.function?.name ?? ""));
        }
        const args = call.function?.arguments;
        if (typeof args === "string") await out.toolDelta(id, args);
      }
      if (choice.finish_reason) {
        finish = choice.finish_reason;
        for (const id of tools.values()) await out.toolEnd(id);
      }
    }
    await stream.close();
    // Some compatible servers omit `[DONE]`; a finish_reason ends the answer.
    if (!complete && finish === null) {
      throw new ProviderError(
        "openai: the stream ended before finish_reason / [DONE] (connection cut)",
      );
    }
    return await out.finish(stopReason(finish, sawTool), model);
  } catch (err) {
    throw await out.fail(err);
  }
}

export default defineCapsule({
  interceptors: {
    generate: async (event: InterceptEvent<LlmRequest>, ctx) => ({
      type: "final",
      payload: await generate(event.payload, ctx.config),
    }),
  },
});
