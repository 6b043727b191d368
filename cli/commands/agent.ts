/**
 * `astrid agent "<prompt>"`: one turn of the installed agent, headless,
 * without a daemon — the kernel boots in-process on the user's
 * `ASTRID_HOME`, the installed capsules load (`astrid init` installs the
 * default distro), the turn runs through the turn API, and its events are
 * printed (or written as NDJSON with `--json`). Writes wait in the session's
 * overlay; on a terminal the command offers the gated commit. The daemon,
 * its socket API and the chat TUI come with [daemon-cli].
 *
 * @module
 */
import * as path from "node:path";
import {
  AgentSession,
  createDenoEnv,
  KernelError,
  parseSessionId,
  sessionCapsuleConfig,
  sessionModel,
  startKernel,
  startRuntime,
} from "../../mod.ts";
import type { ApprovalAnswer, ApprovalRequiredEvent } from "../../mod.ts";
import type { GlobalFlags } from "../flags.ts";
import { note, out, UsageError, warnLogger } from "../output.ts";
import { commitAnswering, showTurn } from "./turn_view.ts";

/** Help text of `astrid agent`. */
export const AGENT_HELP =
  `astrid agent — one turn of the installed agent, headless (no daemon)

Usage:
  astrid agent "<prompt>" [-w DIR] [--session ID] [--json]

  -w, --workspace DIR  the workspace the agent works in (default: the current directory)
      --session ID     continue a session: its history and its overlay
      --json           one turn event per line (NDJSON), as the turn API emits them

The installed capsules run (install the default distro first: 'astrid init').
The provider is ASTRID_PROVIDER, else config model.provider, else the
orchestrator's default (replay). ASTRID_REPLAY_FILE=<transcript.json> scripts the
replay provider. Capsule settings (the keys a capsule declares in [env], e.g. a
provider's base_url or model) go in $ASTRID_HOME/etc/capsules.toml:
  [provider-openai]
  base_url = "http://127.0.0.1:8000"
API keys are capsule secrets:
  printf %s "$KEY" | astrid secret set provider-anthropic ANTHROPIC_API_KEY

Approvals: on a terminal you are asked; otherwise every request is denied.
Writes wait in the session overlay; on a terminal you are offered the commit
(itself gated), else the session id is printed to continue or commit later.
Exit codes: 0 the turn answered, 1 it failed (error[CODE]), 2 usage error.`;

const ANSWERS: Readonly<Record<string, ApprovalAnswer>> = {
  y: "allow_once",
  s: "allow_session",
  w: "allow_workspace",
  a: "allow_always",
  n: "deny",
};

/** Asks on a terminal; anything else, or an answer not offered, is `deny`. */
function answerOnTerminal(options: readonly ApprovalAnswer[]): ApprovalAnswer {
  if (!Deno.stdin.isTerminal()) return "deny";
  const choice = prompt(
    `      allow? [y]es once / [s]ession / [w]orkspace / [a]lways / [n]o:`,
  )?.trim().toLowerCase() ?? "n";
  const answer = ANSWERS[choice.slice(0, 1)] ?? "deny";
  return options.includes(answer) ? answer : "deny";
}

function ask(e: ApprovalRequiredEvent): ApprovalAnswer {
  return answerOnTerminal(e.options);
}

/**
 * Runs `astrid agent`.
 *
 * @param args The prompt (one argument).
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function agentCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length !== 1 || args[0]!.trim() === "") {
    throw new UsageError(`Expected one prompt: astrid agent "<prompt>"`);
  }
  const workspace = path.resolve(flags.workspace ?? ".");
  const env = createDenoEnv();
  await using kernel = await startKernel({ logger: warnLogger, workspace });
  const capsuleConfig = await sessionCapsuleConfig(kernel, env, Deno.cwd());
  await using runtime = await startRuntime(kernel, {
    workspace,
    capsuleConfig,
    ...(flags.session ? { session: parseSessionId(flags.session) } : {}),
  });
  const report = await runtime.boot();
  for (const r of report.refused) {
    note(`refused capsule ${r.capsule}: [${r.code}] ${r.reason}`);
  }
  if (!report.loaded.some((c) => c === "react")) {
    throw new KernelError(
      "NOT_FOUND",
      "No orchestrator is installed: run 'astrid init' to install the default distro",
    );
  }
  const agent = new AgentSession(kernel, runtime, sessionModel(kernel, env));
  if (flags.json) {
    let last = "error";
    for await (const e of agent.turn(args[0]!)) {
      out(JSON.stringify(e));
      if (e.type === "approval_required") agent.answer(e.request_id, "deny");
      last = e.type;
    }
    return last === "final" ? 0 : 1;
  }
  note(`session ${runtime.session} in ${workspace}`);
  const last = await showTurn(agent, args[0]!, ask, workspace);
  await offerCommit(kernel, runtime);
  return last.type === "final" ? 0 : 1;
}

async function offerCommit(
  kernel: Parameters<typeof startRuntime>[0],
  runtime: Awaited<ReturnType<typeof startRuntime>>,
): Promise<void> {
  const overlay = await runtime.overlays.forSession(
    kernel.principal,
    runtime.session,
    { workspace: runtime.workspace },
  );
  const changes = await overlay.diff();
  if (changes.length === 0) return;
  out(`\n${changes.length} change(s) wait in the session overlay:`);
  for (const c of changes) out(`  ${c.change} ${c.path}`);
  const yes = Deno.stdin.isTerminal() &&
    prompt("Commit them to the workspace? [y/N]")?.trim().toLowerCase() ===
      "y";
  if (!yes) {
    out(
      `Not committed. Continue with: astrid agent --session ${runtime.session} "…"`,
    );
    return;
  }
  const committed = await commitAnswering(
    kernel,
    runtime,
    overlay,
    (summary, options) => {
      out(`  ? approval needed: ${summary}`);
      return answerOnTerminal(options);
    },
  );
  out(`committed: ${committed.join(", ")}`);
}
