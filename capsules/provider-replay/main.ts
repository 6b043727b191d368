/**
 * `provider-replay`: an LLM provider (name `replay`) that answers each model
 * request with the next turn of a recorded transcript — the offline demo and
 * the tests of the agent capsules.
 *
 * The transcript format is a contract:
 *
 * ```json
 * {"turns": [{"text": "…", "tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]}]}
 * ```
 *
 * Each request consumes the next turn of its session (the position is kept
 * in KV per `session_id`, so it survives a restart; a sub-agent's requests,
 * `session_id` `<session>:<agent>`, share their root session's position, so
 * one transcript scripts a conversation and its sub-agents in order). The turn is streamed on
 * `llm.v1.stream.replay` as the real providers do — `text_delta`s (the text in
 * a few chunks), then `tool_call_start` / `tool_call_delta` / `tool_call_end`
 * per call (ids `call_<n>`, numbered across the session), `usage`, `done` —
 * and the request is answered with the assembled `LlmResponse`. When the
 * turns run out the answer is a final text saying so.
 *
 * Configuration (`[env]`): `replay_transcript` (the JSON itself) wins over
 * `replay_file` (a guest path read with `fs_read`; the grant covers
 * `cwd://.astrid/replay` and `home://replay` only).
 *
 * @module
 */
import {
  type CapsuleContext,
  defineCapsule,
  host,
  type InterceptEvent,
  type LlmRequest,
  type LlmResponse,
  type LlmStreamEvent,
  rawJsonOf,
  type StopReason,
  type TextBlock,
  type ToolUseBlock,
} from "@astrid/sdk";

const STREAM_TOPIC = "llm.v1.stream.replay";
const MODEL = "replay";

/** One recorded model turn. */
interface ReplayTurn {
  readonly text: string;
  readonly tool_calls: readonly {
    readonly name: string;
    readonly arguments: Record<string, unknown>;
  }[];
}

/** What the provider keeps per session. */
interface Position {
  /** Next turn to replay. */
  turn: number;
  /** Tool calls issued so far (ids `call_<n>`). */
  calls: number;
}

function parseTranscript(text: string): ReplayTurn[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `The replay transcript is not JSON: ${(err as Error).message}`,
    );
  }
  const turns = (value as { turns?: unknown } | null)?.turns;
  if (!Array.isArray(turns)) {
    throw new Error(
      'The replay transcript has no "turns" array: expected {"turns": [{"text", "tool_calls"}]}',
    );
  }
  return turns.map((t: unknown, i: number) => {
    const turn = (t ?? {}) as Record<string, unknown>;
    const calls = turn.tool_calls ?? [];
    if (typeof (turn.text ?? "") !== "string" || !Array.isArray(calls)) {
      throw new Error(
        `Replay turn ${i}: expected {"text": string, "tool_calls": [...]}`,
      );
    }
    return {
      text: String(turn.text ?? ""),
      tool_calls: calls.map((c: unknown, j: number) => {
        const call = (c ?? {}) as Record<string, unknown>;
        if (typeof call.name !== "string") {
          throw new Error(
            `Replay turn ${i}, call ${j}: "name" is not a string`,
          );
        }
        const args = call.arguments ?? {};
        return {
          name: call.name,
          arguments: args !== null && typeof args === "object" &&
              !Array.isArray(args)
            ? args as Record<string, unknown>
            : {},
        };
      }),
    };
  });
}

/** The last transcript parsed, by its text (the config rarely changes). */
let parsed: { readonly text: string; readonly turns: ReplayTurn[] } | null =
  null;

function parseCached(text: string): ReplayTurn[] {
  if (parsed?.text !== text) parsed = { text, turns: parseTranscript(text) };
  return parsed.turns;
}

/** The transcript; the settings come from the handler context (no host call). */
async function loadTranscript(
  config: CapsuleContext["config"],
): Promise<ReplayTurn[]> {
  const get = (key: string) =>
    Object.hasOwn(config, key) ? config[key] : undefined;
  const inline = get("replay_transcript");
  if (inline) return parseCached(inline);
  const file = get("replay_file");
  if (!file) {
    throw new Error(
      "No replay transcript: set replay_transcript or replay_file in the provider-replay config",
    );
  }
  return parseCached(await host.fs.read(file));
}

/** Splits a text into at most `n` chunks (on spaces when it can). */
function chunks(text: string, n = 3): string[] {
  if (text === "") return [];
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + size);
    const space = text.indexOf(" ", end);
    if (end < text.length && space !== -1 && space - end < 16) end = space + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

const estimate = (s: string): number => Math.ceil(s.length / 4);

/**
 * A sub-agent's history session is `<session>:<agent>`: its model requests
 * come, in time, between its parent's, so one position per root session
 * replays a conversation and its sub-agents in the order they asked.
 */
function positionKey(sessionId: string): string {
  const root = sessionId.split(":")[0] ?? sessionId;
  return `pos/${encodeURIComponent(root)}`;
}

export default defineCapsule({
  interceptors: {
    /** `llm.v1.request.generate.replay`: the next turn of the session. */
    async generate(event: InterceptEvent<LlmRequest>, ctx: CapsuleContext) {
      const req = event.payload;
      const requestId = String(req?.request_id ?? "");
      const sessionId = String(req?.session_id ?? "");
      // The events are published without waiting for each one: the host
      // issues the calls in order and the bus delivers them in that order,
      // each decided and audited before it is delivered (the decisions of
      // events sent together share one audit commit). They are awaited
      // before the position advances and before the answer, so a refused
      // publish still fails the request as it did one event at a time.
      let published: Promise<void>[] = [];
      const emit = (e: LlmStreamEvent) => {
        const p = host.ipc.publish(STREAM_TOPIC, {
          request_id: requestId,
          session_id: sessionId,
          event: e,
        });
        p.catch(() => {}); // handled by `sent` (no unhandled rejection)
        published.push(p);
      };
      const sent = async () => {
        const all = published;
        published = [];
        await Promise.all(all);
      };
      const turns = await loadTranscript(ctx.config);
      const key = positionKey(sessionId);
      const stored = await host.kv.get(key) as Position | null;
      const pos: Position = {
        turn: stored?.turn ?? 0,
        calls: stored?.calls ?? 0,
      };
      const turn: ReplayTurn = pos.turn < turns.length ? turns[pos.turn]! : {
        text:
          `[replay] The transcript has no more turns (all ${turns.length} were replayed).`,
        tool_calls: [],
      };
      const content: (TextBlock | ToolUseBlock)[] = [];
      for (const piece of chunks(turn.text)) {
        emit({ type: "text_delta", text: piece });
      }
      if (turn.text !== "") content.push({ type: "text", text: turn.text });
      for (const call of turn.tool_calls) {
        const id = `call_${++pos.calls}`;
        const args = JSON.stringify(call.arguments);
        emit({ type: "tool_call_start", id, name: call.name });
        for (const piece of chunks(args, 2)) {
          emit({ type: "tool_call_delta", id, args_delta: piece });
        }
        emit({ type: "tool_call_end", id });
        content.push({
          type: "tool_use",
          id,
          name: call.name,
          input: call.arguments,
        });
      }
      await sent();
      if (pos.turn < turns.length) pos.turn++;
      await host.kv.set(key, pos);
      const usage = {
        // The history's JSON as it came (the engine sends a long one as
        // text): measured, never parsed.
        input_tokens: estimate(
          (rawJsonOf(req, "messages") ?? JSON.stringify(req?.messages ?? [])) +
            String(req?.system ?? ""),
        ),
        output_tokens: estimate(turn.text) +
          estimate(JSON.stringify(turn.tool_calls)),
      };
      const stopReason: StopReason = turn.tool_calls.length > 0
        ? "tool_use"
        : "end_turn";
      emit({ type: "usage", usage });
      emit({ type: "done", stop_reason: stopReason });
      await sent();
      const response: LlmResponse = {
        request_id: requestId,
        model: req?.model || MODEL,
        content,
        stop_reason: stopReason,
        usage,
      };
      return { type: "final", payload: response };
    },
  },
});
