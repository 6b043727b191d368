/**
 * `astrid` — the command-line client. `deno task astrid <args>` behaves exactly
 * like the installed `astrid <args>`.
 *
 * @module
 */
import { VERSION } from "../mod.ts";
import { CAPSULE_HELP, capsuleCommand } from "./commands/capsule.ts";
import { AGENT_HELP, agentCommand } from "./commands/agent.ts";
import { CHAT_HELP, chatCommand } from "./commands/chat.ts";
import { SECRET_HELP, secretCommand } from "./commands/secret.ts";
import { CONFIG_HELP, configCommand } from "./commands/config.ts";
import { DEMO_HELP, demoCommand } from "./commands/demo.ts";
import {
  DISTRO_HELP,
  distroCommand,
  INIT_HELP,
  initCommand,
} from "./commands/distro.ts";
import { KEYS_HELP, keysCommand } from "./commands/keys.ts";
import { parseFlags } from "./flags.ts";
import { out, reportError, UsageError } from "./output.ts";

const HELP = `astrid ${VERSION} — an operating system for AI agents, on Deno

Usage: astrid <command> [options]

Commands:
  demo [kernel]        an agent at work under the gate, offline, in a throwaway home
  chat                 talk with the agent in the terminal (the chat TUI)
  agent "<prompt>"     one turn of the installed agent, headless (no daemon)
  secret set|exists    a capsule's secrets (API keys), value from stdin
  config show|validate|paths
                       the layered configuration and where each value comes from
  keys show|generate   the runtime key that signs tokens and audit entries
  capsule new|build|install
                       write your own capsule, build it, install it
  init                 install the default distro (capsules/Distro.toml)
  distro lock|verify|install
                       pin a distro's capsule sources (Distro.lock) and install it
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

const COMMAND_HELP: Readonly<Record<string, string>> = {
  config: CONFIG_HELP,
  keys: KEYS_HELP,
  demo: DEMO_HELP,
  agent: AGENT_HELP,
  chat: CHAT_HELP,
  secret: SECRET_HELP,
  capsule: CAPSULE_HELP,
  distro: DISTRO_HELP,
  init: INIT_HELP,
};

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
    if (command === "help" || flags.help || command === undefined) {
      const topic = command === "help" ? rest[0] : command;
      out(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : HELP);
      return command === undefined && !flags.help ? 2 : 0;
    }
    switch (command) {
      case "demo":
        return await demoCommand(rest, flags);
      case "chat":
        return await chatCommand(rest, flags);
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
      case "distro":
        return await distroCommand(rest, flags);
      case "init":
        return await initCommand(rest, flags);
      default:
        throw new UsageError(`Unknown command '${command}'`);
    }
  } catch (err) {
    return reportError(err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
