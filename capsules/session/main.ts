/**
 * `session`: the conversation history of each session, kept in the capsule's
 * KV namespace so it survives a restart.
 *
 * | topic | request → answer |
 * |---|---|
 * | `session.v1.request.get_messages` | `{session_id}` → `{session_id, messages}` |
 * | `session.v1.request.append` | `{session_id, messages}` → `{session_id, messages}` (the whole history after the append) |
 * | `session.v1.request.clear` | `{session_id}` → `{session_id, messages: []}` |
 *
 * On append the history is compacted to `[env] max_context_tokens`
 * (estimated as characters / 4; see `compact.ts`).
 *
 * Storage: a KV value is at most 64 KiB, so a history is stored as the
 * chunks of its JSON text under a generation (`h/<sid>/<gen>/<i>`), and a
 * head key (`h/<sid>`) names the current generation. An append writes a new
 * generation, then switches the head, then deletes the old one: a crash
 * leaves either history whole, never a mix.
 *
 * Concurrency: with one instance (today) calls are serialised. With
 * `instances > 1`, two appends to the same session could race (the last head
 * written wins); the orchestrator appends sequentially within a turn, and
 * two turns of one session at once are not supported.
 *
 * @module
 */
import {
  defineCapsule,
  host,
  type InterceptEvent,
  type Message,
  type SessionMessages,
} from "@astrid/sdk";
import { compact } from "./compact.ts";

/** Characters per stored chunk: ≤ 3 bytes each in UTF-8, escaping included, well under 64 KiB. */
const CHUNK = 16_000;
const DEFAULT_BUDGET = 100_000;

interface Head {
  readonly gen: number;
  readonly chunks: number;
}

function sessionIdOf(payload: unknown): string {
  const id = (payload as { session_id?: unknown } | null)?.session_id;
  if (typeof id !== "string" || id === "" || id.length > 256) {
    throw new Error(
      "INVALID_INPUT: session_id must be a non-empty string of at most 256 characters",
    );
  }
  return id;
}

const headKey = (sid: string) => `h/${encodeURIComponent(sid)}`;
const chunkKey = (sid: string, gen: number, i: number) =>
  `${headKey(sid)}/${gen}/${i}`;

async function load(
  sid: string,
): Promise<{ head: Head | null; messages: Message[] }> {
  const head = await host.kv.get(headKey(sid)) as Head | null;
  if (head === null) return { head, messages: [] };
  let text = "";
  for (let i = 0; i < head.chunks; i++) {
    text += String(await host.kv.get(chunkKey(sid, head.gen, i)) ?? "");
  }
  return { head, messages: JSON.parse(text) as Message[] };
}

async function save(
  sid: string,
  old: Head | null,
  messages: readonly Message[],
): Promise<void> {
  const gen = (old?.gen ?? 0) + 1;
  const text = JSON.stringify(messages);
  const count = messages.length === 0 ? 0 : Math.ceil(text.length / CHUNK);
  for (let i = 0; i < count; i++) {
    await host.kv.set(
      chunkKey(sid, gen, i),
      text.slice(i * CHUNK, (i + 1) * CHUNK),
    );
  }
  if (count === 0) await host.kv.delete(headKey(sid));
  else await host.kv.set(headKey(sid), { gen, chunks: count } satisfies Head);
  if (old !== null) {
    for (let i = 0; i < old.chunks; i++) {
      await host.kv.delete(chunkKey(sid, old.gen, i));
    }
  }
}

function checkMessages(value: unknown): Message[] {
  if (!Array.isArray(value)) {
    throw new Error("INVALID_INPUT: messages must be an array of messages");
  }
  for (const m of value) {
    const msg = m as Partial<Message> | null;
    if (
      (msg?.role !== "user" && msg?.role !== "assistant") ||
      !Array.isArray(msg.content)
    ) {
      throw new Error(
        "INVALID_INPUT: each message needs role 'user' or 'assistant' and a content array",
      );
    }
  }
  return value as Message[];
}

async function budget(): Promise<number> {
  const n = Number(await host.config.get("max_context_tokens"));
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_BUDGET;
}

const answer = (session_id: string, messages: readonly Message[]) => ({
  type: "final" as const,
  payload: { session_id, messages } satisfies SessionMessages,
});

export default defineCapsule({
  interceptors: {
    /** `session.v1.request.get_messages`. */
    async get_messages(event: InterceptEvent<{ session_id: string }>) {
      const sid = sessionIdOf(event.payload);
      return answer(sid, (await load(sid)).messages);
    },
    /** `session.v1.request.append`: appends, compacts, answers the history. */
    async append(
      event: InterceptEvent<{ session_id: string; messages: Message[] }>,
    ) {
      const sid = sessionIdOf(event.payload);
      const added = checkMessages(event.payload.messages);
      const { head, messages } = await load(sid);
      const { messages: kept, removed } = compact(
        [...messages, ...added],
        await budget(),
      );
      await save(sid, head, kept);
      if (removed > 0) {
        await host.log.info(
          `session ${sid}: compacted, ${removed} messages removed`,
        );
      }
      return answer(sid, kept);
    },
    /** `session.v1.request.clear`. */
    async clear(event: InterceptEvent<{ session_id: string }>) {
      const sid = sessionIdOf(event.payload);
      const { head } = await load(sid);
      await save(sid, head, []);
      return answer(sid, []);
    },
  },
});
