// deno-lint-ignore-file no-console -- the daemon's entry point reports a failed start on stderr
/**
 * The daemon's entry point:
 *
 * ```sh
 * deno run <flags> kernel/main.ts [--root DIR]... [--ephemeral] [--log FILE]
 * ```
 *
 * Boots the kernel of `ASTRID_HOME` and serves the API on
 * `$ASTRID_HOME/run/system.sock` until SIGINT/SIGTERM, `POST /v1/shutdown`
 * or, with `--ephemeral`, `timeouts.idle_secs` without activity. `--log`
 * appends the daemon's log lines to a file (the CLI's auto-start uses
 * `$ASTRID_HOME/log/daemon.log`). Exit code 0 after a clean stop; 1 with
 * `error[CODE]: message` when it cannot start (`DAEMON_RUNNING` when a
 * daemon already serves the home).
 *
 * @module
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { toWireError } from "./core/errors.ts";
import type { Logger } from "./core/ports.ts";
import { createStderrLogger } from "./host/mod.ts";
import type { LogWriter } from "./host/mod.ts";
import { startDaemon } from "./server/daemon.ts";
import { readKernelConfig } from "./daemon/boot.ts";

/** The parsed command line of the daemon. */
export interface DaemonArgs {
  /** `--root`: workspace roots. */
  readonly roots: string[];
  /** `--ephemeral`. */
  readonly ephemeral: boolean;
  /** `--log`: a file to append log lines to. */
  readonly log?: string;
}

/**
 * Parses the daemon's arguments (strict: unknown flags are errors).
 *
 * @param argv The arguments.
 * @returns The parsed arguments.
 */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      root: { type: "string", multiple: true },
      ephemeral: { type: "boolean" },
      log: { type: "string" },
    },
  });
  return {
    roots: values.root ?? [],
    ephemeral: values.ephemeral ?? false,
    ...(values.log ? { log: values.log } : {}),
  };
}

/** A logger on the log file at the configured level (`logging.level`). */
async function fileLogger(file: LogWriter): Promise<Logger> {
  const config = await readKernelConfig().catch(() => undefined);
  return createStderrLogger({
    writer: file,
    level: config?.values.logging.level ?? "info",
  });
}

/**
 * Runs the daemon until it stops.
 *
 * @param argv The arguments.
 * @returns The exit code.
 */
export async function daemonMain(argv: readonly string[]): Promise<number> {
  let logFile: Deno.FsFile | undefined;
  const report = (text: string): void => {
    console.error(text);
    try {
      logFile?.writeSync(new TextEncoder().encode(`${text}\n`));
    } catch {
      // silent-ok: stderr got it
    }
  };
  try {
    const args = parseDaemonArgs(argv);
    if (args.log) {
      await Deno.mkdir(dirname(args.log), { recursive: true, mode: 0o700 });
      logFile = await Deno.open(args.log, {
        append: true,
        create: true,
        mode: 0o600,
      });
    }
    const daemon = await startDaemon({
      roots: args.roots,
      ephemeral: args.ephemeral,
      ...(logFile ? { logger: await fileLogger(logFile) } : {}),
    });
    await daemon.finished;
    return 0;
  } catch (err) {
    const wire = toWireError(err);
    report(`error[${wire.code}]: ${wire.message}`);
    return 1;
  } finally {
    logFile?.close();
  }
}

if (import.meta.main) Deno.exit(await daemonMain(Deno.args));
