/**
 * The daemon client commands (`astrid -p`, `sessions`, `approvals`,
 * `workspace`) run in-process against the real session API: the command
 * functions take the `ApiClient` and a terminal, so a test hands them a
 * client of the real router and captures what they print.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { PromptStreamEvent, SessionInfo } from "../kernel/api/contract.ts";
import { parseFlags } from "../cli/flags.ts";
import type { CommandIo } from "../cli/commands/command_io.ts";
import { printCommand } from "../cli/commands/print.ts";
import { sessionsCommand } from "../cli/commands/sessions.ts";
import { approvalsCommand } from "../cli/commands/approvals.ts";
import { workspaceCommand } from "../cli/commands/workspace.ts";
import {
  AGENT,
  apiTest,
  code,
  newSession,
  PROBE,
  startApi,
  WRITE_B_AND_C,
} from "./api_fixture_test.ts";

interface Captured extends CommandIo {
  readonly stdout: string[];
  readonly stderr: string[];
}

function io(cwd: string, stdin: string | null = null): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    stdin: () => Promise.resolve(stdin),
    ask: () => null,
    cwd,
    realPath: (p) => Deno.realPath(p),
  };
}

/** Runs `astrid <argv>` of a daemon command in-process. */
function argv(args: string[]) {
  const { positionals, flags } = parseFlags(args);
  return { positionals, flags };
}

async function auditActions(
  fx: Awaited<ReturnType<typeof startApi>>,
): Promise<Record<string, unknown>[]> {
  await fx.kernel.security.audit.flush();
  const out: Record<string, unknown>[] = [];
  for await (
    const line of fx.kernel.security.audit.exportJsonl(fx.kernel.principal)
  ) out.push(JSON.parse(line).action);
  return out;
}

apiTest(
  "astrid -p --json prints one JSON object per line of only the scripting types and exits 0 on final",
  async () => {
    await using fx = await startApi({
      prefix: "cli-p-json-",
      capsules: [PROBE],
    });
    const t = io(fx.tk.workspace);
    const { positionals, flags } = argv(["-p", "--json", "hello"]);
    assert.equal(await printCommand(fx.client(), positionals, flags, t), 0);
    const events = t.stdout.map((l) => JSON.parse(l) as { type: string });
    const allowed = [
      "text_delta",
      "tool_call",
      "tool_result",
      "approval_required",
      "approval_decision",
      "final",
      "error",
    ];
    assert.ok(
      events.every((e) => allowed.includes(e.type)),
      t.stdout.join("\n"),
    );
    assert.ok(events.some((e) => e.type === "text_delta"));
    const result = events.find((e) => e.type === "tool_result") as
      | { is_error?: boolean; content?: string }
      | undefined;
    assert.equal(result?.is_error, false);
    assert.equal(result?.content, "1");
    assert.deepEqual(events.at(-1), {
      type: "final",
      text: "Hello",
      usage: { input_tokens: 3, output_tokens: 2 },
    });
  },
);

apiTest(
  "astrid -p denies approvals with the reason 'headless mode' without --yes, and answers Allow Once with --yes",
  async () => {
    await using fx = await startApi({
      prefix: "cli-p-yes-",
      capsules: [PROBE],
    });
    const denied = io(fx.tk.workspace);
    const a = argv(["-p", "approve"]);
    assert.equal(
      await printCommand(fx.client(), a.positionals, a.flags, denied),
      0,
    );
    assert.deepEqual(denied.stdout, ["decision=deny"]);
    const answers = (await auditActions(fx)).filter((x) =>
      x["type"] === "approval_answer"
    );
    assert.equal(answers.at(-1)?.["reason"], "headless mode");
    const yes = io(fx.tk.workspace);
    const b = argv(["-p", "--yes", "--json", "approve"]);
    assert.equal(
      await printCommand(fx.client(), b.positionals, b.flags, yes),
      0,
    );
    const events = yes.stdout.map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.type === "approval_required"));
    assert.ok(
      events.some((e) =>
        e.type === "approval_decision" && e.decision === "allow_once"
      ),
    );
    assert.equal(events.at(-1).text, "decision=allow_once");
  },
);

apiTest(
  "astrid -p reads the prompt from stdin, --print-session names the session, --session continues it",
  async () => {
    await using fx = await startApi({
      prefix: "cli-p-session-",
      capsules: [PROBE],
    });
    const first = io(fx.tk.workspace, "hello\n");
    const a = argv(["-p", "--print-session"]);
    assert.equal(
      await printCommand(fx.client(), a.positionals, a.flags, first),
      0,
    );
    assert.deepEqual(first.stdout, ["Hello"]);
    const line = first.stderr.find((l) => l.startsWith("session: "));
    const id = line?.slice("session: ".length) ?? "";
    assert.match(id, /^[0-9a-f-]{36}$/);
    const again = io(fx.tk.workspace);
    const b = argv(["-p", "--session", id, "hello"]);
    assert.equal(
      await printCommand(fx.client(), b.positionals, b.flags, again),
      0,
    );
    const s = await fx.client().call<SessionInfo>("sessionsShow", {
      params: { id },
    });
    assert.equal(s.turns, 2);
    assert.equal(
      (await fx.client().call<SessionInfo[]>("sessionsList")).length,
      1,
    );
  },
);

apiTest(
  "astrid -p exits 1 with error[CODE]: a failed turn, a workspace outside the roots; --json also prints the error object",
  async () => {
    await using fx = await startApi({
      prefix: "cli-p-fail-",
      capsules: [PROBE],
    });
    const failed = io(fx.tk.workspace);
    const a = argv(["-p", "--json", "fail"]);
    assert.equal(
      await printCommand(fx.client(), a.positionals, a.flags, failed),
      1,
    );
    assert.match(
      failed.stderr.join("\n"),
      /error\[TURN_FAILED\]: .*told to fail/,
    );
    const last = JSON.parse(failed.stdout.at(-1)!);
    assert.equal(last.type, "error");
    assert.equal(last.code, "TURN_FAILED");
    const outside = io("/");
    const b = argv(["-p", "hello"]);
    assert.equal(
      await printCommand(fx.client(), b.positionals, b.flags, outside),
      1,
    );
    assert.match(outside.stderr.join("\n"), /error\[WORKSPACE_OUTSIDE_ROOTS\]/);
    const none = io(fx.tk.workspace, null);
    const c = argv(["-p"]);
    await assert.rejects(
      printCommand(fx.client(), c.positionals, c.flags, none),
      /Expected a prompt/,
      "no prompt and no stdin: a usage error",
    );
  },
);

apiTest("astrid sessions list, show and delete", async () => {
  await using fx = await startApi({
    prefix: "cli-sessions-",
    capsules: [PROBE],
  });
  const c = fx.client();
  const s = await newSession(c, fx.tk.workspace);
  const list = io(fx.tk.workspace);
  const l = argv(["sessions", "list"]);
  assert.equal(
    await sessionsCommand(c, l.positionals.slice(1), l.flags, list),
    0,
  );
  assert.match(list.stdout.join("\n"), new RegExp(`${s.id}.*idle`));
  const shown = io(fx.tk.workspace);
  const sh = argv(["sessions", "show", s.id, "--json"]);
  assert.equal(
    await sessionsCommand(c, sh.positionals.slice(1), sh.flags, shown),
    0,
  );
  assert.equal(JSON.parse(shown.stdout.join("\n")).id, s.id);
  const del = io(fx.tk.workspace);
  const d = argv(["sessions", "delete", s.id]);
  assert.equal(
    await sessionsCommand(c, d.positionals.slice(1), d.flags, del),
    0,
  );
  assert.deepEqual(await c.call("sessionsList"), []);
  const gone = argv(["sessions", "show", s.id]);
  assert.equal(
    await code(
      sessionsCommand(c, gone.positionals.slice(1), gone.flags, io("/")),
    ),
    "NOT_FOUND",
  );
});

apiTest(
  "astrid approvals list shows a waiting request and resolve answers it; an unknown decision is a usage error",
  async () => {
    await using fx = await startApi({
      prefix: "cli-approvals-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const events: PromptStreamEvent[] = [];
    let requestId = "";
    const asked = Promise.withResolvers<void>();
    const turn = (async () => {
      for await (
        const e of c.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id: s.id },
          body: { text: "approve" },
        })
      ) {
        events.push(e);
        if (e.type === "approval_required") {
          requestId = e.request_id;
          asked.resolve();
        }
      }
    })();
    await asked.promise;
    const listed = io(fx.tk.workspace);
    const l = argv(["approvals", "list", "--session", s.id]);
    assert.equal(
      await approvalsCommand(c, l.positionals.slice(1), l.flags, listed),
      0,
    );
    assert.match(
      listed.stdout.join("\n"),
      new RegExp(`${requestId}\\s+pending\\s+high`),
    );
    const bad = argv(["approvals", "resolve", requestId, "maybe"]);
    await assert.rejects(
      approvalsCommand(c, bad.positionals.slice(1), bad.flags, io("/")),
      /Unknown decision/,
    );
    const r = argv(["approvals", "resolve", requestId, "allow_once"]);
    assert.equal(
      await approvalsCommand(
        fx.client(),
        r.positionals.slice(1),
        r.flags,
        io("/"),
      ),
      0,
    );
    await turn;
    const last = events.at(-1);
    assert.equal(last?.type === "final" && last.text, "decision=allow_once");
  },
);

apiTest(
  "astrid workspace diff, discard and commit act on the newest session of the workspace; a headless commit is denied, --yes commits",
  async () => {
    await using fx = await startApi({
      prefix: "cli-workspace-",
      capsules: AGENT,
      replay: WRITE_B_AND_C,
    });
    const c = fx.client();
    const p = argv(["-p", "Write b and c"]);
    assert.equal(
      await printCommand(c, p.positionals, p.flags, io(fx.tk.workspace)),
      0,
    );
    const ws = (args: string[]) => {
      const a = argv(["workspace", ...args]);
      return [a.positionals.slice(1), a.flags] as const;
    };
    const diff = io(fx.tk.workspace);
    assert.equal(await workspaceCommand(c, ...ws(["diff"]), diff), 0);
    assert.match(diff.stdout.join("\n"), /added b\.txt[\s\S]*\+beta/);
    assert.match(diff.stdout.join("\n"), /added c\.txt/);
    const discard = io(fx.tk.workspace);
    assert.equal(
      await workspaceCommand(c, ...ws(["discard", "c.txt"]), discard),
      0,
    );
    assert.deepEqual(discard.stdout, ["discarded: c.txt"]);
    const headless = io(fx.tk.workspace);
    assert.notEqual(
      await code(workspaceCommand(c, ...ws(["commit"]), headless)),
      "resolved",
      "no terminal and no --yes: the commit is denied",
    );
    assert.equal(
      await Deno.stat(path.join(fx.tk.workspace, "b.txt")).catch(() => null),
      null,
    );
    const yes = io(fx.tk.workspace);
    assert.equal(
      await workspaceCommand(c, ...ws(["commit", "--yes"]), yes),
      0,
    );
    assert.deepEqual(yes.stdout, ["committed: write b.txt"]);
    assert.equal(
      await Deno.readTextFile(path.join(fx.tk.workspace, "b.txt")),
      "beta\n",
    );
    assert.equal(
      await Deno.stat(path.join(fx.tk.workspace, "c.txt")).catch(() => null),
      null,
    );
  },
);

apiTest(
  "Ctrl-C during astrid -p cancels the turn in the daemon: exit 1 with error[ABORTED], the session is free again",
  async () => {
    await using fx = await startApi({
      prefix: "cli-p-interrupt-",
      capsules: [PROBE],
    });
    const ctrlC = new AbortController();
    const t: Captured = {
      ...io(fx.tk.workspace),
      interrupt: ctrlC.signal,
    };
    // The probe waits on a human; the interrupt arrives while it waits.
    t.err = (l) => {
      t.stderr.push(l);
      if (l.startsWith("? approval")) ctrlC.abort();
    };
    const { positionals, flags } = argv(["-p", "--print-session", "approve"]);
    const exit = await printCommand(fx.client(), positionals, flags, t);
    assert.equal(exit, 1);
    assert.match(t.stderr.join("\n"), /error\[ABORTED\]/);
    const id = t.stderr.find((l) => l.startsWith("session: "))!.slice(9);
    const s = await fx.client().call<SessionInfo>("sessionsShow", {
      params: { id },
    });
    assert.equal(s.busy, false);
  },
);

apiTest(
  "astrid workspace commit on a terminal asks, and the human's answer decides",
  async () => {
    await using fx = await startApi({
      prefix: "cli-ask-",
      capsules: AGENT,
      replay: {
        turns: [
          {
            text: "Writing.",
            tool_calls: [{
              name: "write_file",
              arguments: { path: "b.txt", content: "beta\n" },
            }],
          },
          { text: "Done." },
        ],
      },
    });
    const c = fx.client();
    const p = argv(["-p", "Write b"]);
    assert.equal(
      await printCommand(c, p.positionals, p.flags, io(fx.tk.workspace)),
      0,
    );
    const questions: string[] = [];
    const human: Captured = {
      ...io(fx.tk.workspace),
      ask: (q) => {
        questions.push(q);
        return "y";
      },
    };
    const a = argv(["workspace", "commit"]);
    assert.equal(
      await workspaceCommand(c, a.positionals.slice(1), a.flags, human),
      0,
    );
    assert.equal(questions.length, 1);
    assert.deepEqual(human.stdout, ["committed: write b.txt"]);
    assert.equal(
      await Deno.readTextFile(path.join(fx.tk.workspace, "b.txt")),
      "beta\n",
    );
  },
);
