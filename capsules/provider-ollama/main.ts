/**
 * provider-ollama: answers `llm.v1.request.generate.ollama` with Ollama's
 * chat API (`POST {base}/api/chat`, streamed as NDJSON). Each line's
 * `message.content` and `message.tool_calls` (arguments as objects) become
 * `LlmStreamMessage`s on `llm.v1.stream.ollama` as they arrive; the final
 * line (`done: true`) carries `done_reason`, `prompt_eval_count` and
 * `eval_count`. The interceptor returns the assembled `LlmResponse`.
 *
 * Failures throw a `ProviderError` (`PROVIDER_FAILED`) after an `error`
 * stream event: an API error (its message quoted; 429 and 5xx retried a
 * bounded number of times), an `{"error": …}` line, or a stream that ends
 * before `done: true`.
 */
import {
  defineCapsule,
  type InterceptEvent,
  type LlmRequest,
  type LlmResponse,
  LlmStreamBuilder,
  type Message,
  ndjsonLines,
  openProviderStream,
  ProviderError,
  type StopReason,
} from "@astrid/sdk";

const PROVIDER = "ollama";

type WireMessage = Record<string, unknown>;

/** LLM messages as Ollama chat messages (tool results as `tool` messages). */
function wireMessages(system: string, messages: readonly Message[]) {
  const out: WireMessage[] = system
    ? [{ role: "system", content: system }]
    : [];
  const toolNames = new Map<string, string>();
  for (const m of messages) {
    let text = "";
    const calls: WireMessage[] = [];
    for (const b of m.content) {
      if (b.type === "text") text += b.text;
      else if (b.type === "tool_use") {
        toolNames.set(b.id, b.name);
        calls.push({ function: { name: b.name, arguments: b.input } });
      } else {
        out.push({
          role: "tool",
          content: b.is_error ? `Error: ${b.content}` : b.content,
          ...(toolNames.has(b.tool_use_id)
            ? { tool_name: toolNames.get(b.tool_use_id) }
            : {}),
        });
      }
    }
    if (text !== "" || calls.length > 0) {
      out.push({
        role: m.role,
        content: text,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      });
    }
  }
  return out;
}

function requestBody(
  req: LlmRequest,
  config: Readonly<Record<string, string>>,
): string {
  return JSON.stringify({
    model: req.model || config.OLLAMA_MODEL || "llama3.2",
    stream: true,
    messages: wireMessages(req.system, req.messages),
    ...(req.max_tokens !== undefined
      ? { options: { num_predict: req.max_tokens } }
      : {}),
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

function stopReason(doneReason: unknown, sawTool: boolean): StopReason {
  if (sawTool) return "tool_use";
  return doneReason === "length" ? "max_tokens" : "end_turn";
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function generate(
  req: LlmRequest,
  config: Readonly<Record<string, string>>,
): Promise<LlmResponse> {
  const out = new LlmStreamBuilder(req, { provider: PROVIDER });
  const base = (config.OLLAMA_BASE_URL || "http://localhost:11434")
    .replace(/\/+$/, "");
  try {
    const stream = await openProviderStream({
      url: `${base}/api/chat`,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "accept": "application/x-ndjson",
      },
      body: requestBody(req, config),
    }, { provider: PROVIDER });
    let model = req.model || config.OLLAMA_MODEL || "";
    let calls = 0;
    for await (const line of ndjsonLines(stream.chunks())) {
      const d = line as Json;
      if (d?.error) {
        throw new ProviderError(`ollama stream error: ${String(d.error)}`);
      }
      if (typeof d?.model === "string" && d.model) model = d.model;
      const message = d?.message ?? {};
      if (typeof message.content === "string") await out.text(message.content);
      for (const call of message.tool_calls ?? []) {
        const id = String(call.id ?? `call_${calls}`);
        calls++;
        await out.toolStart(id, String(call.function?.name ?? ""));
        const args = call.function?.arguments;
        await out.toolDelta(
          id,
          typeof args === "string" ? args : JSON.stringify(args ?? {}),
        );
        await out.toolEnd(id);
      }
      if (d?.done === true) {
        out.usage({
          input_tokens: Number(d.prompt_eval_count ?? 0),
          output_tokens: Number(d.eval_count ?? 0),
        });
        await stream.close();
        return await out.finish(stopReason(d.done_reason, calls > 0), model);
      }
    }
    throw new ProviderError(
      "ollama: the stream ended before done: true (connection cut)",
    );
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
