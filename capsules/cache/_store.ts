/**
 * The cache's KV layout. Several instances of the capsule run at once and KV
 * has no atomic update, so nothing is read-modified-written by two of them:
 *
 * - `entry:<key>`: one stored answer ({@linkcode Entry});
 * - `age:<stored_at, 15 digits>:<key>`: one per stored answer, so a key
 *   listing gives the entries oldest first without reading them (the size
 *   cap and the TTL sweep);
 * - `inflight:<instance>`: the miss slot an instance holds, with its expiry;
 * - `stats:<instance>`: the counters of one instance (an instance serves one
 *   call at a time, so it alone writes its key); the `stats` action sums them.
 *
 * @module
 */
import { host, type LlmResponse } from "@astrid/sdk";
import type { Config } from "./_config.ts";
import { utf8 } from "./_sha256.ts";

/** A stored answer. */
export interface Entry {
  readonly provider: string;
  readonly stored_at: number;
  readonly expires_at: number;
  /** The answer, its `request_id` blanked. */
  readonly response: LlmResponse;
}

/** The counters. */
export interface Stats {
  hits: number;
  misses: number;
  stores: number;
  expired: number;
  evictions: number;
  refused: number;
  skipped: number;
  too_large: number;
  uncacheable: number;
  saturated: number;
  store_failed: number;
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
  saturated: 0,
  store_failed: 0,
};

/** This instance's name in KV keys (module state is per instance). */
const INSTANCE = Math.random().toString(36).slice(2, 10) +
  Math.random().toString(36).slice(2, 10);

let mine: Stats | undefined;

/**
 * Adds to this instance's counters.
 *
 * @param counts The increments.
 */
export async function bump(counts: Partial<Stats>): Promise<void> {
  mine ??= { ...ZERO, ...(await host.kv.get(`stats:${INSTANCE}`) as object) };
  for (const [k, v] of Object.entries(counts) as [keyof Stats, number][]) {
    mine[k] += v;
  }
  await host.kv.set(`stats:${INSTANCE}`, mine);
}

/**
 * The counters of every instance, summed, and the number of entries.
 *
 * @returns The totals.
 */
export async function totals(): Promise<Stats & { entries: number }> {
  const sum = { ...ZERO };
  for (const key of await host.kv.listKeys("stats:")) {
    const s = await host.kv.get(key) as Partial<Stats> | null;
    for (const k of Object.keys(ZERO) as (keyof Stats)[]) {
      sum[k] += typeof s?.[k] === "number" ? s[k] : 0;
    }
  }
  return { ...sum, entries: (await host.kv.listKeys("entry:")).length };
}

function ageKey(storedAt: number, key: string): string {
  return `age:${String(storedAt).padStart(15, "0")}:${key}`;
}

/**
 * The entry of a key, or `null`.
 *
 * @param key The cache key.
 * @returns The entry.
 */
export async function load(key: string): Promise<Entry | null> {
  return await host.kv.get(`entry:${key}`) as Entry | null;
}

/**
 * Drops an entry.
 *
 * @param key The cache key.
 * @param entry The entry (for its age key).
 */
export async function drop(key: string, entry: Entry): Promise<void> {
  await host.kv.delete(`entry:${key}`);
  await host.kv.delete(ageKey(entry.stored_at, key));
}

/**
 * Stores an entry (unless too large), then sweeps: from the oldest, entries
 * past their TTL and those beyond `max_entries` are dropped. A KV failure
 * (quota) is counted, never thrown: the answer still reaches the requester.
 *
 * @param key The cache key.
 * @param entry The entry.
 * @param options The configuration and the time now.
 * @returns The counters to add.
 */
export async function store(
  key: string,
  entry: Entry,
  options: { cfg: Config; now: number },
): Promise<Partial<Stats>> {
  const { cfg, now } = options;
  const bytes = utf8(JSON.stringify(entry)).length;
  if (cfg.maxEntries === 0 || bytes > cfg.maxEntryBytes) {
    return { too_large: 1 };
  }
  try {
    await host.kv.set(`entry:${key}`, entry);
    await host.kv.set(ageKey(entry.stored_at, key), 1);
  } catch (err) {
    await host.log.warn(`cache: cannot store an answer: ${String(err)}`);
    await host.kv.delete(`entry:${key}`).catch(() => {});
    return { store_failed: 1 };
  }
  const counts = { stores: 1, evictions: 0, expired: 0 };
  // Written before listed: of two racing stores the later lister sees both.
  const ages = (await host.kv.listKeys("age:")).sort();
  let left = ages.length;
  for (const age of ages) {
    const [, at, k] = age.split(":") as [string, string, string];
    const expired = Number(at) + cfg.ttlMs <= now;
    if (!expired && left <= cfg.maxEntries) break;
    const e = await load(k);
    // a newer store of the same key has its own age key: keep its entry
    if (e !== null && e.stored_at === Number(at)) {
      await host.kv.delete(`entry:${k}`);
      counts[expired ? "expired" : "evictions"]++;
    }
    await host.kv.delete(age);
    left--;
  }
  return counts;
}

/**
 * Takes this instance's miss slot unless `max_concurrent_misses` are held.
 * Each waiting miss holds an instance while its re-entrant call needs
 * another; were every instance held, those calls would queue behind their
 * own callers until the deadline. Written first, then counted: of racing
 * misses each counts the slots written before, so no more than the limit
 * proceed (racers may all back off, which is safe). A slot left by a stopped
 * call lapses at its expiry.
 *
 * @param options The configuration and the time now.
 * @returns Whether the slot was taken (then {@linkcode releaseSlot} it).
 */
export async function takeSlot(
  options: { cfg: Config; now: number },
): Promise<boolean> {
  const { cfg, now } = options;
  const slot = `inflight:${INSTANCE}`;
  await host.kv.set(slot, now + cfg.timeoutMs + 5_000);
  let held = 0;
  for (const key of await host.kv.listKeys("inflight:")) {
    if (key === slot) continue;
    const until = await host.kv.get(key);
    if (typeof until === "number" && until > now) held++;
    else await host.kv.delete(key); // lapsed: its call has ended
  }
  if (held < cfg.maxMisses) return true;
  await host.kv.delete(slot);
  return false;
}

/** Releases this instance's miss slot. */
export async function releaseSlot(): Promise<void> {
  await host.kv.delete(`inflight:${INSTANCE}`);
}

/**
 * Drops every entry (the counters stay).
 *
 * @returns How many entries were dropped.
 */
export async function clear(): Promise<number> {
  const entries = await host.kv.listKeys("entry:");
  for (const k of entries) await host.kv.delete(k);
  for (const k of await host.kv.listKeys("age:")) await host.kv.delete(k);
  return entries.length;
}
