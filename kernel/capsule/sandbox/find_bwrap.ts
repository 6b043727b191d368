/**
 * Finds a bubblewrap (`bwrap`) that actually works on this host.
 *
 * Security model: being installed is not enough — user namespaces may be
 * disabled (sysctl, AppArmor, a container without them), and then every
 * sandboxed launch would fail. So each candidate runs `true` under the same
 * namespace, capability and mount options every sandbox gets
 * ({@linkcode bwrapArgs}); only a
 * clean exit counts. The probe runs with an environment of just `PATH`.
 *
 * @module
 */
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import type { Spawner } from "../../core/ports.ts";
import { bwrapArgs } from "./bwrap_args.ts";
import { SANDBOX_PATH } from "./sandbox_env.ts";

/** Where Debian, Fedora, Arch and source installs put `bwrap` (probed in this order). */
export const BWRAP_CANDIDATES: readonly string[] = Object.freeze([
  "/usr/bin/bwrap",
  "/usr/local/bin/bwrap",
  "/bin/bwrap",
]);

/** The probe: `true` in the same sandbox a spawned process gets. */
const PROBE_ARGS: readonly string[] = bwrapArgs({
  command: "true",
  args: [],
  chdir: "/",
  workspace: "/",
});

/** Options of {@linkcode findBubblewrap}. */
export interface FindBubblewrapOptions {
  /** Cancels the probes. */
  readonly signal?: AbortSignal;
}

/**
 * Returns the first candidate that runs a command inside a bubblewrap
 * sandbox (`--unshare-all`, `--cap-drop ALL`, read-only root, fresh `/dev`,
 * `/proc` and `/tmp`), or `null` when none does: missing, not executable, or
 * refused by the host (user namespaces disabled).
 *
 * @param spawner Starts the probes (needs `--allow-run` for the candidates).
 * @param candidates Paths to try, in order; by default `/usr/bin/bwrap`,
 *   `/usr/local/bin/bwrap`, `/bin/bwrap`.
 * @param options Cancellation.
 * @returns The usable `bwrap` path, or `null`.
 * @throws {KernelError} `ABORTED` when the signal fires.
 *
 * @example Probe for bubblewrap
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDenoSpawner } from "../../host/deno_spawner.ts";
 * import { findBubblewrap } from "./find_bwrap.ts";
 * const found = await findBubblewrap(createDenoSpawner(), ["/nonexistent/bwrap"]);
 * assert.equal(found, null);
 * ```
 */
export async function findBubblewrap(
  spawner: Spawner,
  candidates: readonly string[] = BWRAP_CANDIDATES,
  options: FindBubblewrapOptions = {},
): Promise<string | null> {
  for (const candidate of candidates) {
    throwIfAborted(options.signal, "probing for bubblewrap");
    try {
      const out = await spawner.output(candidate, {
        args: PROBE_ARGS,
        env: { PATH: SANDBOX_PATH },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (out.success) return candidate;
    } catch (err) {
      if (!(err instanceof KernelError) || err.code === "ABORTED") throw err;
      // silent-ok: a candidate that is missing or cannot be started is not usable.
    }
  }
  return null;
}
