/**
 * Helpers for model provider capsules (the capsules answering
 * `llm.v1.request.generate.<provider>`): {@linkcode openProviderStream}
 * opens the streamed API call with bounded retries (429 honouring
 * `retry-after`, 5xx, a failed connection) and turns an API error body into
 * a {@linkcode ProviderError}; {@linkcode LlmStreamBuilder} publishes every
 * {@linkcode LlmStreamEvent} on `llm.v1.stream.<provider>` as it arrives and
 * assembles the final {@linkcode LlmResponse}.
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
import { host, HostCallError, type HttpStream } from "./host.ts";
import type { HostParams } from "./host_abi.ts";
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

/**
 * A provider could not answer: the API refused or failed (after bounded
 * retries), or its stream was cut. `code` is always `PROVIDER_FAILED`, and
 * the message starts with it (the kernel reports a guest's exception as
 * `CAPSULE_FAILED` with the exception's text).
 *
 * @example
 * ```ts
 * import { ProviderError } from "./provider.ts";
 * const err = new ProviderError("openai API returned 401: bad key", { status: 401 });
 * console.assert(err.code === "PROVIDER_FAILED" && err.status === 401);
 * console.assert(err.message.startsWith("PROVIDER_FAILED: "));
 * ```
 */
export class ProviderError extends Error {
  /** Always `PROVIDER_FAILED`. */
  readonly code: "PROVIDER_FAILED" = "PROVIDER_FAILED";
  /** The API's HTTP status, when it answered with an error. */
  readonly status: number | null;

  /**
   * Creates the error a provider throws.
   *
   * @param message What failed.
   * @param options The API's status and the cause.
   */
  constructor(
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(
      `PROVIDER_FAILED: ${message}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = "ProviderError";
    this.status = options.status ?? null;
  }
}

/** Options of {@linkcode openProviderStream}. */
export interface ProviderStreamOptions {
  /** The provider name (for messages). */
  readonly provider: string;
  /** Attempts in all (default 3): a 429, a 5xx or a failed connection is retried. */
  readonly attempts?: number;
  /** First backoff (ms, default 250), doubled each retry; `retry-after` wins. */
  readonly baseDelayMs?: number;
  /** Longest wait before a retry (ms, default 30 000). */
  readonly maxDelayMs?: number;
  /** Opens the stream (default `host.http.stream`). */
  readonly open?: (
    params: HostParams<"http_stream_open">,
  ) => Promise<HttpStream>;
  /** Waits (default `host.clock.sleep`). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const ERROR_BODY_MAX = 64 * 1024;

/**
 * The message of an API error body: `error.message` (Anthropic, OpenAI),
 * `error` as a string (Ollama), `message`, or the start of the raw text.
 *
 * @param body The error response's body.
 * @returns A one-line message.
 *
 * @example
 * ```ts
 * import { apiErrorMessage } from "./provider.ts";
 * const body = '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}';
 * console.assert(apiErrorMessage(body) === "authentication_error: invalid x-api-key");
 * console.assert(apiErrorMessage('{"error":"model not found"}') === "model not found");
 * ```
 */
export function apiErrorMessage(body: string): string {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const e = v?.["error"];
    if (typeof e === "string") return e;
    if (e && typeof e === "object") {
      const o = e as Record<string, unknown>;
      if (typeof o["message"] === "string") {
        const kind = typeof o["type"] === "string" ? `${o["type"]}: ` : "";
        return `${kind}${o["message"]}`;
      }
    }
    if (typeof v?.["message"] === "string") return v["message"] as string;
  } catch {
    // silent-ok: not JSON; the raw text is quoted below
  }
  const text = body.trim().replace(/\s+/g, " ");
  return text === "" ? "(empty body)" : text.slice(0, 500);
}

async function drain(stream: HttpStream): Promise<string> {
  let text = "";
  try {
    for await (const chunk of stream.chunks()) {
      text += chunk;
      if (text.length > ERROR_BODY_MAX) break;
    }
  } catch {
    // silent-ok: the status is the error; the body is only its explanation
  }
  await stream.close().catch(() => {/* silent-ok: already closed */});
  return text;
}

function retryAfterMs(
  headers: Readonly<Record<string, string>>,
): number | null {
  const v = headers["retry-after"];
  if (v === undefined) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * Opens a provider's streamed API call. A 429 (after its `retry-after`, or
 * a backoff), a 5xx and a failed connection are retried up to `attempts`
 * in all; any other error status, or the last failure, becomes a
 * {@linkcode ProviderError} carrying the API's own message.
 *
 * @param params The request (`{{secret:NAME}}` placeholders in header
 *   values are substituted by the kernel; the capsule never sees the key).
 * @param options Provider name, attempts, backoff.
 * @returns The open stream of a 2xx response.
 * @throws {ProviderError} When the API keeps failing or refuses; also when
 *   the kernel refuses the request (the message names the kernel's code).
 *
 * @example Retry once after a 429
 * ```ts
 * import { openProviderStream } from "./provider.ts";
 * import type { HttpStream } from "./host.ts";
 * const answer = (status: number, headers: Record<string, string>): HttpStream => ({
 *   status, headers,
 *   async *chunks() { yield status === 200 ? "data: ok\n\n" : '{"error":"slow down"}'; },
 *   close: () => Promise.resolve(),
 * });
 * const statuses = [429, 200];
 * const waits: number[] = [];
 * const stream = await openProviderStream({ url: "https://api.example.com/v1" }, {
 *   provider: "example",
 *   open: () => Promise.resolve(answer(statuses.shift()!, { "retry-after": "2" })),
 *   sleep: (ms) => (waits.push(ms), Promise.resolve()),
 * });
 * console.assert(stream.status === 200 && waits[0] === 2000);
 * ```
 */
export async function openProviderStream(
  params: HostParams<"http_stream_open">,
  options: ProviderStreamOptions,
): Promise<HttpStream> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 30_000;
  const open = options.open ?? host.http.stream;
  const sleep = options.sleep ?? host.clock.sleep;
  const who = options.provider;
  for (let attempt = 1;; attempt++) {
    const last = attempt >= attempts;
    const backoff = Math.min(max, base * 2 ** (attempt - 1));
    let stream: HttpStream;
    try {
      stream = await open(params);
    } catch (err) {
      const code = err instanceof HostCallError ? err.code : "";
      if (code === "HOST_IO" && !last) {
        await sleep(backoff);
        continue;
      }
      throw new ProviderError(
        `${who}: the request failed${code ? ` (${code})` : ""}: ${
          err instanceof Error ? err.message : String(err)
        }`,
        { cause: err },
      );
    }
    if (stream.status >= 200 && stream.status < 300) return stream;
    const retryable = stream.status === 429 || stream.status >= 500;
    const body = await drain(stream);
    if (retryable && !last) {
      await sleep(Math.min(max, retryAfterMs(stream.headers) ?? backoff));
      continue;
    }
    throw new ProviderError(
      `${who} API returned ${stream.status}${
        retryable ? ` after ${attempts} attempts` : ""
      }: ${apiErrorMessage(body)}`,
      { status: stream.status },
    );
  }
}

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
 * import { LlmStreamBuilder } from "./provider.ts";
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
