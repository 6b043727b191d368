/**
 * `astrid` — the command-line client. `deno task astrid <args>` behaves exactly
 * like the installed `astrid <args>`.
 *
 * @module
 */
import { VERSION } from "../mod.ts";
import { CAPSULE_HELP, capsuleCommand } from "./commands/capsule.ts";
import { AUDIT_HELP, auditCommand, auditHelp } from "./commands/audit.ts";
import { AGENT_HELP, agentCommand } from "./commands/agent.ts";
import { SECRET_HELP, secretCommand } from "./commands/secret.ts";
import { CONFIG_HELP, configCommand } from "./commands/config.ts";
import { DEMO_HELP, demoCommand } from "./commands/demo.ts";
import { DISTRO_HELP, distroCommand } from "./commands/distro.ts";
import { INIT_HELP, initCommand } from "./commands/init.ts";
import { KEYS_HELP, keysCommand } from "./commands/keys.ts";
import { PRINT_HELP, printCommand } from "./commands/print.ts";
import { SESSIONS_HELP, sessionsCommand } from "./commands/sessions.ts";
import { APPROVALS_HELP, approvalsCommand } from "./commands/approvals.ts";
import { WORKSPACE_HELP, workspaceCommand } from "./commands/workspace.ts";
import { denoIo } from "./commands/command_io.ts";
import { connectDaemon } from "./daemon_client.ts";
import { type GlobalFlags, parseFlags } from "./flags.ts";
import {
  START_HELP,
  startCommand,
  STATUS_HELP,
  statusCommand,
  STOP_HELP,
  stopCommand,
} from "./commands/daemon.ts";
import { DOCTOR_HELP, doctorCommand } from "./commands/doctor.ts";
import { out, reportError, UsageError } from "./output.ts";

const HELP = `astrid ${VERSION} — an operating system for AI agents, on Deno

Usage: astrid <command> [options]
       astrid -p "<prompt>" [--yes] [--json] [--session ID] [--print-session]

Commands:
  -p, --print "<prompt>"
                       one turn headless through the daemon (see 'astrid -p --help')
  sessions list|show|delete
                       the daemon's sessions (they survive restarts)
  approvals list|resolve
                       approval requests waiting for you (pending and deferred)
  workspace diff|commit|discard
                       a session's writes waiting in its overlay
  demo [kernel]        an agent at work under the gate, offline, in a throwaway home
  agent "<prompt>"     one turn of the installed agent, headless (no daemon)
  secret set|exists    a capsule's secrets (API keys), value from stdin
  config show|validate|paths
                       the layered configuration and where each value comes from
  keys show|generate   the runtime key that signs tokens and audit entries
  capsule new|build|install|list|tree|update|remove
                       write your own capsule, build it, install it; manage the installed ones
  audit list|show|verify|export|stats
                       the signed audit chain; 'verify --file F --key K' checks an export offline
  init                 install the default distro (capsules/Distro.toml)
  distro lock|verify|install
                       pin a distro's capsule sources (Distro.lock) and install it
  start [--foreground] start the daemon of $ASTRID_HOME (stays until 'stop')
  status               whether the daemon runs, its sessions and engines
  stop                 stop the daemon gracefully
  doctor               check Deno, the home, keys, bubblewrap, daemon, store,
                       audit chains and the daemon's Deno flags
  help [command]       help for a command

Global options:
  -h, --help           show help
  -V, --version        print the version
      --json           machine-readable output
  -w, --workspace DIR  the workspace (project) directory

Environment:
  ASTRID_HOME          state directory (absolute; default ~/.astrid)
  ASTRID_*             config overrides, e.g. ASTRID_WORKSPACE_MODE=safe

Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

/** Commands whose subcommands have their own help (`astrid audit list --help`). */
const SUBCOMMAND_HELP: Readonly<
  Record<string, (sub: string | undefined) => string>
> = {
  audit: auditHelp,
};

const COMMAND_HELP: Readonly<Record<string, string>> = {
  config: CONFIG_HELP,
  keys: KEYS_HELP,
  demo: DEMO_HELP,
  agent: AGENT_HELP,
  secret: SECRET_HELP,
  capsule: CAPSULE_HELP,
  audit: AUDIT_HELP,
  distro: DISTRO_HELP,
  init: INIT_HELP,
  sessions: SESSIONS_HELP,
  approvals: APPROVALS_HELP,
  workspace: WORKSPACE_HELP,
  start: START_HELP,
  status: STATUS_HELP,
  stop: STOP_HELP,
  doctor: DOCTOR_HELP,
};

/** Runs a daemon client command with a connection to the daemon. */
async function withDaemon(
  flags: GlobalFlags,
  run: (client: Awaited<ReturnType<typeof connectDaemon>>) => Promise<number>,
): Promise<number> {
  using client = await connectDaemon(flags);
  return await run(client);
}

/**
 * Runs the CLI.
 *
 * @param argv Arguments without the program name.
 * @returns The exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { positionals, flags } = parseFlags(argv);
    const [command, ...rest] = positionals;
    if (flags.version) {
      out(`astrid ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    }
    if (flags.print) {
      if (flags.help) {
        out(PRINT_HELP);
        return 0;
      }
      return await withDaemon(
        flags,
        (c) => printCommand(c, positionals, flags, denoIo()),
      );
    }
    if (command === "help" || flags.help || command === undefined) {
      const topic = command === "help" ? rest[0] : command;
      const sub = command === "help" ? rest[1] : rest[0];
      const subHelp = topic ? SUBCOMMAND_HELP[topic] : undefined;
      out(
        subHelp
          ? subHelp(sub)
          : topic && COMMAND_HELP[topic]
          ? COMMAND_HELP[topic]
          : HELP,
      );
      return command === undefined && !flags.help ? 2 : 0;
    }
    switch (command) {
      case "demo":
        return await demoCommand(rest, flags);
      case "agent":
        return await agentCommand(rest, flags);
      case "secret":
        return await secretCommand(rest, flags);
      case "config":
        return await configCommand(rest, flags);
      case "keys":
        return await keysCommand(rest, flags);
      case "capsule":
        return await capsuleCommand(rest, flags);
      case "audit":
        return await auditCommand(rest, flags);
      case "distro":
        return await distroCommand(rest, flags);
      case "init":
        return await initCommand(rest, flags);
      case "sessions":
        return await withDaemon(
          flags,
          (c) => sessionsCommand(c, rest, flags, denoIo()),
        );
      case "approvals":
        return await withDaemon(
          flags,
          (c) => approvalsCommand(c, rest, flags, denoIo()),
        );
      case "workspace":
        return await withDaemon(
          flags,
          (c) => workspaceCommand(c, rest, flags, denoIo()),
        );
      case "start":
        return await startCommand(rest, flags);
      case "status":
        return await statusCommand(rest, flags);
      case "stop":
        return await stopCommand(rest, flags);
      case "doctor":
        return await doctorCommand(rest, flags);
      default:
        throw new UsageError(`Unknown command '${command}'`);
    }
  } catch (err) {
    return reportError(err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
