/**
 * provider-anthropic: answers `llm.v1.request.generate.anthropic` with the
 * Anthropic Messages API (`POST /v1/messages`, `stream: true`). Each SSE
 * event becomes an `LlmStreamMessage` on `llm.v1.stream.anthropic` as it
 * arrives; the interceptor returns the assembled `LlmResponse` as `final`.
 *
 * Failures throw a `ProviderError` (`PROVIDER_FAILED`) after an `error`
 * stream event: an API error (its message quoted; 429 and 5xx retried a
 * bounded number of times), an `error` SSE event, or a stream that ends
 * before `message_stop`.
 */
import {
  type ContentBlock,
  defineCapsule,
  type InterceptEvent,
  type LlmRequest,
  type LlmResponse,
  LlmStreamBuilder,
  openProviderStream,
  ProviderError,
  sseEvents,
  type StopReason,
} from "@astrid/sdk";

const PROVIDER = "anthropic";

function wireContent(block: ContentBlock): Record<string, unknown> {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text };
    case "tool_use":
      return {
        type: "tool_use",
        id: block.id,
        name: block.name,
        input: block.input,
      };
    case "tool_result":
      return {
        type: "tool_result",
        tool_use_id: block.tool_use_id,
        content: block.content,
        is_error: block.is_error,
      };
  }
}

function requestBody(
  req: LlmRequest,
  config: Readonly<Record<string, string>>,
): string {
  return JSON.stringify({
    model: req.model || config.ANTHROPIC_MODEL || "claude-sonnet-4-5",
    max_tokens: req.max_tokens ?? (Number(config.ANTHROPIC_MAX_TOKENS) || 4096),
    stream: true,
    ...(req.system ? { system: req.system } : {}),
    messages: req.messages.map((m) => ({
      role: m.role,
      content: m.content.map(wireContent),
    })),
    ...(req.tools.length > 0
      ? {
        tools: req.tools.map((t) => ({
          name: t.name,
          description: t.description,
          input_schema: t.input_schema,
        })),
      }
      : {}),
  });
}

function stopReason(reason: unknown, sawTool: boolean): StopReason {
  switch (reason) {
    case "end_turn":
    case "tool_use":
    case "max_tokens":
    case "stop_sequence":
      return reason;
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
  const base = (config.ANTHROPIC_BASE_URL || "https://api.anthropic.com")
    .replace(/\/+$/, "");
  try {
    const stream = await openProviderStream({
      url: `${base}/v1/messages`,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "x-api-key": "{{secret:ANTHROPIC_API_KEY}}",
        "anthropic-version": "2023-06-01",
      },
      body: requestBody(req, config),
    }, { provider: PROVIDER });
    let model = req.model;
    let stop: unknown = null;
    let sawTool = false;
    /** Content block index → tool call id. */
    const tools = new Map<number, string>();
    for await (const { event, data } of sseEvents(stream.chunks())) {
      if (event === "ping") continue;
      let d: Json;
      try {
        d = JSON.parse(data);
      } catch {
        throw new ProviderError(
          `anthropic sent a '${event}' event that is not JSON`,
        );
      }
      switch (event) {
        case "message_start":
          model = d.message?.model ?? model;
          out.usage({ input_tokens: d.message?.usage?.input_tokens ?? 0 });
          if (typeof d.message?.usage?.output_tokens === "number") {
            out.usage({ output_tokens: d.message.usage.output_tokens });
          }
          break;
        case "content_block_start": {
          const b = d.content_block ?? {};
          if (b.type === "tool_use") {
            sawTool = true;
            tools.set(d.index, String(b.id));
            await out.toolStart(String(b.id), String(b.name));
          } else if (b.type === "text" && b.text) {
            await out.text(String(b.text));
          }
          break;
        }
        case "content_block_delta": {
          const delta = d.delta ?? {};
          if (delta.type === "text_delta") await out.text(String(delta.text));
          else if (delta.type === "input_json_delta") {
            const id = tools.get(d.index);
            if (id !== undefined) {
              await out.toolDelta(id, String(delta.partial_json ?? ""));
            }
          }
          break;
        }
        case "content_block_stop": {
          const id = tools.get(d.index);
          if (id !== undefined) await out.toolEnd(id);
          break;
        }
        case "message_delta":
          if (d.delta?.stop_reason) stop = d.delta.stop_reason;
          if (typeof d.usage?.output_tokens === "number") {
            out.usage({ output_tokens: d.usage.output_tokens });
          }
          if (typeof d.usage?.input_tokens === "number") {
            out.usage({ input_tokens: d.usage.input_tokens });
          }
          break;
        case "message_stop":
          await stream.close();
          return await out.finish(stopReason(stop, sawTool), model);
        case "error":
          throw new ProviderError(
            `anthropic stream error: ${d.error?.type ?? "error"}: ${
              d.error?.message ?? data
            }`,
          );
      }
    }
    throw new ProviderError(
      "anthropic: the stream ended before message_stop (connection cut)",
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
