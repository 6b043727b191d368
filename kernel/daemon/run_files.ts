/**
 * The daemon's runtime files in `run/` and what they hold: the socket, the
 * bearer token (new each boot), the ready sentinel (written once serving)
 * and the single-instance lock.
 *
 * @module
 */
import { join } from "../core/posix_path.ts";
import type { Random } from "../core/ports.ts";
import type { AstridHome } from "../host/mod.ts";

/** The paths of a daemon's runtime files. */
export interface RunFiles {
  /** `run/system.sock`: the API socket (0600). */
  readonly socket: string;
  /** `run/system.token`: the bearer token (0600). */
  readonly token: string;
  /** `run/system.ready`: {@linkcode ReadyInfo} while the daemon serves. */
  readonly ready: string;
  /** `run/system.lock`: held (flock) while a daemon runs. */
  readonly lock: string;
}

/** What `run/system.ready` holds. */
export interface ReadyInfo {
  /** The daemon's process id. */
  readonly pid: number | null;
  /** When it started serving, ms since the epoch. */
  readonly started_at: number;
  /** Whether it exits when idle. */
  readonly ephemeral: boolean;
  /** The workspace roots it was started with (`--root`), to start it again alike. */
  readonly roots: readonly string[];
}

/**
 * The runtime files of a home.
 *
 * @param home The home layout.
 * @returns Their paths.
 */
export function runFiles(home: AstridHome): RunFiles {
  return {
    socket: home.systemSock,
    token: home.systemToken,
    ready: home.systemReady,
    lock: join(home.run, "system.lock"),
  };
}

/**
 * A fresh bearer token: 32 random bytes, base64url without padding.
 *
 * @param random The randomness source.
 * @returns The token (43 characters).
 *
 * @example
 * ```ts
 * import { newBearerToken } from "./run_files.ts";
 * const t = newBearerToken({ bytes: (n) => crypto.getRandomValues(new Uint8Array(n)) });
 * console.assert(/^[A-Za-z0-9_-]{43}$/.test(t));
 * ```
 */
export function newBearerToken(random: Random): string {
  const bytes = random.bytes(32);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Parses the ready sentinel's text.
 *
 * @param text The file's content.
 * @returns The info, or `null` when it is not a ready sentinel.
 */
export function parseReady(text: string): ReadyInfo | null {
  try {
    const v = JSON.parse(text);
    if (
      v === null || typeof v !== "object" ||
      typeof v.started_at !== "number" ||
      !(v.pid === null || typeof v.pid === "number")
    ) return null;
    return {
      pid: v.pid,
      started_at: v.started_at,
      ephemeral: v.ephemeral === true,
      roots: Array.isArray(v.roots)
        ? v.roots.filter((r: unknown): r is string => typeof r === "string")
        : [],
    };
  } catch {
    return null;
  }
}
