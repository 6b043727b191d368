/**
 * The chat's `/` commands that work on the daemon: sessions, the overlay's
 * diff and commit, the approval list. Each takes the chat as a
 * {@linkcode CommandContext}.
 *
 * @module
 */
import type { ChatApi, ChatSession } from "./chat_api.ts";
import type { ChatState } from "./chat_state.ts";

/** How often `/commit` looks for approval requests of its own. */
const COMMIT_POLL_MS = 400;

/** What a command works on. */
export interface CommandContext {
  /** The daemon API. */
  readonly api: ChatApi;
  /** The current session. */
  session(): ChatSession;
  /** The screen state. */
  readonly state: ChatState;
  /** Continues another session. */
  switchTo(session: ChatSession): void;
  /** Asks for a repaint. */
  repaint(): void;
}

/**
 * `/sessions [id]`: lists the sessions, or continues the one whose id starts
 * with `pick`.
 *
 * @param ctx The chat.
 * @param pick An id prefix.
 */
export async function sessionsCommand(
  ctx: CommandContext,
  pick: string | undefined,
): Promise<void> {
  const sessions = await ctx.api.sessions();
  if (pick !== undefined) {
    const matches = sessions.filter((s) => s.id.startsWith(pick));
    if (matches.length !== 1) {
      ctx.state.transcript.add(
        "error",
        matches.length === 0
          ? `no session starts with '${pick}'`
          : `'${pick}' matches ${matches.length} sessions; type more of the id`,
      );
      return;
    }
    ctx.switchTo(
      await ctx.api.open({
        workspace: ctx.session().workspace,
        session: matches[0]!.id,
      }),
    );
    return;
  }
  if (sessions.length === 0) {
    ctx.state.transcript.add("notice", "no sessions");
    return;
  }
  ctx.state.transcript.add(
    "notice",
    [
      "Sessions (/sessions <id> continues one):",
      ...sessions.slice(0, 50).map((s) =>
        `${s.id === ctx.session().id ? "*" : " "} ${s.id}  ${s.turns} turns  ${
          s.busy ? "busy  " : ""
        }${s.pending_approvals ? `${s.pending_approvals} approvals  ` : ""}${
          s.title ?? "(no prompt yet)"
        }  ${s.workspace}`
      ),
    ].join("\n"),
  );
}

/**
 * `/diff`: the changes waiting in the session's overlay.
 *
 * @param ctx The chat.
 */
export async function diffCommand(ctx: CommandContext): Promise<void> {
  const changes = await ctx.api.diff(ctx.session().id);
  if (changes.length === 0) {
    ctx.state.transcript.add("notice", "no changes waiting in the overlay");
    return;
  }
  ctx.state.transcript.add(
    "notice",
    `${changes.length} change(s) waiting (/commit writes them):`,
  );
  for (const c of changes) {
    ctx.state.transcript.add("tool", `${c.change} ${c.path}`);
    if (c.diff) {
      const lines = c.diff.split("\n");
      ctx.state.transcript.add(
        "notice",
        lines.slice(0, 200).join("\n") +
          (lines.length > 200 ? `\n… ${lines.length - 200} more lines` : ""),
      );
    }
  }
}

/**
 * `/commit [paths]`: commits the overlay; the commit is gated, so its
 * approval requests are found by polling the list and asked.
 *
 * @param ctx The chat.
 * @param paths Workspace-relative paths; none = every change.
 * @param signal Ctrl-C.
 */
export async function commitCommand(
  ctx: CommandContext,
  paths: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  // a commit is gated: its approval requests are found by polling the list
  const stop = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stop.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  const poll = (async () => {
    while (!stop.signal.aborted && !signal.aborted) {
      await sleep(COMMIT_POLL_MS);
      if (stop.signal.aborted) break;
      try {
        await listApprovals(ctx, true);
      } catch {
        // silent-ok: the commit's own answer reports what failed
      }
    }
  })();
  try {
    const committed = await ctx.api.commit(
      ctx.session().id,
      paths,
      signal,
    );
    ctx.state.transcript.add(
      "ok",
      committed.length === 0
        ? "nothing committed"
        : `committed:\n${committed.map((p) => `  ${p}`).join("\n")}`,
    );
  } finally {
    stop.abort();
    await poll;
  }
}

/**
 * `/approvals`: lists the session's pending and deferred requests, and
 * queues them to be asked.
 *
 * @param ctx The chat.
 * @param quiet Queue them without listing them.
 */
export async function listApprovals(
  ctx: CommandContext,
  quiet = false,
): Promise<void> {
  const list = await ctx.api.approvals(ctx.session().id);
  if (!quiet) {
    ctx.state.transcript.add(
      "notice",
      list.length === 0 ? "no approvals waiting" : [
        `${list.length} approval(s) waiting:`,
        ...list.map((a) =>
          `  ${a.kind} ${a.request_id}: ${
            a.summary || `${a.action} ${a.resource}`
          }${a.reason ? ` (${a.reason})` : ""}`
        ),
      ].join("\n"),
    );
  }
  for (const a of list) {
    if (ctx.state.answered.has(a.request_id)) continue;
    ctx.state.enqueue({
      request_id: a.request_id,
      action: a.action,
      resource: a.resource,
      risk: a.risk,
      options: a.options,
      source: "list",
    });
  }
  ctx.repaint();
}
