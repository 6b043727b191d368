/**
 * The part of a model provider capsule that talks to the bus:
 * {@linkcode LlmStreamBuilder} publishes every {@linkcode LlmStreamEvent} on
 * `llm.v1.stream.<provider>` as it arrives and assembles the final
 * {@linkcode LlmResponse}.
 *
 * Malformed tool-call arguments: the `tool_use` block gets `input: {}`
 * (see {@linkcode parseToolArguments}) and a text block right after it tells
 * the model what happened and quotes the start of what it sent, so the
 * conversation history shows the model its mistake on the next call; the
 * orchestrator runs the tool with `{}`, whose own validation error comes
 * back as the tool result.
 *
 * @module
 */
import { host } from "./host.ts";
import { llmStreamTopic } from "./agent.ts";
import {
  type LlmRequest,
  type LlmResponse,
  type LlmStreamEvent,
  type LlmStreamMessage,
  parseToolArguments,
  type StopReason,
  type TextBlock,
  type ToolUseBlock,
  type Usage,
} from "./llm.ts";
import { ProviderError } from "./provider.ts";

interface ToolState {
  readonly id: string;
  readonly name: string;
  args: string;
  ended: boolean;
}

/**
 * Publishes a model call's events on `llm.v1.stream.<provider>` as they
 * arrive and assembles the {@linkcode LlmResponse}: text deltas join the
 * text block they continue, tool calls become `tool_use` blocks in the
 * order they started, with their streamed arguments parsed at the end.
 *
 * @example Assemble a response (publishing to a list instead of the bus)
 * ```ts
 * import { LlmStreamBuilder } from "./llm_stream_builder.ts";
 * const seen: string[] = [];
 * const b = new LlmStreamBuilder(
 *   { request_id: "r1", session_id: "s1", model: "", system: "", messages: [], tools: [] },
 *   { provider: "example", publish: (m) => (seen.push(m.event.type), Promise.resolve()) },
 * );
 * await b.text("Reading ");
 * await b.toolStart("c1", "read_file");
 * await b.toolDelta("c1", '{"path":');
 * await b.toolDelta("c1", '"a.txt"}');
 * b.usage({ input_tokens: 10, output_tokens: 3 });
 * const res = await b.finish("tool_use", "m-1");
 * console.assert(res.content.length === 2 && res.content[1]?.type === "tool_use");
 * console.assert(seen.join() === "text_delta,tool_call_start,tool_call_delta,tool_call_delta,tool_call_end,usage,done");
 * ```
 */
export class LlmStreamBuilder {
  readonly #request: LlmRequest;
  readonly #publish: (message: LlmStreamMessage) => Promise<void>;
  readonly #blocks: ({ text: string } | ToolState)[] = [];
  readonly #tools = new Map<string, ToolState>();
  #usage: Usage = { input_tokens: 0, output_tokens: 0 };
  #finished = false;

  /**
   * Starts assembling the answer to `request`.
   *
   * @param request The request being answered (its ids tag every event).
   * @param options The provider name (stream topic) and, for tests, where
   *   to publish (default `host.ipc.publish`).
   */
  constructor(
    request: LlmRequest,
    options: {
      provider: string;
      publish?: (message: LlmStreamMessage) => Promise<void>;
    },
  ) {
    this.#request = request;
    const topic = llmStreamTopic(options.provider);
    this.#publish = options.publish ??
      ((m) => host.ipc.publish(topic, m));
  }

  /** Whether {@linkcode finish} or {@linkcode fail} ran. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * A piece of text.
   * @param delta The text.
   * @returns When published.
   */
  async text(delta: string): Promise<void> {
    if (delta === "") return;
    const last = this.#blocks.at(-1);
    if (last && !("id" in last)) last.text += delta;
    else this.#blocks.push({ text: delta });
    await this.#emit({ type: "text_delta", text: delta });
  }

  /**
   * A tool call starts.
   * @param id The call's id.
   * @param name The tool.
   * @returns When published.
   */
  async toolStart(id: string, name: string): Promise<void> {
    const tool: ToolState = { id, name, args: "", ended: false };
    this.#tools.set(id, tool);
    this.#blocks.push(tool);
    await this.#emit({ type: "tool_call_start", id, name });
  }

  /**
   * A piece of a tool call's JSON arguments.
   * @param id The call's id.
   * @param argsDelta The piece.
   * @returns When published.
   * @throws {ProviderError} For a call that did not start.
   */
  async toolDelta(id: string, argsDelta: string): Promise<void> {
    const tool = this.#tools.get(id);
    if (!tool) {
      throw new ProviderError(`arguments for unknown tool call '${id}'`);
    }
    if (argsDelta === "") return;
    tool.args += argsDelta;
    await this.#emit({ type: "tool_call_delta", id, args_delta: argsDelta });
  }

  /**
   * A tool call's arguments are complete. Idempotent.
   * @param id The call's id.
   * @returns When published.
   */
  async toolEnd(id: string): Promise<void> {
    const tool = this.#tools.get(id);
    if (!tool || tool.ended) return;
    tool.ended = true;
    await this.#emit({ type: "tool_call_end", id });
  }

  /**
   * Records token counts (the given fields replace the earlier ones).
   * @param usage Input and/or output tokens.
   */
  usage(usage: Partial<Usage>): void {
    this.#usage = { ...this.#usage, ...usage };
  }

  /**
   * Ends the call: closes open tool calls, publishes `usage` and `done`.
   *
   * @param stopReason Why the model stopped.
   * @param model The model that answered.
   * @returns The assembled response.
   */
  async finish(stopReason: StopReason, model: string): Promise<LlmResponse> {
    for (const id of this.#tools.keys()) await this.toolEnd(id);
    this.#finished = true;
    await this.#emit({ type: "usage", usage: this.#usage });
    await this.#emit({ type: "done", stop_reason: stopReason });
    return {
      request_id: this.#request.request_id,
      model,
      content: this.#content(),
      stop_reason: stopReason,
      usage: this.#usage,
    };
  }

  /**
   * Fails the call: publishes an `error` event (once), returns the error to
   * throw.
   *
   * @param err What went wrong.
   * @returns A {@linkcode ProviderError} (the same one when `err` is one).
   */
  async fail(err: unknown): Promise<ProviderError> {
    const code = (err as { code?: unknown } | null)?.code;
    const e = err instanceof ProviderError ? err : new ProviderError(
      `${typeof code === "string" ? `${code}: ` : ""}${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
    if (!this.#finished) {
      this.#finished = true;
      await this.#emit({
        type: "error",
        code: e.code,
        message: e.message,
      }).catch(() => {/* silent-ok: the thrown error carries it */});
    }
    return e;
  }

  #content(): (TextBlock | ToolUseBlock)[] {
    const out: (TextBlock | ToolUseBlock)[] = [];
    for (const b of this.#blocks) {
      if (!("id" in b)) {
        out.push({ type: "text", text: b.text });
        continue;
      }
      const parsed = parseToolArguments(b.args);
      out.push({
        type: "tool_use",
        id: b.id,
        name: b.name,
        input: parsed.input,
      });
      if (!parsed.ok) {
        out.push({
          type: "text",
          text:
            `[The arguments of tool call ${b.id} (${b.name}) were not valid JSON, so the call was made with {}. They began: ${
              JSON.stringify(b.args.slice(0, 200))
            }]`,
        });
      }
    }
    return out;
  }

  async #emit(event: LlmStreamEvent): Promise<void> {
    await this.#publish({
      request_id: this.#request.request_id,
      session_id: this.#request.session_id,
      event,
    });
  }
}
