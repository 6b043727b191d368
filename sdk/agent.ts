/**
 * The agent protocol on the bus: the topics and payloads the first-party
 * capsules (orchestrator, session, identity, router, tools, providers) use
 * to cooperate, and that a third-party capsule uses to replace any of them.
 *
 * Every exchange is a bus request answered by an interceptor's `final`
 * payload (the chain may transform it on the way: a cache in front of a
 * provider, tool capsules adding their definitions to a describe request):
 *
 * | topic | request → answer |
 * |---|---|
 * | `user.v1.prompt` | {@linkcode TurnRequest} → {@linkcode TurnResult} (the orchestrator) |
 * | `agent.v1.turn_event` | published by the orchestrator: {@linkcode TurnEventMessage} |
 * | `session.v1.request.get_messages` | `{session_id}` → {@linkcode SessionMessages} |
 * | `session.v1.request.append` | {@linkcode SessionAppend} → {@linkcode SessionMessages} (the whole history after the append, as `get_messages` would answer it: possibly compacted; only the appended messages, with `offset`, when the caller named the `tag` of the history it holds and nothing was compacted) |
 * | `session.v1.request.clear` | `{session_id}` → {@linkcode SessionMessages} (empty) |
 * | `spark.v1.request.build` | {@linkcode IdentityRequest} → `{prompt}` |
 * | `tool.v1.request.describe` | `{tools: []}` → {@linkcode ToolDescribeResult} (each tool capsule appends, the router answers) |
 * | `tool.v1.request.execute` | {@linkcode ToolExecuteRequest} → {@linkcode ToolExecuteResult} (the router) |
 * | `tool.v1.execute.<name>` | {@linkcode ToolExecuteRequest} → {@linkcode ToolExecuteResult} (the tool capsule) |
 * | `llm.v1.request.generate.<provider>` | `LlmRequest` → `LlmResponse` (the provider) |
 * | `llm.v1.stream.<provider>` | published by the provider: `LlmStreamMessage` |
 *
 * @module
 */
import type { Message, ToolDefinition, Usage } from "./llm.ts";
import type { ToolCallEvent, ToolResultEvent } from "./turn.ts";

/** Fixed topic names of the agent protocol. */
export interface AgentTopics {
  /** A prompt for the orchestrator: {@linkcode TurnRequest} → {@linkcode TurnResult}. */
  readonly prompt: "user.v1.prompt";
  /** Progress of a turn published by the orchestrator: {@linkcode TurnEventMessage}. */
  readonly turnEvent: "agent.v1.turn_event";
  /** Read a session's history. */
  readonly sessionGet: "session.v1.request.get_messages";
  /** Append messages to a session's history. */
  readonly sessionAppend: "session.v1.request.append";
  /** Clear a session's history. */
  readonly sessionClear: "session.v1.request.clear";
  /** Build the system prompt. */
  readonly identityBuild: "spark.v1.request.build";
  /** Collect every tool's definition. */
  readonly toolDescribe: "tool.v1.request.describe";
  /** Execute a tool by name (the router dispatches it). */
  readonly toolExecute: "tool.v1.request.execute";
  /** Pattern of every model stream. */
  readonly llmStreams: "llm.v1.stream.*";
}

/**
 * The agent protocol's fixed topics.
 *
 * @example
 * ```ts
 * import { AGENT_TOPICS } from "./agent.ts";
 * console.assert(AGENT_TOPICS.prompt === "user.v1.prompt");
 * ```
 */
export const AGENT_TOPICS: AgentTopics = Object.freeze({
  prompt: "user.v1.prompt",
  turnEvent: "agent.v1.turn_event",
  sessionGet: "session.v1.request.get_messages",
  sessionAppend: "session.v1.request.append",
  sessionClear: "session.v1.request.clear",
  identityBuild: "spark.v1.request.build",
  toolDescribe: "tool.v1.request.describe",
  toolExecute: "tool.v1.request.execute",
  llmStreams: "llm.v1.stream.*",
});

/** A prompt for the orchestrator. */
export interface TurnRequest {
  /** Unique per turn. */
  readonly turn_id: string;
  /** The session (history key). */
  readonly session_id: string;
  /** What the user said. */
  readonly text: string;
  /** The provider to use (`llm.v1.request.generate.<provider>`); absent = the orchestrator's configured one. */
  readonly provider?: string;
  /** The model id; absent = the provider's default. */
  readonly model?: string;
  /** Max model calls in the turn; absent = the orchestrator's default. */
  readonly max_iterations?: number;
  /**
   * The tools this agent may call (a sub-agent's narrowed set); absent = all.
   * The orchestrator offers only these; the kernel refuses any other call.
   */
  readonly tools?: readonly string[];
}

/** The orchestrator's answer to a {@linkcode TurnRequest}. */
export interface TurnResult {
  /** The final answer. */
  readonly text: string;
  /** Tokens used by all model calls of the turn. */
  readonly usage: Usage;
  /** How many model calls the turn made. */
  readonly iterations: number;
}

/** Progress of a turn, published by the orchestrator on `agent.v1.turn_event`. */
export interface TurnEventMessage {
  /** The session. */
  readonly session_id: string;
  /** The turn. */
  readonly turn_id: string;
  /** What happened. */
  readonly event: ToolCallEvent | ToolResultEvent;
}

/** A session's history. */
export interface SessionMessages {
  /** The session. */
  readonly session_id: string;
  /**
   * Its messages, oldest first; with `offset`, only the messages from that
   * index on (the history is the caller's first `offset` messages followed
   * by these).
   */
  readonly messages: readonly Message[];
  /**
   * Present only in an answer to an append whose `known` named the stored
   * history (its `tag`), when nothing was compacted: `messages` are just the
   * appended ones, to follow the caller's first `offset` messages.
   */
  readonly offset?: number;
  /**
   * The version of the stored history this answer describes (new with every
   * write); absent when the session keeps no version.
   */
  readonly tag?: string;
}

/** Appends messages to a session's history (`session.v1.request.append`). */
export interface SessionAppend {
  /** The session. */
  readonly session_id: string;
  /** The messages to append, oldest first. */
  readonly messages: readonly Message[];
  /**
   * The `tag` of the history the caller holds (from an earlier answer, with
   * the messages it described). When it still names the stored history and
   * the append compacts nothing, the answer carries only the appended
   * messages (with `offset`) instead of the whole history; otherwise the
   * whole history, without `offset`.
   */
  readonly known?: string;
}

/** Asks the identity capsule for the system prompt. */
export interface IdentityRequest {
  /** The session. */
  readonly session_id: string;
}

/** The answer to `tool.v1.request.describe`. */
export interface ToolDescribeResult {
  /** Every tool, deduplicated by name (first wins). */
  readonly tools: readonly ToolDefinition[];
}

/** A tool call. */
export interface ToolExecuteRequest {
  /** The call's id (the model's tool_use id). */
  readonly call_id: string;
  /** The tool. */
  readonly name: string;
  /** Its arguments. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The session. */
  readonly session_id: string;
  /** The turn, when known. */
  readonly turn_id?: string;
}

/** A tool call's result. */
export interface ToolExecuteResult {
  /** Echo of {@linkcode ToolExecuteRequest.call_id}. */
  readonly call_id: string;
  /** The result as text (JSON for structured results). */
  readonly content: string;
  /** Whether the call failed; `content` then says why. */
  readonly is_error: boolean;
}

const TOOL_NAME = /^[A-Za-z0-9_:-]{1,64}$/;
const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether a string is a valid tool name: 1–64 of `[A-Za-z0-9_:-]`. Dots and
 * wildcards are refused: the name becomes a topic segment, and a name like
 * `a.b` or `*` would reach another topic.
 *
 * @param name The candidate.
 * @returns Whether it is safe to use as a tool name.
 *
 * @example
 * ```ts
 * import { isToolName } from "./agent.ts";
 * console.assert(isToolName("read_file"));
 * console.assert(!isToolName("read_file.result"));
 * console.assert(!isToolName("*"));
 * ```
 */
export function isToolName(name: unknown): name is string {
  return typeof name === "string" && TOOL_NAME.test(name);
}

function checked(value: string, ok: RegExp, what: string): string {
  if (!ok.test(value)) {
    throw new RangeError(
      `Cannot use ${
        JSON.stringify(String(value).slice(0, 80))
      } as ${what}: expected ${ok.source}`,
    );
  }
  return value;
}

/**
 * The topic a tool capsule answers calls of one tool on.
 *
 * @param name The tool's name (see {@linkcode isToolName}).
 * @returns `tool.v1.execute.<name>`.
 * @throws {RangeError} When the name is not a valid tool name.
 *
 * @example
 * ```ts
 * import { toolExecuteTopic } from "./agent.ts";
 * console.assert(toolExecuteTopic("bash") === "tool.v1.execute.bash");
 * ```
 */
export function toolExecuteTopic(name: string): string {
  return `tool.v1.execute.${checked(name, TOOL_NAME, "a tool name")}`;
}

/**
 * The topic a provider answers model requests on.
 *
 * @param provider The provider's name, e.g. `anthropic`, `replay`.
 * @returns `llm.v1.request.generate.<provider>`.
 * @throws {RangeError} When the name is not 1–64 of `[A-Za-z0-9_-]`.
 *
 * @example
 * ```ts
 * import { llmGenerateTopic } from "./agent.ts";
 * console.assert(llmGenerateTopic("replay") === "llm.v1.request.generate.replay");
 * ```
 */
export function llmGenerateTopic(provider: string): string {
  return `llm.v1.request.generate.${
    checked(provider, PROVIDER_NAME, "a provider name")
  }`;
}

/**
 * The topic a provider publishes its stream events on.
 *
 * @param provider The provider's name.
 * @returns `llm.v1.stream.<provider>`.
 * @throws {RangeError} When the name is not 1–64 of `[A-Za-z0-9_-]`.
 *
 * @example
 * ```ts
 * import { llmStreamTopic } from "./agent.ts";
 * console.assert(llmStreamTopic("openai") === "llm.v1.stream.openai");
 * ```
 */
export function llmStreamTopic(provider: string): string {
  return `llm.v1.stream.${checked(provider, PROVIDER_NAME, "a provider name")}`;
}
