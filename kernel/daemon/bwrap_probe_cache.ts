/**
 * The bubblewrap probe, remembered: `findBubblewrap` spawns `bwrap` under
 * the full sandbox options (tens of milliseconds, more on a loaded host),
 * and both the CLI (computing the daemon's flags) and every session's
 * runtime ask for it. A positive answer is kept in `var/bwrap-probe.json`
 * of `ASTRID_HOME`, keyed by the binary's path, size and mtime, for at most
 * {@linkcode BWRAP_CACHE_MAX_AGE_MS}.
 *
 * Security model — why a remembered answer cannot weaken a sandbox:
 * - Only "usable" is remembered, never "not usable". A stale "usable" fails
 *   closed: the kernel then launches every spawn and non-Deno MCP server
 *   through that `bwrap` (`runInSandbox`, `sandboxLaunch`), which fails
 *   with an error — nothing falls back to running unconfined, because the
 *   unconfined path (`security.allow_unsandboxed_spawn`, `spawnsUnsandboxed`)
 *   is taken only when the answer is `null`. A stale "not usable" would NOT
 *   fail closed with that setting on (processes would run unconfined while
 *   bubblewrap works), so `null` is always probed afresh.
 * - The remembered path must be one of the probed candidates and must still
 *   be a regular file of the remembered size and mtime (a replaced or
 *   upgraded binary is probed again); anything unreadable, malformed or old
 *   is a miss. The file lives in `ASTRID_HOME`, which capsules can never
 *   reach; a writer of `ASTRID_HOME` already holds the keys.
 * - Writing it is best effort (an unwritable home only costs the probe).
 *
 * @module
 */
import * as path from "node:path";
import type { Clock, FileSystem } from "../core/ports.ts";
import { BWRAP_CANDIDATES } from "../capsule/sandbox/find_bwrap.ts";

/** How long a remembered probe counts (a day). */
export const BWRAP_CACHE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** The cache file's name in `var/`. */
export const BWRAP_CACHE_FILE = "bwrap-probe.json";

/** What {@linkcode cachedBubblewrap} needs. */
export interface BwrapCacheDeps {
  /** The host file system (stat of the binary, the cache file). */
  readonly fs: FileSystem;
  /** Now (the age of a remembered answer). */
  readonly clock: Pick<Clock, "now">;
  /** `var/` of `ASTRID_HOME`. */
  readonly varDir: string;
  /** The real probe (`findBubblewrap` over `candidates`). */
  readonly probe: () => Promise<string | null>;
  /** The paths the probe tries; a remembered path must be one of them. */
  readonly candidates?: readonly string[];
}

interface Remembered {
  readonly v: 1;
  readonly path: string;
  readonly size: number;
  readonly mtime_ms: number;
  readonly probed_at: number;
}

async function identity(
  fs: FileSystem,
  p: string,
): Promise<{ size: number; mtime_ms: number } | null> {
  const info = await fs.stat(p).catch(() => null);
  if (info === null || !info.isFile || info.mtimeMs === null) return null;
  return { size: info.size, mtime_ms: info.mtimeMs };
}

async function recall(
  deps: BwrapCacheDeps,
  file: string,
  candidates: readonly string[],
): Promise<string | null> {
  const text = await deps.fs.readTextFile(file).catch(() => null);
  if (text === null) return null;
  let r: Partial<Remembered>;
  try {
    r = JSON.parse(text) as Partial<Remembered>;
  } catch {
    return null;
  }
  if (
    r === null || typeof r !== "object" || r.v !== 1 ||
    typeof r.path !== "string" || !candidates.includes(r.path) ||
    typeof r.probed_at !== "number"
  ) {
    return null;
  }
  const age = deps.clock.now() - r.probed_at;
  if (age < 0 || age > BWRAP_CACHE_MAX_AGE_MS) return null;
  const now = await identity(deps.fs, r.path);
  return now !== null && now.size === r.size && now.mtime_ms === r.mtime_ms
    ? r.path
    : null;
}

/**
 * The usable `bwrap`: a remembered positive probe when it still matches
 * the binary, else a fresh probe (remembered when positive).
 *
 * @param deps File system, clock, `var/` directory, the probe.
 * @returns The `bwrap` path, or `null` when the fresh probe found none.
 *
 * @example Probe once, then remember
 * ```ts ignore
 * const bwrap = await cachedBubblewrap({
 *   fs, clock, varDir: home.var,
 *   probe: () => findBubblewrap(spawner),
 * });
 * ```
 */
export async function cachedBubblewrap(
  deps: BwrapCacheDeps,
): Promise<string | null> {
  const candidates = deps.candidates ?? BWRAP_CANDIDATES;
  const file = path.join(deps.varDir, BWRAP_CACHE_FILE);
  const remembered = await recall(deps, file, candidates);
  if (remembered !== null) return remembered;
  const found = await deps.probe();
  if (found === null || !candidates.includes(found)) return found;
  const id = await identity(deps.fs, found);
  if (id === null) return found;
  const record: Remembered = {
    v: 1,
    path: found,
    ...id,
    probed_at: deps.clock.now(),
  };
  // Atomic: a temp file renamed over the cache (a reader sees all or none).
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    await deps.fs.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await deps.fs.rename(tmp, file);
  } catch {
    // silent-ok: the cache is an optimisation; the next start probes again.
    await deps.fs.remove(tmp).catch(() => {});
  }
  return found;
}
