/**
 * The response cache: an interceptor in front of the providers
 * (`llm.v1.request.generate.*`, priority 10).
 *
 * - Key: SHA-256 of the provider and the canonical request without
 *   `request_id` (see `entry.ts`). With `scope = "global"` (the default) the
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
 *   with one instance the re-entrant call would wait on the busy one.
 * - The marker is honoured only when the bus says the request comes from this
 *   capsule (`event.source`, stamped by the kernel); anyone else sending it is
 *   denied, so no requester can skip the cache or get an answer stored under
 *   a key it chose.
 *
 * KV: `entry:<key>` (answer, stored/expiry times), `index` (keys oldest
 * first, for the size cap), `stats` (counters; the `stats` action returns
 * them). Counters and the index are read-modify-write: two instances storing
 * at the same instant may lose an increment or an index slot (the entry then
 * still expires by TTL).
 *
 * @module
 */
import {
  defineCapsule,
  host,
  type InterceptEvent,
  type InterceptReturn,
  type LlmResponse,
} from "@astrid/sdk";
import {
  BYPASS_FIELD,
  BYPASS_VALUE,
  cacheKey,
  isCacheable,
  streamOf,
} from "./entry.ts";

const PREFIX = "llm.v1.request.generate.";

/** Counters kept in KV under `stats`. */
interface Stats {
  hits: number;
  misses: number;
  stores: number;
  expired: number;
  evictions: number;
  refused: number;
  skipped: number;
  too_large: number;
  uncacheable: number;
}

interface Entry {
  readonly provider: string;
  readonly stored_at: number;
  readonly expires_at: number;
  readonly response: LlmResponse;
}

interface Config {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxEntryBytes: number;
  readonly scope: "global" | "session";
  readonly skip: readonly string[];
  readonly timeoutMs: number;
}

function int(
  config: Readonly<Record<string, string>>,
  key: string,
  def: number,
) {
  const raw = config[key];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(
      `cache config: '${key}' must be a non-negative integer, got '${raw}'`,
    );
  }
  return n;
}

function readConfig(config: Readonly<Record<string, string>>): Config {
  const scope = config.scope ?? "global";
  if (scope !== "global" && scope !== "session") {
    throw new Error(
      `cache config: 'scope' must be 'global' or 'session', got '${scope}'`,
    );
  }
  return {
    ttlMs: int(config, "ttl_ms", 3_600_000),
    maxEntries: int(config, "max_entries", 500),
    maxEntryBytes: int(config, "max_entry_bytes", 1_048_576),
    scope,
    skip: (config.skip ?? "auto").split(",").map((s) => s.trim()).filter(
      Boolean,
    ),
    timeoutMs: Math.min(int(config, "request_timeout_ms", 60_000), 60_000),
  };
}

const ZERO: Stats = {
  hits: 0,
  misses: 0,
  stores: 0,
  expired: 0,
  evictions: 0,
  refused: 0,
  skipped: 0,
  too_large: 0,
  uncacheable: 0,
};

async function stats(): Promise<Stats> {
  return { ...ZERO, ...(await host.kv.get("stats") as Partial<Stats> | null) };
}

async function bump(counts: Partial<Stats>): Promise<void> {
  const s = await stats();
  for (const [k, v] of Object.entries(counts) as [keyof Stats, number][]) {
    s[k] += v;
  }
  await host.kv.set("stats", s);
}

async function index(): Promise<string[]> {
  const v = await host.kv.get("index");
  return Array.isArray(v) ? v.filter((k) => typeof k === "string") : [];
}

/** Stores an entry, then evicts the oldest ones beyond the cap. */
async function store(
  key: string,
  entry: Entry,
  cfg: Config,
): Promise<Partial<Stats>> {
  if (JSON.stringify(entry).length > cfg.maxEntryBytes) return { too_large: 1 };
  if (cfg.maxEntries === 0) return { too_large: 1 };
  await host.kv.set(`entry:${key}`, entry);
  const keys = (await index()).filter((k) => k !== key);
  keys.push(key);
  let evictions = 0;
  while (keys.length > cfg.maxEntries) {
    await host.kv.delete(`entry:${keys.shift()}`);
    evictions++;
  }
  await host.kv.set("index", keys);
  return { stores: 1, evictions };
}

async function replay(
  provider: string,
  request: { request_id: string; session_id: string },
  response: LlmResponse,
): Promise<void> {
  for (const event of streamOf(response)) {
    await host.ipc.publish(`llm.v1.stream.${provider}`, {
      request_id: request.request_id,
      session_id: request.session_id,
      event,
    });
  }
}

async function lookup(
  event: InterceptEvent<Record<string, unknown>>,
  context: { capsule: string; config: Readonly<Record<string, string>> },
): Promise<InterceptReturn> {
  const req = event.payload;
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    return null;
  }
  const provider = event.topic.slice(PREFIX.length);
  if (Object.hasOwn(req, BYPASS_FIELD)) {
    if (
      req[BYPASS_FIELD] === BYPASS_VALUE && event.source === context.capsule
    ) {
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
  let cfg: Config;
  try {
    cfg = readConfig(context.config);
  } catch (err) {
    return { type: "deny", reason: (err as Error).message };
  }
  if (cfg.skip.includes(provider)) {
    await bump({ skipped: 1 });
    return null;
  }
  const requestId = String(req.request_id ?? "");
  const sessionId = String(req.session_id ?? "");
  const key = cacheKey(provider, req, cfg.scope);
  const now = await host.clock.now();
  const found = await host.kv.get(`entry:${key}`) as Entry | null;
  const counts: Partial<Stats> = {};
  if (found !== null && found.expires_at > now) {
    await replay(
      provider,
      { request_id: requestId, session_id: sessionId },
      found.response,
    );
    await bump({ hits: 1 });
    return {
      type: "final",
      payload: { ...found.response, request_id: requestId },
    };
  }
  if (found !== null) {
    await host.kv.delete(`entry:${key}`);
    counts.expired = 1;
  }
  counts.misses = 1;
  let answer: unknown;
  try {
    answer = await host.ipc.request(
      event.topic,
      { ...req, [BYPASS_FIELD]: BYPASS_VALUE },
      { timeoutMs: cfg.timeoutMs },
    );
  } catch (err) {
    // Denied with the provider's reason: a thrown error would reach the
    // requester only as "the interceptor threw".
    await bump(counts);
    return {
      type: "deny",
      reason: `cache: the provider call failed: ${(err as Error).message}`,
    };
  }
  if (isCacheable(answer)) {
    Object.assign(
      counts,
      await store(key, {
        provider,
        stored_at: now,
        expires_at: now + cfg.ttlMs,
        response: { ...answer, request_id: "" },
      }, cfg),
    );
  } else {
    counts.uncacheable = 1;
  }
  await bump(counts);
  return { type: "final", payload: answer };
}

export default defineCapsule({
  interceptors: { lookup },
  actions: {
    /** The counters, the number of entries and the effective config. */
    async stats(_payload: unknown, context) {
      const cfg = readConfig(context.config);
      return {
        ...(await stats()),
        entries: (await index()).length,
        config: cfg,
      };
    },
    /** Drops every entry (the counters stay). */
    async clear() {
      const keys = await host.kv.listKeys("entry:");
      for (const k of keys) await host.kv.delete(k);
      await host.kv.set("index", []);
      return { cleared: keys.length };
    },
  },
});
