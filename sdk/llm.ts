/**
 * The LLM wire types every provider, orchestrator, cache and router speaks on
 * the bus (reference §4.1, snake_case JSON): messages made of content blocks,
 * tool definitions, the request a provider answers, the events it streams as
 * they arrive, and the complete response it returns at the end.
 *
 * The flow: an orchestrator sends an {@linkcode LlmRequest} as a bus request
 * on `llm.v1.request.generate.<provider>`; the provider publishes
 * {@linkcode LlmStreamMessage}s on `llm.v1.stream.<provider>` while the model
 * streams (frontends render them live) and answers the request with the
 * assembled {@linkcode LlmResponse}.
 *
 * @module
 */

/** A piece of text in a message. */
export interface TextBlock {
  /** Discriminator. */
  readonly type: "text";
  /** The text. */
  readonly text: string;
}

/** The model asks to call a tool. */
export interface ToolUseBlock {
  /** Discriminator. */
  readonly type: "tool_use";
  /** The call's id, unique within the turn. */
  readonly id: string;
  /** The tool's name. */
  readonly name: string;
  /** The parsed arguments (`{}` when the model sent malformed JSON). */
  readonly input: Readonly<Record<string, unknown>>;
}

/** The result of a tool call, sent back to the model. */
export interface ToolResultBlock {
  /** Discriminator. */
  readonly type: "tool_result";
  /** The {@linkcode ToolUseBlock.id} this answers. */
  readonly tool_use_id: string;
  /** The result as text. */
  readonly content: string;
  /** Whether the call failed (the text then says why). */
  readonly is_error: boolean;
}

/** One block of a message. */
export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

/** Who wrote a message. Tool results travel in `user` messages. */
export type Role = "user" | "assistant";

/** One message of a conversation. */
export interface Message {
  /** Who wrote it. */
  readonly role: Role;
  /** Its blocks, in order. */
  readonly content: readonly ContentBlock[];
}

/** A tool the model may call. */
export interface ToolDefinition {
  /** 1–64 characters of `[A-Za-z0-9_:-]` (no dots: a name becomes a topic segment). */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** A JSON Schema object describing the arguments. */
  readonly input_schema: Readonly<Record<string, unknown>>;
}

/** Tokens used by one model call. */
export interface Usage {
  /** Prompt tokens. */
  readonly input_tokens: number;
  /** Completion tokens. */
  readonly output_tokens: number;
}

/** Why the model stopped. */
export type StopReason =
  | "end_turn"
  | "tool_use"
  | "max_tokens"
  | "stop_sequence"
  | "error";

/** The request a provider answers (bus request on `llm.v1.request.generate.<provider>`). */
export interface LlmRequest {
  /** Unique per model call; stream events carry it. */
  readonly request_id: string;
  /** The session the call belongs to. */
  readonly session_id: string;
  /** The model id (provider specific); empty = the provider's default. */
  readonly model: string;
  /** The system prompt. */
  readonly system: string;
  /** The conversation so far. */
  readonly messages: readonly Message[];
  /** The tools the model may call. */
  readonly tools: readonly ToolDefinition[];
  /** Upper bound of completion tokens; absent = the provider's default. */
  readonly max_tokens?: number;
}

/** The complete answer of a provider: the assembled message and its usage. */
export interface LlmResponse {
  /** Echo of {@linkcode LlmRequest.request_id}. */
  readonly request_id: string;
  /** The model that answered. */
  readonly model: string;
  /** The assistant's blocks: text and tool calls, in order. */
  readonly content: readonly (TextBlock | ToolUseBlock)[];
  /** Why it stopped. */
  readonly stop_reason: StopReason;
  /** Tokens used. */
  readonly usage: Usage;
}

/** One event of a model stream, as it arrives. */
export type LlmStreamEvent =
  | { readonly type: "text_delta"; readonly text: string }
  | {
    readonly type: "tool_call_start";
    readonly id: string;
    readonly name: string;
  }
  | {
    readonly type: "tool_call_delta";
    readonly id: string;
    readonly args_delta: string;
  }
  | { readonly type: "tool_call_end"; readonly id: string }
  | { readonly type: "usage"; readonly usage: Usage }
  | { readonly type: "done"; readonly stop_reason: StopReason }
  | {
    readonly type: "error";
    readonly code: string;
    readonly message: string;
  };

/** What a provider publishes on `llm.v1.stream.<provider>` for each event. */
export interface LlmStreamMessage {
  /** The model call this event belongs to. */
  readonly request_id: string;
  /** The session of the call (frontends filter on it). */
  readonly session_id: string;
  /** The event. */
  readonly event: LlmStreamEvent;
}

/**
 * The text of a message's text blocks, joined.
 *
 * @param message A message or a response.
 * @returns The concatenated text (empty when there is none).
 *
 * @example
 * ```ts
 * import { type Message, textOf } from "./llm.ts";
 * const message: Message = { role: "assistant", content: [
 *   { type: "text", text: "Hello" }, { type: "text", text: ", world" },
 * ] };
 * const t = textOf(message);
 * console.assert(t === "Hello, world");
 * ```
 */
export function textOf(
  message: { readonly content: readonly ContentBlock[] },
): string {
  let text = "";
  for (const block of message.content) {
    if (block.type === "text") text += block.text;
  }
  return text;
}

/**
 * The tool calls of a message or response, in order.
 *
 * @param message A message or a response.
 * @returns Its `tool_use` blocks.
 *
 * @example
 * ```ts
 * import { toolCallsOf } from "./llm.ts";
 * const calls = toolCallsOf({ content: [
 *   { type: "text", text: "Reading." },
 *   { type: "tool_use", id: "c1", name: "read_file", input: { path: "a.txt" } },
 * ] });
 * console.assert(calls.length === 1 && calls[0]?.name === "read_file");
 * ```
 */
export function toolCallsOf(
  message: { readonly content: readonly ContentBlock[] },
): ToolUseBlock[] {
  return message.content.filter((b): b is ToolUseBlock =>
    b.type === "tool_use"
  );
}

/**
 * Parses a tool call's streamed argument text. Models sometimes send
 * malformed JSON; the call then gets `{}` and `ok: false`, so the
 * orchestrator can tell the model instead of failing the turn.
 *
 * @param text The concatenated `args_delta` text.
 * @returns The arguments object and whether the text parsed as one.
 *
 * @example
 * ```ts
 * import { parseToolArguments } from "./llm.ts";
 * console.assert(parseToolArguments('{"path":"a.txt"}').ok);
 * console.assert(!parseToolArguments('{"path":').ok);
 * console.assert(parseToolArguments("").ok); // no arguments at all is fine
 * ```
 */
export function parseToolArguments(
  text: string,
): { input: Record<string, unknown>; ok: boolean } {
  if (text.trim() === "") return { input: {}, ok: true };
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return { input: value as Record<string, unknown>, ok: true };
    }
  } catch {
    // fall through: malformed
  }
  return { input: {}, ok: false };
}
