/**
 * `session`: the conversation history of each session, kept in the capsule's
 * KV namespace so it survives a restart.
 *
 * | topic | request → answer |
 * |---|---|
 * | `session.v1.request.get_messages` | `{session_id}` → `{session_id, messages}` |
 * | `session.v1.request.append` | `{session_id, messages, known?}` → `{session_id, messages, tag, offset?}` (the whole history after the append; only the appended messages, with `offset`, when `known` is the `tag` of the stored history and nothing was compacted) |
 * | `session.v1.request.clear` | `{session_id}` → `{session_id, messages: []}` |
 *
 * On append the history is compacted to `[env] max_context_tokens`
 * (estimated as characters / 4; see `compact.ts`).
 *
 * Storage: a KV value is at most 64 KiB, so a history is stored as the
 * chunks of its JSON text under a generation (`h/<sid>/<gen>/<i>`), and a
 * head key (`h/<sid>`) names the current generation. An append writes a new
 * generation, then switches the head, then deletes the old one: a crash
 * leaves either history whole, never a mix. Only full chunks get keys; the
 * text after the last full chunk (`tail`, shorter than a chunk) lives in the
 * head itself. A plain append only extends the text, so the chunks it
 * leaves unchanged are kept, not rewritten (the head lists the generation
 * each chunk was written under, `gens`): it writes the chunks it filled, if
 * any, then the head — usually one KV write — and deletes nothing. (Heads
 * written before `tail` existed keep every chunk under a key; they read the
 * same.) The head names the chunk size (`size`; absent: 16 000 characters,
 * the size before it was named): an append to a head of another size
 * rewrites every chunk once.
 *
 * Cache: each instance keeps the histories it last read or wrote (a few
 * sessions, parsed and as JSON text) and uses one only while the session's
 * head still names the same generation and tag (a random value per write), so
 * an append costs one KV read plus the writes, not re-reading and re-parsing
 * the whole history; a head written by another instance (or before the tag
 * existed) means a full read.
 *
 * Concurrency: one instance runs one call at a time. With `instances > 1`,
 * two appends to the same session could race (the last head written wins);
 * the orchestrator appends sequentially within a turn, and two turns of one
 * session at once are not supported.
 *
 * @module
 */
import {
  type CapsuleContext,
  defineCapsule,
  host,
  type InterceptEvent,
  type Message,
  type SessionAppend,
  type SessionMessages,
} from "@astrid/sdk";
import { compact } from "./compact.ts";

/**
 * Characters per stored chunk: ≤ 3 bytes each in UTF-8, escaping included,
 * well under 64 KiB. Not larger: the text after the last full chunk rides
 * in the head, which every append reads and rewrites (through the guest's
 * JSON); not smaller: a full history (`max_context_tokens` × 4 characters)
 * must fit the KV key quota as often as it fits the byte quota.
 */
const CHUNK = 8_000;

/** The chunk size of heads that do not name one (written before `size`). */
const LEGACY_CHUNK = 16_000;
const DEFAULT_BUDGET = 100_000;

interface Head {
  readonly gen: number;
  readonly chunks: number;
  /** Random per write: a cached history is used only while it matches. */
  readonly tag?: string;
  /** The generation chunk `i` is stored under (absent: all under `gen`). */
  readonly gens?: readonly number[];
  /** The text after the chunks (absent: none). */
  readonly tail?: string;
  /** Characters per chunk (absent: {@linkcode LEGACY_CHUNK}). */
  readonly size?: number;
}

/** The generation chunk `i` of `head` is stored under. */
const genOf = (head: Head, i: number): number => head.gens?.[i] ?? head.gen;

/** A history as this instance last read or wrote it. */
interface Cached {
  readonly gen: number;
  readonly tag: string;
  readonly messages: readonly Message[];
  /** `JSON.stringify(messages)`. */
  readonly text: string;
}

/** Sessions cached per instance (most recently used last). */
const CACHED_SESSIONS = 4;
const cache = new Map<string, Cached>();

function remember(sid: string, entry: Cached): void {
  cache.delete(sid);
  cache.set(sid, entry);
  if (cache.size > CACHED_SESSIONS) {
    cache.delete(cache.keys().next().value as string);
  }
}

const newTag = (): string =>
  `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;

/** A loaded history: its head, messages and JSON text. */
interface Loaded {
  readonly head: Head | null;
  readonly messages: readonly Message[];
  readonly text: string;
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

async function load(sid: string): Promise<Loaded> {
  const head = await host.kv.get(headKey(sid)) as Head | null;
  if (head === null) {
    cache.delete(sid);
    return { head, messages: [], text: "[]" };
  }
  const hit = cache.get(sid);
  if (
    hit !== undefined && typeof head.tag === "string" &&
    hit.gen === head.gen && hit.tag === head.tag
  ) {
    return { head, messages: hit.messages, text: hit.text };
  }
  const parts = await Promise.all(
    Array.from(
      { length: head.chunks },
      (_, i) => host.kv.get(chunkKey(sid, genOf(head, i), i)),
    ),
  );
  const text = parts.map((p) => String(p ?? "")).join("") +
    (typeof head.tail === "string" ? head.tail : "");
  const messages = JSON.parse(text) as Message[];
  if (typeof head.tag === "string") {
    remember(sid, { gen: head.gen, tag: head.tag, messages, text });
  }
  return { head, messages, text };
}

/**
 * Writes `messages` (whose JSON is `text`) as the next generation: the
 * chunks, then the head, then the old generation's chunks go. The first
 * `same` characters of `text` are those of the stored history: the old
 * chunks wholly inside them are kept, not rewritten (nor deleted).
 */
async function save(
  sid: string,
  old: Head | null,
  messages: readonly Message[],
  text: string,
  same = 0,
): Promise<string | undefined> {
  const gen = (old?.gen ?? 0) + 1;
  // Full chunks only; the rest goes into the head.
  const count = messages.length === 0 ? 0 : Math.floor(text.length / CHUNK);
  const tail = messages.length === 0 ? "" : text.slice(count * CHUNK);
  // Chunks of another size (a head written before `size`) are rewritten.
  const kept = old === null || (old.size ?? LEGACY_CHUNK) !== CHUNK
    ? 0
    : Math.min(old.chunks, count, Math.floor(same / CHUNK));
  const gens = Array.from(
    { length: count },
    (_, i) => i < kept ? genOf(old!, i) : gen,
  );
  await Promise.all(
    Array.from({ length: count - kept }, (_, j) => {
      const i = kept + j;
      return host.kv.set(
        chunkKey(sid, gen, i),
        text.slice(i * CHUNK, (i + 1) * CHUNK),
      );
    }),
  );
  cache.delete(sid);
  let tag: string | undefined;
  if (messages.length === 0) await host.kv.delete(headKey(sid));
  else {
    tag = newTag();
    const head: Head = gens.every((g) => g === gen)
      ? { gen, chunks: count, tag, tail, size: CHUNK }
      : { gen, chunks: count, tag, gens, tail, size: CHUNK };
    await host.kv.set(headKey(sid), head);
    remember(sid, { gen, tag, messages, text });
  }
  if (old !== null) {
    await Promise.all(
      Array.from(
        { length: old.chunks - kept },
        (_, j) => host.kv.delete(chunkKey(sid, genOf(old, kept + j), kept + j)),
      ),
    );
  }
  return tag;
}

/** The JSON text of `messages` followed by `added`, from the former's text. */
function joined(
  messages: readonly Message[],
  text: string,
  added: readonly Message[],
): string {
  if (added.length === 0) return text;
  const more = JSON.stringify(added);
  return messages.length === 0 ? more : `${text.slice(0, -1)},${more.slice(1)}`;
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

/** `[env] max_context_tokens`, from the handler context (no host call). */
function budget(config: CapsuleContext["config"]): number {
  const n = Number(
    Object.hasOwn(config, "max_context_tokens")
      ? config.max_context_tokens
      : undefined,
  );
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_BUDGET;
}

const answer = (
  session_id: string,
  messages: readonly Message[],
  tag?: string,
  offset?: number,
) => ({
  type: "final" as const,
  payload: {
    session_id,
    messages,
    ...(tag === undefined ? {} : { tag }),
    ...(offset === undefined ? {} : { offset }),
  } satisfies SessionMessages,
});

export default defineCapsule({
  interceptors: {
    /** `session.v1.request.get_messages`. */
    async get_messages(event: InterceptEvent<{ session_id: string }>) {
      const sid = sessionIdOf(event.payload);
      const { head, messages } = await load(sid);
      return answer(sid, messages, head?.tag);
    },
    /**
     * `session.v1.request.append`: appends, compacts, answers the history
     * (or only the appended messages to a caller that holds the rest).
     */
    async append(event: InterceptEvent<SessionAppend>, ctx: CapsuleContext) {
      const sid = sessionIdOf(event.payload);
      const added = checkMessages(event.payload.messages);
      const known = event.payload.known;
      const { head, messages, text } = await load(sid);
      const all = joined(messages, text, added);
      const { messages: kept, removed } = compact(
        [...messages, ...added],
        budget(ctx.config),
        Math.ceil(all.length / 4),
      );
      // A plain append keeps the stored text but its closing bracket.
      const tag = await save(
        sid,
        head,
        kept,
        removed === 0 ? all : JSON.stringify(kept),
        removed === 0 && messages.length > 0 ? text.length - 1 : 0,
      );
      if (removed > 0) {
        await host.log.info(
          `session ${sid}: compacted, ${removed} messages removed`,
        );
      }
      // The caller holds the stored history (its tag names this very
      // version): only what was added goes back — the whole history is
      // most of a turn's bytes on the bus and in the guests' JSON.
      const holds = typeof known === "string" && known !== "" &&
        known === head?.tag;
      return removed === 0 && holds
        ? answer(sid, added, tag, messages.length)
        : answer(sid, kept, tag);
    },
    /** `session.v1.request.clear`. */
    async clear(event: InterceptEvent<{ session_id: string }>) {
      const sid = sessionIdOf(event.payload);
      const { head } = await load(sid);
      await save(sid, head, [], "[]");
      return answer(sid, []);
    },
  },
});
