/**
 * `astrid start | status | stop`: the daemon's life from the command line.
 *
 * @module
 */
import { resolve, type StatusInfo } from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { out, UsageError } from "../output.ts";
import {
  findDaemon,
  homeFiles,
  spawnDaemon,
  startAndWait,
  stopDaemon,
} from "../daemon_client.ts";

/** Help text of `astrid start`. */
export const START_HELP = `astrid start — start the daemon of $ASTRID_HOME

Usage: astrid start [--foreground] [-w DIR]

Starts a daemon that stays until 'astrid stop' (the CLI otherwise starts an
ephemeral one on demand, which exits after timeouts.idle_secs idle). It serves
the API on $ASTRID_HOME/run/system.sock (mode 0600, bearer token in
run/system.token) and may work in the workspace (-w, default: the current
directory) and the directories of workspace.roots.

Options:
  --foreground   run attached to this terminal (logs on stderr; Ctrl-C stops it)
  -w DIR         the workspace root to serve

A daemon that already runs is left alone (exit 0). Logs of a background
daemon: $ASTRID_HOME/log/daemon.log.`;

/** Help text of `astrid status`. */
export const STATUS_HELP = `astrid status — is the daemon running, and how

Usage: astrid status [--json] [--url URL]

Prints version, process, uptime, sessions and engines of the daemon of
$ASTRID_HOME (or of the headless server of --url/ASTRID_URL with
ASTRID_TOKEN). Never starts a daemon. Exit 1 when none runs.`;

/** Help text of `astrid stop`. */
export const STOP_HELP = `astrid stop — stop the daemon gracefully

Usage: astrid stop

Asks the daemon of $ASTRID_HOME to stop (turns end, state is flushed, the
socket removed) and waits until it is gone. Exit 0 also when none runs.`;

function describe(s: StatusInfo): string {
  const secs = Math.round(s.uptime_ms / 1000);
  const engines = s.engines.map((e) =>
    e.available ? e.name : `${e.name} (unavailable: ${e.reason ?? "?"})`
  ).join(", ");
  return [
    `daemon:    running (${s.mode}, pid ${s.pid ?? "?"}, up ${secs}s)`,
    `version:   ${s.version} (deno ${s.deno})`,
    `principal: ${s.principal}`,
    `sessions:  ${s.sessions.known} known, ${s.sessions.live} live`,
    `engines:   ${engines}`,
    `key id:    ${s.key_id}`,
    `idle exit: ${
      s.idle_timeout_ms === null
        ? "never"
        : `after ${Math.round(s.idle_timeout_ms / 1000)}s idle`
    }`,
  ].join("\n");
}

/**
 * Runs `astrid status`.
 *
 * @param args Arguments after `status` (none).
 * @param flags Global flags.
 * @returns The exit code (1 when no daemon runs).
 */
export async function statusCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) throw new UsageError("astrid status takes no arguments");
  using client = await findDaemon(flags);
  if (client === null) {
    out(
      flags.json ? JSON.stringify({ running: false }) : "daemon: not running",
    );
    return 1;
  }
  const status = await client.call<StatusInfo>("status");
  out(
    flags.json
      ? JSON.stringify({ running: true, ...status }, null, 2)
      : describe(status),
  );
  return 0;
}

/**
 * Runs `astrid start [--foreground]`.
 *
 * @param args Arguments after `start` (none).
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function startCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) throw new UsageError("astrid start takes no arguments");
  {
    using running = await findDaemon({ ...flags, url: "" });
    if (running !== null) {
      const s = await running.call<StatusInfo>("status");
      out(`daemon: already running (pid ${s.pid ?? "?"})`);
      return 0;
    }
  }
  const workspace = resolve(Deno.cwd(), flags.workspace ?? ".");
  if (flags.foreground) {
    const child = await spawnDaemon({
      workspace,
      ephemeral: false,
      attached: true,
    });
    // Ctrl-C reaches the daemon itself (same process group); a signal sent
    // to this process only is passed on. Either way this process waits for
    // the daemon's graceful stop instead of dying first.
    const forward = (signal: "SIGINT" | "SIGTERM") => () => {
      try {
        child.kill(signal);
      } catch {
        // silent-ok: already gone
      }
    };
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    Deno.addSignalListener("SIGINT", onInt);
    Deno.addSignalListener("SIGTERM", onTerm);
    try {
      return (await child.status).code;
    } finally {
      Deno.removeSignalListener("SIGINT", onInt);
      Deno.removeSignalListener("SIGTERM", onTerm);
    }
  }
  using client = await startAndWait({ workspace, ephemeral: false });
  const s = await client.call<StatusInfo>("status");
  out(
    `daemon: started (pid ${s.pid ?? "?"}), socket ${homeFiles().files.socket}`,
  );
  return 0;
}

/**
 * Runs `astrid stop`.
 *
 * @param args Arguments after `stop` (none).
 * @param _flags Global flags (none apply).
 * @returns The exit code.
 */
export async function stopCommand(
  args: readonly string[],
  _flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) throw new UsageError("astrid stop takes no arguments");
  out(
    (await stopDaemon()) === "none" ? "daemon: not running" : "daemon: stopped",
  );
  return 0;
}
