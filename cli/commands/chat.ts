/**
 * `astrid chat`: the interactive chat TUI, a client of the daemon API (the
 * local daemon's socket, or a headless server with `--url`). A dependency-
 * free terminal program: plain ANSI escape sequences and raw mode, no UI
 * framework. The core (`cli/tui/chat_app.ts`) takes the API client and the
 * terminal as parameters.
 *
 * @module
 */
import * as path from "node:path";
import { connectDaemon } from "../daemon_client.ts";
import type { GlobalFlags } from "../flags.ts";
import { out, UsageError } from "../output.ts";
import { openSession, runChat } from "../tui/chat_app.ts";
import { parseEventLines, snapshotTui } from "../tui/snapshot.ts";
import { isInteractive, processTerminal } from "../tui/terminal.ts";

/** Help text of `astrid chat`. */
export const CHAT_HELP = `astrid chat — talk with the agent in the terminal

Usage:
  astrid chat [-w DIR] [--session ID] [--url URL]
  astrid chat --snapshot-tui [--file EVENTS.jsonl] ["<prompt>"]

  -w, --workspace DIR  the workspace of a new session (default: the current directory)
      --session ID     continue a session (its history and overlay)
      --url URL        a headless server instead of the local daemon (token: ASTRID_TOKEN)
      --snapshot-tui   print the 80x24 screen after the turn events (JSON lines, as
                       'astrid -p --json' prints them) of --file or stdin, and exit

In the chat:
  Enter sends the prompt; ↑/↓ walk the history; PgUp/PgDn scroll.
  Approvals: y allow once · s session · w workspace · a always · n/Esc deny.
  /help /new /sessions [id] /diff /commit [paths] /approvals /clear /quit
  Ctrl-C cancels the running turn; a second Ctrl-C (or one when idle) quits.

Needs a terminal. For scripts and pipes use 'astrid -p "<prompt>"'.`;

async function realWorkspace(dir: string): Promise<string> {
  try {
    const real = await Deno.realPath(path.resolve(dir));
    if (!(await Deno.stat(real)).isDirectory) {
      throw new Error("not a directory");
    }
    return real;
  } catch {
    throw new UsageError(`The workspace '${dir}' is not a directory`);
  }
}

/**
 * Runs `astrid chat`.
 *
 * @param args Positionals after `chat` (none).
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function chatCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (flags.snapshotTui) {
    const text = flags.file !== undefined
      ? await Deno.readTextFile(flags.file)
      : await new Response(Deno.stdin.readable).text();
    const prompt = args.join(" ");
    out(snapshotTui(parseEventLines(text), prompt ? { prompt } : {}));
    return 0;
  }
  if (args.length > 0) {
    throw new UsageError(
      `'astrid chat' takes no arguments (got '${
        args[0]
      }'); for one prompt use astrid -p "<prompt>"`,
    );
  }
  if (!isInteractive()) {
    throw new UsageError(
      `'astrid chat' needs a terminal on stdin and stdout; for scripts and pipes use astrid -p "<prompt>" (--yes allows approvals, --json prints events)`,
    );
  }
  // the daemon compares real paths against its workspace roots
  const workspace = await realWorkspace(flags.workspace ?? Deno.cwd());
  const client = await connectDaemon(flags);
  try {
    const session = await openSession(client, {
      workspace,
      ...(flags.session ? { session: flags.session } : {}),
    });
    const terminal = processTerminal();
    try {
      const home = Deno.env.get("HOME");
      await runChat(client, terminal, session, {
        color: Deno.env.get("NO_COLOR") === undefined,
        ...(home ? { home } : {}),
      });
    } finally {
      terminal.restore();
    }
    out(
      `continue with: astrid chat --session ${session.id}`,
    );
    return 0;
  } finally {
    client.close();
  }
}
