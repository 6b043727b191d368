/**
 * `astrid sessions list|show <id>|delete <id>`: the daemon's sessions.
 *
 * @module
 */
import type { ApiClient, SessionInfo } from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { table, UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** Help text of `astrid sessions`. */
export const SESSIONS_HELP = `astrid sessions — the daemon's sessions

Usage:
  astrid sessions list [--limit N] [--json]   newest first
  astrid sessions show <id> [--json]          one session
  astrid sessions delete <id>                 its record, history and overlay

A session keeps its history and its overlay (writes not yet committed) across
daemon restarts. Continue one with: astrid -p --session <id> "…"`;

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/**
 * Runs `astrid sessions <sub>`.
 *
 * @param client The daemon's API.
 * @param args Arguments after `sessions`.
 * @param flags Global flags.
 * @param io The terminal.
 * @returns The exit code.
 */
export async function sessionsCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<number> {
  const [sub, id, ...extra] = args;
  if (sub === "list" && id === undefined) {
    const limit = flags.limit === undefined ? Infinity : Number(flags.limit);
    if (!(limit > 0)) throw new UsageError("--limit must be a positive number");
    const all = (await client.call<SessionInfo[]>("sessionsList")).slice(
      0,
      limit,
    );
    if (flags.json) {
      io.out(JSON.stringify(all));
      return 0;
    }
    if (all.length === 0) {
      io.out("No sessions.");
      return 0;
    }
    io.out(table([
      ["ID", "UPDATED", "TURNS", "STATE", "WORKSPACE", "TITLE"],
      ...all.map((s) => [
        s.id,
        when(s.updated_at),
        String(s.turns),
        s.busy
          ? "busy"
          : s.pending_approvals > 0
          ? `${s.pending_approvals} pending`
          : "idle",
        s.workspace,
        s.title ?? "",
      ]),
    ]));
    return 0;
  }
  if ((sub === "show" || sub === "delete") && id && extra.length === 0) {
    if (sub === "delete") {
      await client.call("sessionsDelete", { params: { id } });
      io.out(`deleted ${id}`);
      return 0;
    }
    const s = await client.call<SessionInfo>("sessionsShow", {
      params: { id },
    });
    io.out(
      flags.json ? JSON.stringify(s, null, 2) : [
        `session:   ${s.id}`,
        `workspace: ${s.workspace}`,
        `title:     ${s.title ?? ""}`,
        `created:   ${when(s.created_at)}`,
        `updated:   ${when(s.updated_at)}`,
        `turns:     ${s.turns}`,
        `busy:      ${s.busy}`,
        `pending approvals: ${s.pending_approvals}`,
      ].join("\n"),
    );
    return 0;
  }
  throw new UsageError(
    "Expected: astrid sessions list | show <id> | delete <id>",
  );
}
