/**
 * `astrid` — the command-line client. `deno task astrid <args>` behaves exactly
 * like the installed `astrid <args>`.
 *
 * Each command's module is loaded only when it runs: the daemon's clients
 * (`-p`, `status`, `sessions`, …) load the lean client kit, not the kernel,
 * so they start in tens of milliseconds.
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { denoIo } from "./commands/command_io.ts";
import { connectDaemon } from "./daemon_client.ts";
import { type GlobalFlags, parseFlags } from "./flags.ts";
import { out, reportError, UsageError } from "./output.ts";
import type { ApiClient } from "../kernel/api/client_kit.ts";

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
  chat                 talk with the agent in the terminal (the chat TUI)
  web [--port N]       the browser console on loopback (prints a one-time login URL)
  mcp serve [--http]   the installed capsules' tools as an MCP server, for
                       Claude Code, Claude Desktop, Cursor… (every call gated)
  mcp wrap [--install-only] -- <command> [args]
                       run any MCP server confined, gated and audited (see
                       'astrid mcp wrap --help')
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
  init                 install the default distro: pick providers, answer its
                       questions, enter API keys (capsules/Distro.toml)
  distro lock|verify|install
                       pin a distro's capsule sources (Distro.lock) and install it
  cluster status       the cluster's nodes (heartbeats, health), store and NATS
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
      --url URL        a headless server instead of the local daemon (token: ASTRID_TOKEN)

Environment:
  ASTRID_HOME          state directory (absolute; default ~/.astrid)
  ASTRID_PROVIDER      the provider of a run (e.g. anthropic, openai, ollama, replay)
  ASTRID_REPLAY_FILE   the replay provider's transcript (read by the daemon)
  ASTRID_URL, ASTRID_TOKEN
                       a headless server and its bearer token (as --url)
  ASTRID_*             config overrides, e.g. ASTRID_WORKSPACE_MODE=safe

Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

/** A command: how it runs and its help (per subcommand when it has some). */
interface Command {
  readonly run: (
    args: readonly string[],
    flags: GlobalFlags,
  ) => Promise<number>;
  readonly help: (sub: string | undefined) => string;
}

/** Runs a daemon client command with a connection to the daemon. */
async function withDaemon(
  flags: GlobalFlags,
  run: (client: ApiClient) => Promise<number>,
): Promise<number> {
  using client = await connectDaemon(flags);
  return await run(client);
}

type ClientCommand = (
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: ReturnType<typeof denoIo>,
) => Promise<number>;

/** A command that talks to the daemon. */
function client(run: ClientCommand, help: string): Command {
  return {
    run: (args, flags) =>
      withDaemon(flags, (c) => run(c, args, flags, denoIo())),
    help: () => help,
  };
}

/** A command that runs on its own. */
function local(
  run: (args: readonly string[], flags: GlobalFlags) => Promise<number>,
  help: string,
): Command {
  return { run, help: () => help };
}

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  chat: async () => {
    const m = await import("./commands/chat.ts");
    return local(m.chatCommand, m.CHAT_HELP);
  },
  demo: async () => {
    const m = await import("./commands/demo.ts");
    return local(m.demoCommand, m.DEMO_HELP);
  },
  agent: async () => {
    const m = await import("./commands/agent.ts");
    return local(m.agentCommand, m.AGENT_HELP);
  },
  secret: async () => {
    const m = await import("./commands/secret.ts");
    return local(m.secretCommand, m.SECRET_HELP);
  },
  config: async () => {
    const m = await import("./commands/config.ts");
    return local(m.configCommand, m.CONFIG_HELP);
  },
  keys: async () => {
    const m = await import("./commands/keys.ts");
    return local(m.keysCommand, m.KEYS_HELP);
  },
  capsule: async () => {
    const m = await import("./commands/capsule.ts");
    return local(m.capsuleCommand, m.CAPSULE_HELP);
  },
  audit: async () => {
    const m = await import("./commands/audit.ts");
    return { run: m.auditCommand, help: m.auditHelp };
  },
  distro: async () => {
    const m = await import("./commands/distro.ts");
    return local(m.distroCommand, m.DISTRO_HELP);
  },
  init: async () => {
    const m = await import("./commands/init.ts");
    return local(m.initCommand, m.INIT_HELP);
  },
  sessions: async () => {
    const m = await import("./commands/sessions.ts");
    return client(m.sessionsCommand, m.SESSIONS_HELP);
  },
  cluster: async () => {
    const m = await import("./commands/cluster.ts");
    return client(m.clusterCommand, m.CLUSTER_HELP);
  },
  approvals: async () => {
    const m = await import("./commands/approvals.ts");
    return client(m.approvalsCommand, m.APPROVALS_HELP);
  },
  workspace: async () => {
    const m = await import("./commands/workspace.ts");
    return client(m.workspaceCommand, m.WORKSPACE_HELP);
  },
  mcp: async () => {
    const m = await import("./commands/mcp.ts");
    return local((args, flags) => {
      const env = Deno.env.toObject();
      m.checkMcpArgs(args, flags, env); // usage errors start no daemon
      return withDaemon(
        flags,
        (c) => m.mcpCommand(c, args, flags, denoIo(), env),
      );
    }, m.MCP_HELP);
  },
  start: async () => {
    const m = await import("./commands/daemon.ts");
    return local(m.startCommand, m.START_HELP);
  },
  status: async () => {
    const m = await import("./commands/daemon.ts");
    return local(m.statusCommand, m.STATUS_HELP);
  },
  stop: async () => {
    const m = await import("./commands/daemon.ts");
    return local(m.stopCommand, m.STOP_HELP);
  },
  web: async () => {
    const m = await import("./commands/web.ts");
    return local(m.webCommand, m.WEB_HELP);
  },
  doctor: async () => {
    const m = await import("./commands/doctor.ts");
    return local(m.doctorCommand, m.DOCTOR_HELP);
  },
};

/** `-p`: one turn through the daemon. */
async function printCommand(): Promise<Command> {
  const m = await import("./commands/print.ts");
  return client(
    (c, _args, flags, io) => m.printCommand(c, _args, flags, io),
    m.PRINT_HELP,
  );
}

/**
 * Runs the CLI.
 *
 * @param argv Arguments without the program name.
 * @returns The exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    // `mcp wrap` parses its own arguments: everything after `--` is the
    // wrapped server's command line, never astrid's flags.
    if (argv[0] === "mcp" && argv[1] === "wrap") {
      const m = await import("./mcp/wrap.ts");
      return await m.wrapCommand(argv.slice(2));
    }
    const { positionals, flags } = parseFlags(argv);
    const [command, ...rest] = positionals;
    if (flags.version) {
      out(`astrid ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    }
    if (flags.print) {
      const print = await printCommand();
      if (flags.help) {
        out(print.help(undefined));
        return 0;
      }
      return await print.run(positionals, flags);
    }
    if (command === "help" || flags.help || command === undefined) {
      const topic = command === "help" ? rest[0] : command;
      const sub = command === "help" ? rest[1] : rest[0];
      const load = topic === undefined ? undefined : COMMANDS[topic];
      out(load ? (await load()).help(sub) : HELP);
      return command === undefined && !flags.help ? 2 : 0;
    }
    const load = COMMANDS[command];
    if (load === undefined) {
      throw new UsageError(`Unknown command '${command}'`);
    }
    return await (await load()).run(rest, flags);
  } catch (err) {
    return reportError(err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
