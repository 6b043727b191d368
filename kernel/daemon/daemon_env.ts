/**
 * The environment a daemon process gets: a named list, never the caller's
 * whole environment — the kernel tooling allow-list (`HOME`, `PATH`,
 * `DENO_DIR`, certificates, proxies, registry) and the `ASTRID_*` settings,
 * minus the client-side secrets (`ASTRID_TOKEN`, `ASTRID_SERVE_TOKEN`).
 *
 * @module
 */
import { isAbsolute, resolve } from "../core/posix_path.ts";
import { TOOL_ENV_NAMES } from "../host/deno_toolchain.ts";

/** Harmless output settings passed through as well. */
const OUTPUT = new Set(["NO_COLOR", "DENO_NO_UPDATE_CHECK"]);

const CLIENT_ONLY = new Set([
  "ASTRID_TOKEN",
  "ASTRID_SERVE_TOKEN",
  "ASTRID_URL",
]);

/**
 * Picks the daemon's environment out of the caller's.
 *
 * @param from The caller's environment.
 * @param cwd The caller's directory: a relative `ASTRID_REPLAY_FILE` is made absolute against it.
 * @returns The variables to pass (nothing else).
 *
 * @example
 * ```ts
 * import { daemonEnv } from "./daemon_env.ts";
 * const env = daemonEnv({ HOME: "/h", ASTRID_HOME: "/a", AWS_SECRET: "x", ASTRID_TOKEN: "t" });
 * console.assert(env.HOME === "/h" && env.ASTRID_HOME === "/a");
 * console.assert(!("AWS_SECRET" in env) && !("ASTRID_TOKEN" in env));
 * ```
 */
export function daemonEnv(
  from: Readonly<Record<string, string>>,
  cwd?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  // The daemon runs in "/": a relative transcript path means the caller's directory.
  const replay = from["ASTRID_REPLAY_FILE"];
  if (replay && cwd !== undefined && !isAbsolute(replay)) {
    from = { ...from, ASTRID_REPLAY_FILE: resolve(cwd, replay) };
  }
  for (const [k, v] of Object.entries(from)) {
    if (v === "") continue;
    if (
      TOOL_ENV_NAMES.includes(k) || OUTPUT.has(k) ||
      (k.startsWith("ASTRID_") && !CLIENT_ONLY.has(k))
    ) {
      out[k] = v;
    }
  }
  return out;
}
