/**
 * The daemon's session API end to end in-process: the real router with the
 * session routes, the real session hub on a real kernel (file store), the
 * real capsules (bundled and installed with signed records), reached through
 * `ApiClient` — sessions, prompt streams, approvals answered by another
 * client, deferred approvals, workspace roots, a restart, the overlay.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "../kernel/api/contract.ts";
import type { Message } from "../sdk/llm.ts";
import { sseEvents } from "../sdk/stream.ts";
import {
  AGENT,
  answerFirst,
  apiTest,
  code,
  newSession,
  PROBE,
  startApi,
  WRITE_B_AND_C,
} from "./api_fixture_test.ts";

apiTest(
  "sessions are created, listed newest first, shown and deleted; an unknown one is NOT_FOUND",
  async () => {
    await using fx = await startApi({ prefix: "api-crud-", capsules: [PROBE] });
    const c = fx.client();
    const a = await newSession(c, fx.tk.workspace);
    const b = await newSession(c, fx.tk.workspace);
    assert.equal(a.workspace, fx.tk.workspace);
    assert.equal(a.turns, 0);
    assert.equal(a.busy, false);
    const list = await c.call<SessionInfo[]>("sessionsList");
    assert.deepEqual(list.map((s) => s.id).sort(), [a.id, b.id].sort());
    assert.equal(
      (await c.call<SessionInfo>("sessionsShow", { params: { id: a.id } })).id,
      a.id,
    );
    await c.call("sessionsDelete", { params: { id: a.id } });
    assert.deepEqual(
      (await c.call<SessionInfo[]>("sessionsList")).map((s) => s.id),
      [b.id],
    );
    assert.equal(
      await code(c.call("sessionsShow", { params: { id: a.id } })),
      "NOT_FOUND",
    );
    assert.equal(
      await code(c.call("sessionsShow", { params: { id: "../x" } })),
      "NOT_FOUND",
    );
  },
);

apiTest(
  "a prompt streams turn_start, the turn's events, then final; the session counts the turn and takes its title",
  async () => {
    await using fx = await startApi({
      prefix: "api-prompt-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const events: PromptStreamEvent[] = [];
    for await (
      const e of c.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "hello" },
      })
    ) events.push(e);
    assert.equal(events[0]?.type, "turn_start");
    assert.equal(events[0]?.type === "turn_start" && events[0].session, s.id);
    const types = events.map((e) => e.type);
    assert.ok(types.includes("text_delta") && types.includes("tool_call"));
    assert.deepEqual(events.at(-1), {
      type: "final",
      text: "Hello",
      usage: { input_tokens: 3, output_tokens: 2 },
    });
    const after = await c.call<SessionInfo>("sessionsShow", {
      params: { id: s.id },
    });
    assert.equal(after.turns, 1);
    assert.equal(after.title, "hello");
    assert.equal(after.busy, false);
  },
);

apiTest(
  "an approval of a turn reaches the prompt stream, the approvals list and an events subscriber; a second client answers it and the answer is audited with the caller",
  async () => {
    await using fx = await startApi({
      prefix: "api-approve-",
      capsules: [PROBE],
    });
    const a = fx.client();
    const b = fx.client("10.0.0.7");
    const s = await newSession(a, fx.tk.workspace);
    // The events stream is subscribed once its response arrived.
    const subscribed = await b.raw("sessionEvents", { params: { id: s.id } });
    const watched: PromptStreamEvent[] = [];
    const watching = (async () => {
      for await (const e of sseEvents(subscribed.body!)) {
        const event = JSON.parse(e.data) as PromptStreamEvent;
        watched.push(event);
        if (event.type === "final") break;
      }
    })();
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
    assert.equal(asked.session, s.id);
    assert.equal(asked.risk, "high");
    assert.ok(asked.options.includes("allow_once"));
    await streaming;
    await watching;
    assert.ok(events.some((e) => e.type === "approval_required"));
    assert.ok(
      events.some((e) =>
        e.type === "approval_decision" && e.decision === "allow_once"
      ),
    );
    assert.equal(
      events.at(-1)?.type === "final" && events.at(-1)?.type === "final" &&
        (events.at(-1) as { text: string }).text,
      "decision=allow_once",
    );
    assert.ok(watched.some((e) => e.type === "approval_required"));
    assert.equal(watched.at(-1)?.type, "final");
    assert.deepEqual(await b.call("approvalsList"), []);
    await fx.kernel.security.audit.flush();
    const entries: { action: Record<string, unknown>; proof: unknown }[] = [];
    for await (
      const line of fx.kernel.security.audit.exportJsonl(fx.kernel.principal)
    ) {
      entries.push(JSON.parse(line));
    }
    const answer = entries.find((e) => e.action["type"] === "approval_answer");
    assert.equal(answer?.action["request_id"], asked.request_id);
    assert.equal(answer?.action["decision"], "allow_once");
    assert.deepEqual(answer?.proof, {
      type: "api",
      via: "socket",
      address: "10.0.0.7",
    });
    assert.equal(
      await code(b.call("approvalsAnswer", {
        params: { id: asked.request_id },
        body: { decision: "deny" },
      })),
      "NOT_FOUND",
      "an answered request cannot be answered again",
    );
  },
);

apiTest(
  "a second prompt while a turn runs is TURN_BUSY; closing the prompt stream leaves the turn running; cancel ends it",
  async () => {
    await using fx = await startApi({ prefix: "api-busy-", capsules: [PROBE] });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const reader = new AbortController();
    const first: PromptStreamEvent[] = [];
    for await (
      const e of c.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "approve" },
        signal: reader.signal,
      })
    ) {
      first.push(e);
      if (e.type === "approval_required") break; // the client goes away
    }
    assert.equal(first[0]?.type, "turn_start");
    assert.equal(
      await code(
        c.call("sessionPrompt", {
          params: { id: s.id },
          body: { text: "hello" },
        }),
      ),
      "TURN_BUSY",
    );
    const shown = await c.call<SessionInfo>("sessionsShow", {
      params: { id: s.id },
    });
    assert.equal(shown.busy, true, "the turn runs on without its reader");
    assert.equal(shown.pending_approvals, 1);
    await c.call("sessionCancel", { params: { id: s.id } });
    for (let i = 0; i < 200; i++) {
      const now = await c.call<SessionInfo>("sessionsShow", {
        params: { id: s.id },
      });
      if (!now.busy) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const next: PromptStreamEvent[] = [];
    for await (
      const e of c.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "hello" },
      })
    ) next.push(e);
    assert.equal(next.at(-1)?.type, "final");
  },
);

apiTest(
  "a workspace outside the roots, or a symlink in a root that points outside, is refused with WORKSPACE_OUTSIDE_ROOTS saying how to add it",
  async () => {
    await using fx = await startApi({
      prefix: "api-roots-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const outside = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "api-outside-" }),
    );
    try {
      const link = path.join(fx.tk.root, "escape");
      await Deno.symlink(outside, link);
      for (const workspace of [outside, link, path.join(fx.tk.root, "..")]) {
        const err = await c.call("sessionsCreate", { body: { workspace } })
          .then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
        assert.equal(err?.code, "WORKSPACE_OUTSIDE_ROOTS", workspace);
        assert.match(err!.message, /\[workspace\] roots .*astrid stop/);
        assert.ok(!err!.message.includes(outside), "no host path on the wire");
      }
      assert.deepEqual(await c.call("sessionsList"), []);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  },
);

apiTest(
  "malformed requests are API_BAD_REQUEST: missing or mistyped fields, a relative workspace, an unknown decision, bad paths",
  async () => {
    await using fx = await startApi({ prefix: "api-bad-", capsules: [PROBE] });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const cases: [Promise<unknown>, string][] = [
      [c.call("sessionsCreate", { body: {} }), "API_BAD_REQUEST"],
      [c.call("sessionsCreate", { body: { workspace: 3 } }), "API_BAD_REQUEST"],
      [
        c.call("sessionsCreate", { body: { workspace: "ws" } }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("sessionPrompt", { params: { id: s.id }, body: {} }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("sessionPrompt", {
          params: { id: s.id },
          body: { text: "x", provider: "a.*" },
        }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("approvalsAnswer", {
          params: { id: "approval:x" },
          body: { decision: "yes" },
        }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("approvalsAnswer", { params: { id: "approval:x" }, body: {} }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("approvalsAnswer", {
          params: { id: "approval:x" },
          body: { decision: "deny" },
        }),
        "NOT_FOUND",
      ],
      [
        c.call("workspaceCommit", {
          params: { id: s.id },
          body: { paths: "a" },
        }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("workspaceDiscard", {
          params: { id: s.id },
          body: { paths: [1] },
        }),
        "API_BAD_REQUEST",
      ],
      [
        c.call("sessionPrompt", {
          params: { id: "nope" },
          body: { text: "x" },
        }),
        "NOT_FOUND",
      ],
    ];
    for (const [p, expected] of cases) assert.equal(await code(p), expected);
  },
);

apiTest(
  "an approval nobody answered in time is listed as deferred and answering it through the API re-runs the gate, audited",
  async () => {
    await using fx = await startApi({
      prefix: "api-deferred-",
      capsules: [PROBE],
      config: "[security]\napproval_timeout_secs = 1\n",
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const events: PromptStreamEvent[] = [];
    for await (
      const e of c.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "approve" },
      })
    ) events.push(e);
    assert.equal(events.at(-1)?.type, "final", JSON.stringify(events.at(-1)));
    const list = await c.call<ApprovalInfo[]>("approvalsList", {
      query: { session: s.id },
    });
    assert.equal(list.length, 1, JSON.stringify(list));
    const d = list[0]!;
    assert.equal(d.kind, "deferred");
    assert.equal(d.reason, "approval request timed out");
    assert.equal(d.session, s.id);
    await c.call("approvalsAnswer", {
      params: { id: d.request_id },
      body: { decision: "deny" },
    });
    assert.deepEqual(await c.call("approvalsList"), []);
    assert.equal(
      await code(
        c.call("approvalsAnswer", {
          params: { id: d.request_id },
          body: { decision: "deny" },
        }),
      ),
      "NOT_FOUND",
    );
    await fx.kernel.security.audit.flush();
    let answered = false;
    for await (
      const line of fx.kernel.security.audit.exportJsonl(fx.kernel.principal)
    ) {
      const e = JSON.parse(line);
      if (e.action.type === "approval_answer" && e.action.kind === "deferred") {
        answered = true;
      }
    }
    assert.ok(answered);
  },
);

apiTest(
  "a restart keeps sessions, their history and overlay: after it messages, diff, discard and a commit answered by a client work",
  async () => {
    await using fx = await startApi({
      prefix: "api-restart-",
      capsules: AGENT,
      replay: WRITE_B_AND_C,
    });
    let c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const events: PromptStreamEvent[] = [];
    for await (
      const e of c.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "Write b and c" },
      })
    ) events.push(e);
    assert.equal(events.at(-1)?.type, "final", JSON.stringify(events.at(-1)));
    await fx.restart();
    c = fx.client();
    const list = await c.call<SessionInfo[]>("sessionsList");
    assert.deepEqual(list.map((x) => [x.id, x.turns, x.title]), [[
      s.id,
      1,
      "Write b and c",
    ]]);
    const messages = await c.call<Message[]>("sessionMessages", {
      params: { id: s.id },
    });
    assert.ok(messages.length >= 2, JSON.stringify(messages));
    assert.equal(messages[0]?.role, "user");
    const diff = await c.call<WorkspaceChange[]>("workspaceDiff", {
      params: { id: s.id },
    });
    assert.deepEqual(diff.map((d) => `${d.change} ${d.path}`).sort(), [
      "added b.txt",
      "added c.txt",
    ]);
    assert.match(diff.find((d) => d.path === "b.txt")?.diff ?? "", /\+beta/);
    const discarded = await c.call<{ discarded: string[] }>(
      "workspaceDiscard",
      {
        params: { id: s.id },
        body: { paths: ["c.txt"] },
      },
    );
    assert.deepEqual(discarded.discarded, ["c.txt"]);
    const committing = c.call<{ committed: string[] }>("workspaceCommit", {
      params: { id: s.id },
      body: {},
    });
    const asked = await answerFirst(fx.client(), s.id, "allow_once");
    assert.equal(asked.action, "overlay_commit");
    assert.deepEqual((await committing).committed, ["write b.txt"]);
    assert.equal(
      await Deno.readTextFile(path.join(fx.tk.workspace, "b.txt")),
      "beta\n",
    );
    assert.equal(
      await Deno.stat(path.join(fx.tk.workspace, "c.txt")).catch(() => null),
      null,
    );
    assert.deepEqual(
      await c.call("workspaceDiff", { params: { id: s.id } }),
      [],
    );
  },
);

apiTest(
  "a stop defers the approvals still waiting: after a restart they are listed as deferred and answered through the API",
  async () => {
    await using fx = await startApi({
      prefix: "api-stop-defers-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const asked = Promise.withResolvers<string>();
    const streaming = (async () => {
      for await (
        const e of c.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id: s.id },
          body: { text: "approve" },
        })
      ) if (e.type === "approval_required") asked.resolve(e.request_id);
    })();
    await asked.promise;
    await fx.restart();
    await streaming;
    const c2 = fx.client();
    const list = await c2.call<ApprovalInfo[]>("approvalsList");
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0]?.kind, "deferred");
    assert.equal(list[0]?.session, s.id);
    await c2.call("approvalsAnswer", {
      params: { id: list[0]!.request_id },
      body: { decision: "allow_once" },
    });
    assert.deepEqual(await c2.call("approvalsList"), []);
    const shown = await c2.call<SessionInfo>("sessionsShow", {
      params: { id: s.id },
    });
    assert.equal(shown.busy, false);
  },
);

apiTest(
  "reload closes idle runtimes (the next prompt boots the installed capsules again) and a busy one once its turn ends",
  async () => {
    await using fx = await startApi({
      prefix: "api-reload-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const idle = await newSession(c, fx.tk.workspace);
    const busy = await newSession(c, fx.tk.workspace);
    const run = async (id: string, text: string) => {
      const events: PromptStreamEvent[] = [];
      for await (
        const e of c.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id },
          body: { text },
        })
      ) events.push(e);
      return events;
    };
    await run(idle.id, "hello");
    const asked = Promise.withResolvers<string>();
    const waiting = (async () => {
      for await (
        const e of c.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id: busy.id },
          body: { text: "approve" },
        })
      ) if (e.type === "approval_required") asked.resolve(e.request_id);
    })();
    const request = await asked.promise;
    assert.deepEqual(await fx.hub.counts(), { known: 2, live: 2 });
    await fx.hub.reload();
    assert.deepEqual(await fx.hub.counts(), { known: 2, live: 1 });
    await c.call("approvalsAnswer", {
      params: { id: request },
      body: { decision: "deny" },
    });
    await waiting;
    assert.deepEqual(await fx.hub.counts(), { known: 2, live: 0 });
    assert.equal((await run(idle.id, "hello")).at(-1)?.type, "final");
    assert.deepEqual(await fx.hub.counts(), { known: 2, live: 1 });
  },
);

apiTest(
  "a prompt in a home without capsules fails with NOT_FOUND saying to run 'astrid init', and the session stays usable",
  async () => {
    await using fx = await startApi({ prefix: "api-empty-", capsules: [] });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const err = await c.call("sessionPrompt", {
      params: { id: s.id },
      body: { text: "hello" },
    }).then(() => null, (e: Error & { code?: string }) => e);
    assert.equal(err?.code, "NOT_FOUND");
    assert.match(err!.message, /astrid init/);
    const shown = await c.call<SessionInfo>("sessionsShow", {
      params: { id: s.id },
    });
    assert.equal(shown.busy, false);
    assert.equal(shown.turns, 0);
  },
);
