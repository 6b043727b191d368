/**
 * `astrid approvals list|resolve`: approval requests waiting for a human —
 * pending (a turn or a commit waits now) and deferred (nobody answered in
 * time; answering re-runs the gate) — answered from any terminal.
 *
 * @module
 */
import type { ApiClient, ApprovalInfo } from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { table, UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** Help text of `astrid approvals`. */
export const APPROVALS_HELP =
  `astrid approvals — approval requests waiting for you

Usage:
  astrid approvals list [--session ID] [--json]
  astrid approvals resolve <request-id> <decision>

Decisions: allow_once, allow_session, allow_workspace, allow_always, deny.
'pending' requests hold a running turn or commit; 'deferred' ones were not
answered in time (answering re-runs the whole gate with your answer).
Every answer is recorded in the audit log.`;

/** The five answers. */
export const DECISIONS: readonly string[] = [
  "allow_once",
  "allow_session",
  "allow_workspace",
  "allow_always",
  "deny",
];

/**
 * Runs `astrid approvals <sub>`.
 *
 * @param client The daemon's API.
 * @param args Arguments after `approvals`.
 * @param flags Global flags.
 * @param io The terminal.
 * @returns The exit code.
 */
export async function approvalsCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<number> {
  const [sub, id, decision, ...extra] = args;
  if (sub === "list" && id === undefined) {
    const list = await client.call<ApprovalInfo[]>("approvalsList", {
      query: { session: flags.session },
    });
    if (flags.json) {
      io.out(JSON.stringify(list));
      return 0;
    }
    if (list.length === 0) {
      io.out("No approval requests are waiting.");
      return 0;
    }
    io.out(table([
      ["REQUEST", "KIND", "RISK", "SESSION", "WHAT"],
      ...list.map((a) => [
        a.request_id,
        a.kind,
        a.risk,
        a.session,
        a.summary + (a.reason ? ` (${a.reason})` : ""),
      ]),
    ]));
    return 0;
  }
  if (sub === "resolve" && id && decision && extra.length === 0) {
    if (!DECISIONS.includes(decision)) {
      throw new UsageError(
        `Unknown decision '${decision}': one of ${DECISIONS.join(", ")}`,
      );
    }
    await client.call("approvalsAnswer", {
      params: { id },
      body: { decision },
    });
    io.out(`${id}: ${decision}`);
    return 0;
  }
  throw new UsageError(
    "Expected: astrid approvals list | resolve <request-id> <decision>",
  );
}
