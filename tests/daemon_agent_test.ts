/**
 * The agent through the real daemon: a daemon subprocess under its scoped
 * Deno flags (the sixth layer), reached over its Unix socket by the CLI and
 * by API clients — a headless `astrid -p` run with a tool call, an approval
 * answered by another client, and a SIGTERM in the middle of a turn after
 * which sessions, the waiting approval (now deferred) and every committed
 * audit entry are still there.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionInfo,
} from "../kernel/api/contract.ts";
import type {
  AuditListBody,
  AuditVerifyBody,
} from "../kernel/api/contract_admin.ts";
import { AGENT, answerFirst, PROBE } from "./api_fixture_test.ts";
import { runAstrid } from "./cli_fixture_test.ts";
import {
  clientOf,
  commandLine,
  installCapsules as install,
  spawnDaemonProcess,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";

Deno.test("astrid -p --json through an auto-started daemon under scoped flags: a replayed turn reads a file with a tool and prints the turn events", async () => {
  await using h = await tempHome();
  await install(h, AGENT);
  await Deno.writeTextFile(path.join(h.workspace, "a.txt"), "hello daemon\n");
  const transcript = path.join(h.dir, "t.json");
  await Deno.writeTextFile(
    transcript,
    JSON.stringify({
      turns: [
        {
          text: "Reading a.txt.",
          tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
        },
        { text: "It says hello daemon." },
      ],
    }),
  );
  const r = await runAstrid(
    ["-p", "What does a.txt say?", "--json", "--print-session"],
    {
      cwd: h.workspace,
      env: {
        ...h.env,
        ASTRID_PROVIDER: "replay",
        ASTRID_REPLAY_FILE: "../t.json",
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const types = events.map((e) => e.type);
  assert.ok(types.includes("text_delta"));
  const result = events.find((e) => e.type === "tool_result");
  assert.equal(result.is_error, false);
  assert.match(result.content, /hello daemon/);
  assert.equal(events.at(-1).type, "final");
  assert.equal(events.at(-1).text, "It says hello daemon.");
  assert.match(r.stderr, /session: \S+/);
  // The daemon that ran it holds no blanket permission.
  const ready = JSON.parse(await Deno.readTextFile(h.files.ready));
  const args = (await commandLine(ready.pid))?.split(" ") ?? [];
  assert.ok(args.some((a) => a.startsWith("--allow-read=")), args.join(" "));
  assert.ok(!args.includes("--allow-read") && !args.includes("--allow-all"));
  assert.ok(!args.includes("-A") && !args.some((a) => a === "--allow-net"));
});

Deno.test("through the socket: one client's turn waits for approval, another client answers allow_once and the turn finishes; a SIGTERM during a waiting turn keeps the session, the request (deferred) and every committed audit entry", async () => {
  await using h = await tempHome();
  await install(h, [PROBE]);
  const daemon = await spawnDaemonProcess(h);
  using a = await clientOf(h);
  using b = await clientOf(h);
  const s = await a.call<SessionInfo>("sessionsCreate", {
    body: { workspace: h.workspace },
  });
  // A round trip: a's turn, b's answer.
  const events: PromptStreamEvent[] = [];
  const streaming = (async () => {
    for await (
      const e of a.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "approve" },
      })
    ) events.push(e);
  })();
  const asked = await answerFirst(b, s.id, "allow_once");
  await streaming;
  assert.equal(asked.session, s.id);
  assert.ok(events.some((e) => e.type === "approval_required"));
  assert.equal(events.at(-1)?.type, "final");

  // A second turn waits for a human; the daemon is stopped meanwhile.
  const second = (async () => {
    const seen: string[] = [];
    try {
      for await (
        const e of a.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id: s.id },
          body: { text: "approve" },
        })
      ) seen.push(e.type);
    } catch {
      // silent-ok: the daemon goes away under the stream
    }
    return seen;
  })();
  await waitUntil(
    async () =>
      (await b.call<ApprovalInfo[]>("approvalsList", {
        query: { session: s.id },
      }))
        .some((x) => x.kind === "pending"),
    "the second request",
  );
  const before = await b.call<AuditListBody>("auditList", {
    query: { limit: "1000" },
  });
  const end = await daemon.stop("SIGTERM");
  assert.equal(end.code, 0, end.stderr);
  await second;

  await spawnDaemonProcess(h);
  using c = await clientOf(h);
  const sessions = await c.call<SessionInfo[]>("sessionsList");
  assert.deepEqual(sessions.map((x) => x.id), [s.id]);
  const approvals = await c.call<ApprovalInfo[]>("approvalsList");
  assert.equal(approvals.length, 1);
  assert.equal(approvals[0]!.kind, "deferred");
  assert.equal(approvals[0]!.session, s.id);
  const verify = await c.call<AuditVerifyBody>("auditVerify", { body: {} });
  assert.equal(verify.ok, true, JSON.stringify(verify));
  const after = await c.call<AuditListBody>("auditList", {
    query: { limit: "1000" },
  });
  const ids = new Set(after.entries.map((e) => e.id));
  for (const e of before.entries) assert.ok(ids.has(e.id), `lost ${e.id}`);
});
