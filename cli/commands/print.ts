/**
 * `astrid -p "<prompt>"`: one turn headless through the daemon. The prompt
 * is the positionals joined with spaces, else stdin. Approvals are answered
 * without a human: `--yes` answers Allow Once (policy blocks still apply),
 * otherwise Deny with the reason "headless mode". `--json` prints one JSON
 * object per line of the types scripts rely on.
 *
 * @module
 */
import { KernelError, resolve } from "../../kernel/api/client_kit.ts";
import type {
  ApiClient,
  PromptStreamEvent,
  SessionInfo,
} from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** Help text of `astrid -p`. */
export const PRINT_HELP =
  `astrid -p — one turn of the agent, headless, through the daemon

Usage:
  astrid -p "<prompt>" [--yes] [--json] [--session ID] [--print-session] [-w DIR]
  echo "<prompt>" | astrid -p

  -p, --print          run the prompt (the arguments joined with spaces, else stdin)
  -y, --yes            answer every approval request with Allow Once
                       (policy blocks still apply); without it every request
                       is denied with the reason "headless mode"
      --json           one JSON object per line: text_delta, tool_call,
                       tool_result (is_error, content), approval_required,
                       approval_decision, final, error
      --session ID     continue a session (its history and overlay)
      --print-session  print "session: <id>" to stderr at the end
  -w, --workspace DIR  the workspace (default: the current directory)

Ctrl-C cancels the turn (a second one quits at once).
Writes wait in the session overlay: 'astrid workspace diff|commit --session ID'.
The provider is ASTRID_PROVIDER of this command, else the daemon's, else
config model.provider. ASTRID_REPLAY_FILE is read by the daemon when it starts
(an auto-started daemon inherits it; 'astrid stop' to change it).
Exit codes: 0 the turn answered, 1 it failed (error[CODE]: message), 2 usage.`;

/** The event types `--json` prints (the scripting contract). */
export const PRINT_JSON_TYPES: ReadonlySet<string> = new Set([
  "text_delta",
  "tool_call",
  "tool_result",
  "approval_required",
  "approval_decision",
  "final",
  "error",
]);

/**
 * The session a client command works in: `--session`, or a new one in the
 * workspace.
 *
 * @param client The daemon.
 * @param flags `session`, `workspace`.
 * @param io The current directory.
 * @returns The session.
 */
async function sessionFor(
  client: ApiClient,
  flags: GlobalFlags,
  io: CommandIo,
): Promise<SessionInfo> {
  if (flags.session) {
    return await client.call<SessionInfo>("sessionsShow", {
      params: { id: flags.session },
    });
  }
  const workspace = resolve(io.cwd, flags.workspace ?? ".");
  return await client.call<SessionInfo>("sessionsCreate", {
    body: { workspace },
  });
}

/**
 * Runs `astrid -p`.
 *
 * @param client The daemon's API.
 * @param args The prompt's words.
 * @param flags Global flags.
 * @param io The terminal.
 * @returns The exit code.
 */
export async function printCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<number> {
  let text = args.join(" ").trim();
  if (text === "") text = (await io.stdin())?.trim() ?? "";
  if (text === "") {
    throw new UsageError(
      `Expected a prompt: astrid -p "<prompt>" (or on stdin)`,
    );
  }
  let session: string | undefined;
  let cancel: (() => void) | undefined;
  const fail = (code: string, message: string): number => {
    if (flags.json) io.out(JSON.stringify({ type: "error", code, message }));
    io.err(`error[${code}]: ${message}`);
    return 1;
  };
  try {
    session = (await sessionFor(client, flags, io)).id;
    const id = session;
    // Ctrl-C cancels the turn in the daemon (closing the stream alone
    // would leave it running); the stream then ends with its error.
    cancel = () => {
      client.call("sessionCancel", { params: { id } }).catch(() => {});
    };
    io.interrupt?.addEventListener("abort", cancel, { once: true });
    let last: PromptStreamEvent | undefined;
    let answer = Promise.resolve();
    const provider = Deno.env.get("ASTRID_PROVIDER");
    for await (
      const e of client.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: session },
        // This run's provider (ASTRID_PROVIDER of the caller) over the daemon's.
        body: { text, ...(provider ? { provider } : {}) },
      })
    ) {
      last = e;
      if (flags.json) {
        if (PRINT_JSON_TYPES.has(e.type) && e.type !== "error") {
          io.out(JSON.stringify(e));
        }
      } else show(e, io);
      // After Ctrl-C nothing more is answered: the turn is being cancelled.
      if (e.type === "approval_required" && !io.interrupt?.aborted) {
        const decision = flags.yes && e.options.includes("allow_once")
          ? "allow_once"
          : "deny";
        answer = answer.then(() =>
          client.call("approvalsAnswer", {
            params: { id: e.request_id },
            body: decision === "deny"
              ? { decision, reason: "headless mode" }
              : { decision },
          })
        ).then(() => {}, (err) => {
          io.err(
            `warning: could not answer ${e.request_id}: ${
              err instanceof Error ? err.message : String(err)
            }`,
          );
        });
      }
    }
    await answer;
    if (last?.type === "final") return 0;
    if (last?.type === "error") return fail(last.code, last.message);
    return fail("INTERNAL", "The turn's stream ended without a final answer");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = KernelError.is(err) ? err.code : "INTERNAL";
    return fail(code, err instanceof Error ? err.message : String(err));
  } finally {
    if (cancel) io.interrupt?.removeEventListener("abort", cancel);
    if (flags.printSession && session) io.err(`session: ${session}`);
  }
}

/** The human rendering: the answer on stdout, the steps on stderr. */
function show(e: PromptStreamEvent, io: CommandIo): void {
  switch (e.type) {
    case "tool_call":
      io.err(`→ ${e.name} ${JSON.stringify(e.arguments).slice(0, 200)}`);
      break;
    case "tool_result":
      io.err(`${e.is_error ? "✖" : "←"} ${e.content.slice(0, 200)}`);
      break;
    case "approval_required":
      io.err(`? approval: ${e.action} ${e.resource} (risk ${e.risk})`);
      break;
    case "approval_decision":
      io.err(`  → ${e.decision}`);
      break;
    case "final":
      io.out(e.text);
      break;
    default:
      break;
  }
}
