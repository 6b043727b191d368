/**
 * The cache's configuration (`[env]` values of its `Capsule.toml`).
 *
 * @module
 */

/** Largest KV value the kernel stores (64 KiB), less room for the encoding. */
export const KV_VALUE_LIMIT = 60_000;

/** The checked configuration. */
export interface Config {
  /** How long an answer stays valid. */
  readonly ttlMs: number;
  /** Most answers kept (the oldest are evicted). */
  readonly maxEntries: number;
  /** Largest stored entry, in UTF-8 bytes of its JSON (at most {@linkcode KV_VALUE_LIMIT}). */
  readonly maxEntryBytes: number;
  /** `global`: sessions share entries; `session`: they do not. */
  readonly scope: "global" | "session";
  /** Providers never cached. */
  readonly skip: readonly string[];
  /** Deadline of the provider call on a miss. */
  readonly timeoutMs: number;
  /** Most misses waiting on a provider at once. */
  readonly maxMisses: number;
}

function int(
  config: Readonly<Record<string, string>>,
  key: string,
  def: number,
): number {
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

/**
 * Reads and checks the config values.
 *
 * @param config The capsule's `[env]` values.
 * @returns The configuration.
 * @throws {Error} `cache config: …` naming the faulty key.
 */
export function readConfig(config: Readonly<Record<string, string>>): Config {
  const scope = config.scope ?? "global";
  if (scope !== "global" && scope !== "session") {
    throw new Error(
      `cache config: 'scope' must be 'global' or 'session', got '${scope}'`,
    );
  }
  return {
    ttlMs: int(config, "ttl_ms", 3_600_000),
    // each entry takes two of the namespace's 10 000 KV keys
    maxEntries: Math.min(int(config, "max_entries", 200), 4_000),
    maxEntryBytes: Math.min(
      int(config, "max_entry_bytes", KV_VALUE_LIMIT),
      KV_VALUE_LIMIT,
    ),
    scope,
    skip: (config.skip ?? "auto").split(",").map((s) => s.trim())
      .filter((s) => s !== ""),
    timeoutMs: Math.min(int(config, "request_timeout_ms", 60_000), 60_000),
    maxMisses: int(config, "max_concurrent_misses", 3),
  };
}
