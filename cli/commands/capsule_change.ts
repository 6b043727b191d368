/**
 * {@linkcode afterCapsuleChange}: after the CLI installed, updated or
 * removed a capsule, a daemon that is running must restart, because its
 * scoped Deno permissions (net hosts, executables) are computed from the
 * installed manifests when it starts.
 *
 * @module
 */
import { kernelPaths } from "../../mod.ts";
import type { KernelPaths } from "../../mod.ts";
import { ApiClient } from "../../mod.ts";
import { note } from "../output.ts";

/** How {@linkcode afterCapsuleChange} reaches the daemon. */
export interface DaemonControl {
  /** A client of the daemon serving this home, or `null` when none runs (never starts one). */
  running(): Promise<ApiClient | null>;
  /** Makes the daemon restart (or stop, so that the next command starts it afresh). */
  restart(client: ApiClient): Promise<void>;
}

/**
 * The daemon of `ASTRID_HOME`, found through its files: `run/system.ready`
 * and the token, and a status answer on the socket. Restarting asks it to
 * shut down (`POST /v1/shutdown`); the next command that needs a daemon
 * starts one with the recomputed permissions.
 *
 * @param home The home's layout (default: `ASTRID_HOME`'s).
 * @returns The control.
 */
export function socketDaemonControl(
  layout?: KernelPaths["home"],
): DaemonControl {
  return {
    async running() {
      const home = layout ?? kernelPaths().home;
      let token: string;
      try {
        await Deno.lstat(home.systemReady);
        token = (await Deno.readTextFile(home.systemToken)).trim();
      } catch {
        return null;
      }
      const client = new ApiClient({ socket: home.systemSock }, token);
      try {
        await client.call("status");
        return client;
      } catch {
        client.close();
        return null;
      }
    },
    async restart(client) {
      await client.call("shutdown");
    },
  };
}

/**
 * Tells a running daemon that the installed capsules changed: it restarts so
 * that its scoped permissions are recomputed. Nothing happens when no daemon
 * runs. A daemon that cannot be told is reported, never an error (the change
 * itself is done).
 *
 * @param control How to find and restart the daemon (default: its socket).
 * @returns `none` (no daemon), `restarted`, or `failed`.
 */
export async function afterCapsuleChange(
  control: DaemonControl = socketDaemonControl(),
): Promise<"none" | "restarted" | "failed"> {
  const client = await control.running();
  if (client === null) return "none";
  try {
    await control.restart(client);
    note(
      "  the running daemon restarts to recompute its permissions for the changed capsules",
    );
    return "restarted";
  } catch (err) {
    note(
      `warning: could not restart the running daemon (${
        err instanceof Error ? err.message : String(err)
      }); run 'astrid stop' so the next command starts it with the changed capsules`,
    );
    return "failed";
  } finally {
    client.close();
  }
}
