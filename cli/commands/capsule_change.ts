/**
 * {@linkcode afterCapsuleChange}: after the CLI installed, updated or
 * removed a capsule, a daemon that is running must restart, because its
 * scoped Deno permissions (net hosts, executables) are computed from the
 * installed manifests when it starts.
 *
 * @module
 */
import { restartDaemon } from "../daemon_client.ts";
import { note } from "../output.ts";

/** How {@linkcode afterCapsuleChange} restarts the daemon. */
export interface DaemonControl {
  /** Restarts the home's daemon when one runs (see `restartDaemon`). */
  restart(): Promise<"none" | "stopped" | "restarted">;
}

/**
 * The daemon of `ASTRID_HOME` (or of the given environment's home).
 *
 * @param env The environment naming the home (default: the process's).
 * @returns The control.
 */
export function socketDaemonControl(
  env?: Readonly<Record<string, string>>,
): DaemonControl {
  return { restart: () => restartDaemon(env) };
}

/**
 * Restarts a running daemon after a capsule change; without one, nothing.
 *
 * @param control How to reach it (default: the home's socket).
 * @returns `none` (no daemon), `restarted`/`stopped` (see `restartDaemon`), or `failed` (a warning was printed).
 */
export async function afterCapsuleChange(
  control: DaemonControl = socketDaemonControl(),
): Promise<"none" | "stopped" | "restarted" | "failed"> {
  try {
    const what = await control.restart();
    if (what === "restarted") {
      note("  the daemon restarted with permissions for the changed capsules");
    } else if (what === "stopped") {
      note(
        "  the daemon stopped; the next command starts it with permissions for the changed capsules",
      );
    }
    return what;
  } catch (err) {
    note(
      `warning: could not restart the running daemon (${
        err instanceof Error ? err.message : String(err)
      }); run 'astrid stop' so the next command starts it with the changed capsules`,
    );
    return "failed";
  }
}
