/**
 * The CLI's way to the daemon: connect to the home's socket, starting an
 * ephemeral daemon when none runs.
 *
 * @module
 */
import { KernelError } from "../mod.ts";
import type { ApiClient } from "../kernel/api/client.ts";
import type { GlobalFlags } from "./flags.ts";

/**
 * Connects to the daemon of `ASTRID_HOME`, auto-starting one.
 *
 * @param flags Global flags.
 * @returns A client with the daemon's token.
 */
export function connectDaemon(flags: GlobalFlags): Promise<ApiClient> {
  void flags;
  return Promise.reject(
    new KernelError("DAEMON_UNAVAILABLE", "connectDaemon is being built"),
  );
}
