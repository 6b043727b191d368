/**
 * The response cache: an interceptor in front of the providers
 * (`llm.v1.request.generate.*`, priority 10).
 *
 * - Key: SHA-256 of the provider and the canonical request without
 *   `request_id` (see `_entry.ts`). With `scope = "global"` (the default) the
 *   `session_id` is left out too: the messages carry the whole conversation,
 *   so the same request in two sessions of the one principal this kernel
 *   serves asks the model the same thing. `scope = "session"` keeps sessions
 *   apart.
 * - Hit: the stored answer's stream is replayed on `llm.v1.stream.<provider>`
 *   with the new `request_id`/`session_id`, and the answer returned with the
 *   new `request_id` (its `usage` is the original call's).
 * - Miss: an interceptor that continues never sees the answer, so the cache
 *   sends the request itself to the same topic with `cache: "bypass"`; that
 *   re-entrant call passes its own interceptor (which drops the marker) and
 *   reaches the provider, which streams live under the caller's ids. The
 *   answer is stored (unless it is an `error` stop, malformed or larger than
 *   `max_entry_bytes`) and returned. This needs `[[component]] instances ≥ 2`:
 *   with one instance the re-entrant call would wait on the busy one. At
 *   most `max_concurrent_misses` (default 3, keep it below `instances`)
 *   misses wait at once; beyond that a miss passes through uncached
 *   (`saturated`), so the re-entrant calls always find a free instance.
 * - The marker is honoured only when the bus says the request comes from this
 *   capsule (`event.source`, stamped by the kernel, never by the guest);
 *   anyone else sending it, requester or capsule, is denied. Only the outer
 *   call stores, and only the answer to exactly the request it keyed, so the
 *   marker can neither route around the cache nor plant an answer.
 *
 * KV layout in `_store.ts` (entries, their ages for the size cap and the TTL
 * sweep, miss slots, per-instance counters summed by the `stats` action).
 *
 * @module
 */
import {
  defineCapsule,
  host,
  type InterceptEvent,
  type InterceptReturn,
} from "@astrid/sdk";
import { type Config, readConfig } from "./_config.ts";
import {
  BYPASS_FIELD,
  BYPASS_VALUE,
  cacheKey,
  isCacheable,
  streamOf,
} from "./_entry.ts";
import {
  bump,
  clear,
  drop,
  load,
  releaseSlot,
  type Stats,
  store,
  takeSlot,
  totals,
} from "./_store.ts";

const PREFIX = "llm.v1.request.generate.";

type Request = Record<string, unknown>;

/** The marker check: only this capsule's own re-entrant call may carry it. */
async function bypass(
  event: InterceptEvent<Request>,
  capsule: string,
): Promise<InterceptReturn | undefined> {
  const req = event.payload;
  if (!Object.hasOwn(req, BYPASS_FIELD)) return undefined;
  if (req[BYPASS_FIELD] === BYPASS_VALUE && event.source === capsule) {
    const clean = { ...req };
    delete clean[BYPASS_FIELD];
    return { type: "continue", payload: clean };
  }
  await bump({ refused: 1 });
  return {
    type: "deny",
    reason:
      `the '${BYPASS_FIELD}' field of an LLM request is reserved to the cache capsule's own calls`,
  };
}

/** Replays a stored answer's stream under the caller's ids. */
async function replay(
  provider: string,
  ids: { request_id: string; session_id: string },
  events: ReturnType<typeof streamOf>,
): Promise<void> {
  for (const event of events) {
    await host.ipc.publish(`llm.v1.stream.${provider}`, { ...ids, event });
  }
}

function add(into: Partial<Stats>, more: Partial<Stats>): void {
  for (const [k, v] of Object.entries(more) as [keyof Stats, number][]) {
    into[k] = (into[k] ?? 0) + v;
  }
}

/** A miss: asks the provider through the chain again, stores the answer. */
async function miss(
  event: InterceptEvent<Request>,
  key: string,
  options: { cfg: Config; now: number; counts: Partial<Stats> },
): Promise<InterceptReturn> {
  const { cfg, now, counts } = options;
  if (!await takeSlot({ cfg, now })) {
    // Too many misses waiting: pass through to the provider, uncached.
    await bump({ ...counts, saturated: 1 });
    return null;
  }
  counts.misses = 1;
  let answer: unknown;
  try {
    answer = await host.ipc.request(
      event.topic,
      { ...event.payload, [BYPASS_FIELD]: BYPASS_VALUE },
      { timeoutMs: cfg.timeoutMs },
    );
  } catch (err) {
    await bump(counts);
    // Denied with the provider's reason: a thrown error would reach the
    // requester only as "the interceptor threw".
    return {
      type: "deny",
      reason: `cache: the provider call failed: ${(err as Error).message}`,
    };
  } finally {
    await releaseSlot();
  }
  if (isCacheable(answer)) {
    add(
      counts,
      await store(key, {
        provider: event.topic.slice(PREFIX.length),
        stored_at: now,
        expires_at: now + cfg.ttlMs,
        response: { ...answer, request_id: "" },
      }, { cfg, now }),
    );
  } else {
    counts.uncacheable = 1;
  }
  await bump(counts);
  return { type: "final", payload: answer as Request };
}

async function lookup(
  event: InterceptEvent<Request>,
  context: { capsule: string; config: Readonly<Record<string, string>> },
): Promise<InterceptReturn> {
  const req = event.payload;
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    return null;
  }
  const marked = await bypass(event, context.capsule);
  if (marked !== undefined) return marked;
  let cfg: Config;
  try {
    cfg = readConfig(context.config);
  } catch (err) {
    return { type: "deny", reason: (err as Error).message };
  }
  const provider = event.topic.slice(PREFIX.length);
  if (cfg.skip.includes(provider)) {
    await bump({ skipped: 1 });
    return null;
  }
  const ids = {
    request_id: String(req.request_id ?? ""),
    session_id: String(req.session_id ?? ""),
  };
  const key = cacheKey(provider, req, cfg.scope);
  const now = await host.clock.now();
  const found = await load(key);
  const counts: Partial<Stats> = {};
  if (found !== null && found.expires_at > now) {
    await replay(provider, ids, streamOf(found.response));
    await bump({ hits: 1 });
    return {
      type: "final",
      payload: { ...found.response, request_id: ids.request_id },
    };
  }
  if (found !== null) {
    await drop(key, found);
    counts.expired = 1;
  }
  return await miss(event, key, { cfg, now, counts });
}

export default defineCapsule({
  interceptors: { lookup },
  actions: {
    /** The counters of all instances, the number of entries and the config. */
    async stats(_payload: unknown, context) {
      return { ...(await totals()), config: readConfig(context.config) };
    },
    /** Drops every entry (the counters stay). */
    async clear() {
      return { cleared: await clear() };
    },
  },
});
