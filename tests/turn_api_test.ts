/**
 * The turn API (kernel/turn) against a real kernel and a scripted
 * orchestrator capsule (tests/fixtures/capsules/turn-probe): events in order,
 * approvals routed to the session and answered through the API, cancel,
 * one turn at a time, history.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AgentSession } from "../kernel/turn/agent_session.ts";
import type { TurnEvent } from "../sdk/turn.ts";
import { startAgentFixture } from "./agent_fixture_test.ts";

const PROBE = path.resolve(
  import.meta.dirname ?? ".",
  "fixtures/capsules/turn-probe",
);

async function probe(prefix: string, timeoutMs?: number) {
  const fx = await startAgentFixture({
    prefix,
    capsules: [PROBE],
    ...(timeoutMs
      ? { runtime: { limits: { timeoutMs, memoryBytes: 64 * 1024 * 1024 } } }
      : {}),
  });
  return { fx, agent: new AgentSession(fx.tk.kernel, fx.runtime) };
}

async function collect(
  turn: AsyncIterable<TurnEvent>,
  onEvent?: (e: TurnEvent) => void,
): Promise<TurnEvent[]> {
  const events: TurnEvent[] = [];
  for await (const e of turn) {
    events.push(e);
    onEvent?.(e);
  }
  return events;
}

Deno.test("a turn streams this session's text deltas, its tool call and result, a budget, then final", async () => {
  const { fx, agent } = await probe("turn-events-");
  await using _ = fx;
  const events = await collect(agent.turn("hello"));
  const types = events.map((e) => e.type);
  assert.deepEqual(
    events.filter((e) => e.type === "text_delta").map((e) =>
      e.type === "text_delta" && e.text
    ),
    ["Hel", "lo"],
    "another session's delta must not leak into this turn",
  );
  assert.ok(types.indexOf("tool_call") < types.indexOf("tool_result"));
  assert.ok(types.includes("budget"));
  const last = events.at(-1);
  assert.deepEqual(last, {
    type: "final",
    text: "Hello",
    usage: { input_tokens: 3, output_tokens: 2 },
  });
  assert.equal(types.filter((t) => t === "final" || t === "error").length, 1);
});

Deno.test("an approval reaches the turn as approval_required and the answer given through the API continues the turn", async () => {
  const { fx, agent } = await probe("turn-approve-");
  await using _ = fx;
  const turn = agent.turn("approve");
  const events = await collect(turn, (e) => {
    if (e.type === "approval_required") {
      assert.equal(e.risk, "high");
      assert.ok(e.options.includes("allow_once"));
      assert.deepEqual(agent.pendingApprovals().map((p) => p.request_id), [
        e.request_id,
      ]);
      assert.throws(
        () => agent.answer(e.request_id, "maybe" as "deny"),
        (err: Error & { code?: string }) => err.code === "INVALID_INPUT",
      );
      agent.answer(e.request_id, "allow_once");
    }
  });
  const decision = events.find((e) => e.type === "approval_decision");
  assert.equal(
    decision?.type === "approval_decision" && decision.decision,
    "allow_once",
  );
  const final = await turn.done;
  assert.equal(final.type, "final");
  assert.equal(final.type === "final" && final.text, "decision=allow_once");
  assert.deepEqual(agent.pendingApprovals(), []);
  assert.throws(
    () => agent.answer("approval:nope", "deny"),
    (err: Error & { code?: string }) => err.code === "NOT_FOUND",
  );
});

Deno.test("cancelling a turn that waits on a human ends it with ABORTED and dismisses the request; the session takes the next turn", async () => {
  const { fx, agent } = await probe("turn-cancel-");
  await using _ = fx;
  const turn = agent.turn("approve");
  const events = await collect(turn, (e) => {
    if (e.type === "approval_required") turn.cancel();
  });
  assert.deepEqual(events.at(-1)?.type, "error");
  const last = await turn.done;
  assert.equal(last.type === "error" && last.code, "ABORTED");
  assert.deepEqual(agent.pendingApprovals(), []);
  const next = await collect(agent.turn("hello"));
  assert.equal(next.at(-1)?.type, "final");
});

Deno.test("a second turn while one runs is refused with TURN_BUSY", async () => {
  const { fx, agent } = await probe("turn-busy-");
  await using _ = fx;
  const first = agent.turn("approve");
  const it = first[Symbol.asyncIterator]();
  await it.next(); // the approval request: the first turn is waiting
  assert.throws(
    () => agent.turn("hello"),
    (err: Error & { code?: string }) => err.code === "TURN_BUSY",
  );
  first.cancel();
  await first.done;
});

Deno.test("an orchestrator failure ends the turn with one error event carrying a code and no host path", async () => {
  const { fx, agent } = await probe("turn-fail-");
  await using _ = fx;
  const events = await collect(agent.turn("fail"));
  const last = events.at(-1);
  assert.equal(last?.type, "error");
  if (last?.type !== "error") return;
  assert.equal(last.code, "TURN_FAILED", "the orchestrator's own code");
  assert.match(last.message, /told to fail/);
  assert.doesNotMatch(last.message, new RegExp(fx.tk.root));
});

Deno.test("history is read and cleared through the same API", async () => {
  const { fx, agent } = await probe("turn-history-");
  await using _ = fx;
  await agent.turn("hello").done;
  const before = await agent.history();
  assert.equal(before.length, 1);
  await agent.clearHistory();
  assert.deepEqual(await agent.history(), []);
});

Deno.test("an empty prompt is refused with INVALID_INPUT", async () => {
  const { fx, agent } = await probe("turn-empty-");
  await using _ = fx;
  assert.throws(
    () => agent.turn("  "),
    (err: Error & { code?: string }) => err.code === "INVALID_INPUT",
  );
});

Deno.test("waiting on a human far longer than the capsule's deadline does not time the turn out (deadlines bound running time only)", async () => {
  const { fx, agent } = await probe("turn-wait-", 200);
  await using _ = fx;
  const turn = agent.turn("approve");
  for await (const e of turn) {
    if (e.type === "approval_required") {
      await new Promise((r) => setTimeout(r, 1_000)); // 5× the deadline
      agent.answer(e.request_id, "deny");
    }
  }
  const last = await turn.done;
  assert.equal(last.type === "final" && last.text, "decision=deny");
});

Deno.test("a turn past its whole deadline (waits included) ends with BUS_TIMEOUT and dismisses its approval", async () => {
  const fx = await startAgentFixture({
    prefix: "turn-deadline-",
    capsules: [PROBE],
  });
  await using _ = fx;
  const agent = new AgentSession(fx.tk.kernel, fx.runtime, {
    turnTimeoutMs: 300,
  });
  const turn = agent.turn("approve"); // nobody answers
  const events = await collect(turn);
  const last = events.at(-1);
  assert.equal(last?.type === "error" && last.code, "BUS_TIMEOUT");
  assert.deepEqual(agent.pendingApprovals(), []);
});
