/**
 * `react`: the orchestrator. Answers `user.v1.prompt` (a `TurnRequest`)
 * with a `TurnResult` after running the ReAct loop of one turn:
 *
 * 1. append the user message to the session (`session.v1.request.append`;
 *    each append names the version of the history this instance holds,
 *    `known`, so that the session answers only the appended messages when
 *    it still is that version)
 *    and, at the same time, get the system prompt (`spark.v1.request.build`)
 *    and the tools (`tool.v1.request.describe` with `{tools: []}`, answered
 *    by the router) — three requests in flight together;
 * 3. repeat: send an `LlmRequest` with the history (the session's answer to
 *    the last append, compacted to its budget) to
 *    `llm.v1.request.generate.<provider>`; when it calls tools, publish a
 *    `tool_call` turn event per call, run them all through
 *    `tool.v1.request.execute` (concurrently: the router serialises them
 *    unless it runs `instances > 1`), publish the `tool_result` events and
 *    append, in one append, the assistant message and one user message with
 *    every `tool_result` block (tool errors go back to the model; they never
 *    fail the turn); else append the assistant message and answer.
 *
 * Failures: a turn past `max_iterations` model calls throws
 * `TURN_MAX_ITERATIONS` (after the last calls' results were appended, so the
 * history stays well-formed); a provider that fails or answers garbage throws
 * `PROVIDER_FAILED`; a cancellation (`ABORTED`) is never swallowed. The code
 * travels as the error's `name` and `code` (the engine reports
 * `CODE: message`).
 *
 * Timeouts are per bus request (`[env] model_timeout_ms`, `tool_timeout_ms`,
 * `service_timeout_ms`); the engine's deadline counts only this capsule's own
 * running time, so waiting on the bus does not use it up.
 *
 * Instances: one turn occupies one instance while it waits for the session,
 * the provider and the router — all other capsules, so nothing deadlocks with
 * one instance; two concurrent turns need `instances > 1`.
 *
 * @module
 */
import {
  type CapsuleContext,
  defineCapsule,
  host,
  HostCallError,
  type InterceptEvent,
  llmGenerateTopic,
  type LlmRequest,
  type LlmResponse,
  type Message,
  rawJson,
  type SessionAppend,
  type SessionMessages,
  textOf,
  toolCallsOf,
  type ToolDefinition,
  type ToolDescribeResult,
  type ToolExecuteResult,
  type ToolResultBlock,
  type ToolUseBlock,
  type TurnEventMessage,
  type TurnRequest,
  type TurnResult,
  type Usage,
} from "@astrid/sdk";

const TOPICS = {
  append: "session.v1.request.append",
  identity: "spark.v1.request.build",
  describe: "tool.v1.request.describe",
  execute: "tool.v1.request.execute",
  event: "agent.v1.turn_event",
} as const;

/** Sessions whose history this instance keeps (most recently used last). */
const HELD_SESSIONS = 4;

/**
 * The history of a session as the session capsule last answered it — kept
 * as JSON text, the form it is sent in (`rawJson`): this orchestrator never
 * reads the history, so it never parses or re-serialises it whole — with
 * its length and the version (`tag`) that answer named: sent back as
 * `known`, so that the session answers an append with only the appended
 * messages. A stale tag (another writer, a clear, a compaction) gets the
 * whole history back.
 */
interface Held {
  /** `JSON.stringify` of the messages. */
  readonly text: string;
  /** How many messages. */
  readonly count: number;
  readonly tag: string;
}

const held = new Map<string, Held>();

function remember(sid: string, history: Omit<Held, "tag">, tag: unknown): void {
  held.delete(sid);
  if (typeof tag !== "string" || tag === "") return;
  held.set(sid, { ...history, tag });
  if (held.size > HELD_SESSIONS) {
    held.delete(held.keys().next().value as string);
  }
}

/** The JSON text of an array's `text` followed by `added`. */
function extend(text: string, added: readonly Message[]): string {
  if (added.length === 0) return text;
  const more = JSON.stringify(added);
  return text === "[]" ? more : `${text.slice(0, -1)},${more.slice(1)}`;
}

/** An error with a kernel error code, reported as `CODE: message`. */
class TurnError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

interface Settings {
  provider: string;
  model: string;
  maxIterations: number;
  modelMs: number;
  toolMs: number;
  serviceMs: number;
}

/** The configuration (the handler context's copy: no host call). */
type Config = CapsuleContext["config"];

const setting = (config: Config, key: string): string | undefined =>
  Object.hasOwn(config, key) ? config[key] : undefined;

function positive(config: Config, key: string, fallback: number): number {
  const n = Number(setting(config, key));
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

function settings(req: TurnRequest, config: Config): Settings {
  const requested = req.max_iterations;
  return {
    provider: req.provider || setting(config, "provider") || "replay",
    model: req.model ?? setting(config, "model") ?? "",
    maxIterations: typeof requested === "number" &&
        Number.isSafeInteger(requested) && requested > 0
      ? requested
      : positive(config, "max_iterations", 25),
    modelMs: positive(config, "model_timeout_ms", 600_000),
    toolMs: positive(config, "tool_timeout_ms", 600_000),
    serviceMs: positive(config, "service_timeout_ms", 30_000),
  };
}

function checkRequest(payload: unknown): TurnRequest {
  const r = payload as Partial<TurnRequest> | null;
  for (const key of ["turn_id", "session_id", "text"] as const) {
    if (typeof r?.[key] !== "string" || (key !== "text" && r[key] === "")) {
      throw new TurnError(
        "INVALID_INPUT",
        `The prompt has no valid '${key}': expected {turn_id, session_id, text, provider?, model?, max_iterations?}`,
      );
    }
  }
  return r as TurnRequest;
}

function isAbort(err: unknown): boolean {
  return err instanceof HostCallError && err.code === "ABORTED";
}

function checkResponse(value: unknown, provider: string): LlmResponse {
  const r = value as Partial<LlmResponse> | null;
  if (!Array.isArray(r?.content)) {
    throw new TurnError(
      "PROVIDER_FAILED",
      `Provider '${provider}' answered something that is not a model response (no content array)`,
    );
  }
  return r as LlmResponse;
}

export default defineCapsule({
  interceptors: {
    /** `user.v1.prompt`: runs one turn. */
    async prompt(event: InterceptEvent<TurnRequest>, ctx: CapsuleContext) {
      const req = checkRequest(event.payload);
      const s = settings(req, ctx.config);
      let generateTopic: string;
      try {
        generateTopic = llmGenerateTopic(s.provider);
      } catch (err) {
        throw new TurnError("INVALID_INPUT", (err as Error).message);
      }
      const sid = req.session_id;
      const ask = (topic: string, payload: unknown, timeoutMs: number) =>
        host.ipc.request(topic, payload, { timeoutMs });
      // The session answers an append with the whole (compacted) history —
      // or, when `known` names the version this instance holds (from the
      // last answer, of this turn or an earlier one), only the appended
      // messages: the next model call's messages, without another round
      // trip and without the whole history crossing the bus each time.
      let history: Omit<Held, "tag"> = { text: "[]", count: 0 };
      const append = async (messages: Message[]) => {
        const mine = held.get(sid);
        const h = await ask(
          TOPICS.append,
          {
            session_id: sid,
            messages,
            ...(mine ? { known: mine.tag } : {}),
          } satisfies SessionAppend,
          s.serviceMs,
        ) as Partial<SessionMessages> | null;
        const got = Array.isArray(h?.messages) ? h.messages : [];
        history = mine && typeof h?.offset === "number" &&
            h.offset === mine.count
          ? { text: extend(mine.text, got), count: mine.count + got.length }
          : { text: JSON.stringify(got), count: got.length };
        remember(sid, history, h?.tag);
      };
      const emit = async (e: TurnEventMessage["event"]) => {
        try {
          await host.ipc.publish(
            TOPICS.event,
            {
              session_id: sid,
              turn_id: req.turn_id,
              event: e,
            } satisfies TurnEventMessage,
          );
        } catch (err) {
          // A slow frontend must not fail the turn; a cancellation must.
          if (isAbort(err)) throw err;
          await host.log.warn(`turn event not published: ${String(err)}`);
        }
      };

      // The three do not depend on each other: asked together, one wait.
      const [, identityAnswer, describeAnswer] = await Promise.all([
        append([{
          role: "user",
          content: [{ type: "text", text: req.text }],
        }]),
        ask(TOPICS.identity, { session_id: sid }, s.serviceMs),
        ask(TOPICS.describe, { tools: [] }, s.serviceMs),
      ]);
      const identity = identityAnswer as { prompt?: unknown } | null;
      const system = typeof identity?.prompt === "string"
        ? identity.prompt
        : "";
      const described = describeAnswer as Partial<ToolDescribeResult> | null;
      const offered: readonly ToolDefinition[] = Array.isArray(described?.tools)
        ? described.tools
        : [];
      // A sub-agent is offered only the tools its turn names (the kernel
      // refuses any other call anyway).
      const allowed = Array.isArray(req.tools) ? new Set(req.tools) : null;
      const tools = allowed
        ? offered.filter((t) => allowed.has(t.name))
        : offered;

      // Serialised once for every model call of the turn.
      const toolsJson = rawJson(JSON.stringify(tools));
      const usage: { input_tokens: number; output_tokens: number } = {
        input_tokens: 0,
        output_tokens: 0,
      };
      for (let iteration = 1;; iteration++) {
        const request: LlmRequest = {
          request_id: `${req.turn_id}-${iteration}`,
          session_id: sid,
          model: s.model,
          system,
          // Sent as the text it is held in (the provider gets it as text
          // too, parsed only if it reads it).
          messages: rawJson(history.text) as unknown as Message[],
          tools: toolsJson as unknown as ToolDefinition[],
        };
        let response: LlmResponse;
        try {
          response = checkResponse(
            await ask(generateTopic, request, s.modelMs),
            s.provider,
          );
        } catch (err) {
          if (isAbort(err) || err instanceof TurnError) throw err;
          const e = err as { code?: unknown; message?: unknown };
          throw new TurnError(
            "PROVIDER_FAILED",
            `Provider '${s.provider}' failed: ${String(e?.code ?? "")}: ${
              String(e?.message ?? err)
            }`,
          );
        }
        const u: Partial<Usage> = response.usage ?? {};
        usage.input_tokens += Number(u.input_tokens) || 0;
        usage.output_tokens += Number(u.output_tokens) || 0;
        const calls = toolCallsOf(response);
        const said: Message[] = response.content.length > 0
          ? [{ role: "assistant", content: response.content }]
          : [];
        if (calls.length === 0) {
          if (said.length > 0) await append(said);
          return {
            type: "final",
            payload: {
              text: textOf(response),
              usage,
              iterations: iteration,
            } satisfies TurnResult,
          };
        }
        const ran = await Promise.all(calls.map((call) => runTool(call)));
        // The assistant message and its results in one append: one round
        // trip, and the stored history never holds a call without its
        // result (not even while the tools run or after a cancellation).
        // The `tool_result` events go out just before it, unawaited: all
        // in one audit commit, in order.
        await Promise.all([
          append([...said, {
            role: "user",
            content: ran.map((r) => r.block),
          }]),
          ...ran.map((r) => r.reported),
        ]);
        if (iteration >= s.maxIterations) {
          throw new TurnError(
            "TURN_MAX_ITERATIONS",
            `The turn made ${iteration} model calls (max_iterations = ${s.maxIterations}) and the model still calls tools; no final answer`,
          );
        }
      }

      /**
       * Runs one call. The `tool_call` event is published, unawaited, just
       * before the tool request (one audit commit for both, in order); the
       * `tool_result` event is returned unawaited (`reported`) to go out
       * with the append of the results.
       */
      async function runTool(
        call: ToolUseBlock,
      ): Promise<{ block: ToolResultBlock; reported: Promise<void> }> {
        const announced = emit({
          type: "tool_call",
          id: call.id,
          name: call.name,
          arguments: call.input,
        });
        announced.catch(() => {}); // awaited below (no unhandled rejection)
        let content: string;
        let isError: boolean;
        try {
          const r = await ask(TOPICS.execute, {
            call_id: call.id,
            name: call.name,
            arguments: call.input,
            session_id: sid,
            turn_id: req.turn_id,
          }, s.toolMs) as Partial<ToolExecuteResult> | null;
          content = typeof r?.content === "string"
            ? r.content
            : "The tool router answered without a result";
          isError = typeof r?.content === "string" ? r.is_error === true : true;
        } catch (err) {
          if (isAbort(err)) {
            await announced.catch(() => {});
            throw err;
          }
          const e = err as { code?: unknown; message?: unknown };
          content = `Tool '${call.name}' failed: ${String(e?.code ?? "")}: ${
            String(e?.message ?? err)
          }`;
          isError = true;
        }
        await announced;
        const reported = emit({
          type: "tool_result",
          id: call.id,
          is_error: isError,
          content,
        });
        reported.catch(() => {}); // awaited by the caller
        return {
          block: {
            type: "tool_result",
            tool_use_id: call.id,
            content,
            is_error: isError,
          },
          reported,
        };
      }
    },
  },
});
