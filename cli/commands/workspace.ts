/**
 * `astrid workspace diff|commit [paths…]|discard [paths…]`: a session's
 * overlay — the writes that wait for you before they reach the workspace.
 * The session is `--session`, else the newest session of the workspace
 * (`-w`, default the current directory). A commit is gated: its approval
 * requests are answered here (asked on a terminal; `--yes` Allow Once;
 * otherwise denied).
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../kernel/api/client_kit.ts";
import type {
  ApiClient,
  ApprovalInfo,
  SessionInfo,
  WorkspaceChange,
} from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** Help text of `astrid workspace`. */
export const WORKSPACE_HELP =
  `astrid workspace — the changes a session made, waiting in its overlay

Usage:
  astrid workspace diff [--session ID] [--json]
  astrid workspace commit [paths…] [--session ID] [--yes]
  astrid workspace discard [paths…] [--session ID]

The session is --session, else the newest session of the workspace (-w DIR,
default: the current directory). Paths are workspace-relative; none = all.
Committing is gated: you are asked on a terminal; --yes answers Allow Once;
without a terminal and without --yes the commit is denied.`;

const ANSWERS: Readonly<Record<string, string>> = {
  y: "allow_once",
  s: "allow_session",
  w: "allow_workspace",
  a: "allow_always",
  n: "deny",
};

async function sessionOf(
  client: ApiClient,
  flags: GlobalFlags,
  io: CommandIo,
): Promise<string> {
  if (flags.session) return flags.session;
  const workspace = await io.realPath(
    path.resolve(io.cwd, flags.workspace ?? "."),
  );
  const newest = (await client.call<SessionInfo[]>("sessionsList")).find((
    s,
  ) => s.workspace === workspace);
  if (newest === undefined) {
    throw new KernelError(
      "NOT_FOUND",
      "No session works in this workspace: pass --session ID (astrid sessions list)",
    );
  }
  return newest.id;
}

function decide(
  a: ApprovalInfo,
  flags: GlobalFlags,
  io: CommandIo,
): { decision: string; reason?: string } {
  io.err(`? approval: ${a.summary} (risk ${a.risk})`);
  if (flags.yes) return { decision: "allow_once" };
  const reply = io.ask(
    "  allow? [y]es once / [s]ession / [w]orkspace / [a]lways / [n]o:",
  );
  if (reply === null) return { decision: "deny", reason: "headless mode" };
  const decision = ANSWERS[reply.trim().toLowerCase().slice(0, 1)] ?? "deny";
  return {
    decision: a.options.includes(decision as never) ? decision : "deny",
  };
}

/** Commits while answering the commit's approval requests. */
async function commit(
  client: ApiClient,
  session: string,
  paths: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<string[]> {
  let settled = false;
  const committing = client.call<{ committed: string[] }>("workspaceCommit", {
    params: { id: session },
    body: paths.length > 0 ? { paths } : {},
  });
  committing.then(() => (settled = true), () => (settled = true));
  const answered = new Set<string>();
  while (!settled) {
    const waiting = await client.call<ApprovalInfo[]>("approvalsList", {
      query: { session },
    });
    for (const a of waiting) {
      if (a.kind !== "pending" || answered.has(a.request_id)) continue;
      answered.add(a.request_id);
      await client.call("approvalsAnswer", {
        params: { id: a.request_id },
        body: decide(a, flags, io),
      }).catch((err) => {
        // silent-ok: the request may have been answered elsewhere meanwhile.
        if (!KernelError.is(err, "NOT_FOUND")) throw err;
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      committing.catch(() => {}),
      new Promise((r) => (timer = setTimeout(r, 100))),
    ]);
    clearTimeout(timer);
  }
  return (await committing).committed;
}

/**
 * Runs `astrid workspace <sub>`.
 *
 * @param client The daemon's API.
 * @param args Arguments after `workspace`.
 * @param flags Global flags.
 * @param io The terminal.
 * @returns The exit code.
 */
export async function workspaceCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<number> {
  const [sub, ...paths] = args;
  if (sub === "diff" && paths.length === 0) {
    const id = await sessionOf(client, flags, io);
    const changes = await client.call<WorkspaceChange[]>("workspaceDiff", {
      params: { id },
    });
    if (flags.json) {
      io.out(JSON.stringify(changes));
      return 0;
    }
    if (changes.length === 0) io.out("No changes wait in the overlay.");
    for (const c of changes) {
      io.out(`${c.change} ${c.path}`);
      if (c.diff) io.out(c.diff);
    }
    return 0;
  }
  if (sub === "commit") {
    const id = await sessionOf(client, flags, io);
    const done = await commit(client, id, paths, flags, io);
    if (done.length === 0) io.out("Nothing to commit.");
    for (const line of done) io.out(`committed: ${line}`);
    return 0;
  }
  if (sub === "discard") {
    const id = await sessionOf(client, flags, io);
    const { discarded } = await client.call<{ discarded: string[] }>(
      "workspaceDiscard",
      { params: { id }, body: paths.length > 0 ? { paths } : {} },
    );
    if (discarded.length === 0) io.out("Nothing to discard.");
    for (const p of discarded) io.out(`discarded: ${p}`);
    return 0;
  }
  throw new UsageError(
    "Expected: astrid workspace diff | commit [paths…] | discard [paths…]",
  );
}
