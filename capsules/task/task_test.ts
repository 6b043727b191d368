/**
 * The `task` capsule through the real kernel: a replayed parent delegates to
 * a sub-agent (`agent_delegate`), whose tools are narrowed by the kernel,
 * whose writes land in the parent session's overlay attributed to it in the
 * audit, whose depth is limited, and whose budget slice stops it.
 */
import assert from "node:assert/strict";
import {
  type AgentFixture,
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";
import { AgentSession, type AuditEntry } from "../../mod.ts";
import type { ToolResultEvent, TurnEvent } from "@astrid/sdk";

const CAPSULES = [
  "provider-replay",
  "react",
  "session",
  "identity",
  "router",
  "fs",
  "shell",
  "task",
];

interface Turn {
  text?: string;
  tool_calls?: { name: string; arguments: Record<string, unknown> }[];
}

function start(prefix: string, turns: Turn[]): Promise<AgentFixture> {
  return startAgentFixture({
    prefix,
    capsules: CAPSULES,
    files: { "a.txt": "alpha\n" },
    runtime: {
      capsuleConfig: {
        "provider-replay": { replay_transcript: JSON.stringify({ turns }) },
      },
    },
  });
}

async function run(fx: AgentFixture, text: string): Promise<TurnEvent[]> {
  const agent = new AgentSession(fx.tk.kernel, fx.runtime, {
    provider: "replay",
  });
  const events: TurnEvent[] = [];
  for await (const e of agent.turn(text)) events.push(e);
  return events;
}

function results(events: TurnEvent[]): ToolResultEvent[] {
  return events.filter((e): e is ToolResultEvent => e.type === "tool_result");
}

async function audit(fx: AgentFixture): Promise<AuditEntry[]> {
  const log = fx.tk.kernel.security.audit;
  await fx.tk.kernel.security.gate.flush();
  await log.flush();
  const out: AuditEntry[] = [];
  for await (const line of log.exportJsonl(fx.tk.kernel.principal)) {
    out.push(JSON.parse(line));
  }
  return out;
}

agentTest(
  "task: a sub-agent works with only the tools handed down; its write lands in the parent's overlay, attributed to it in the audit",
  async () => {
    await using fx = await start("task-basic-", [
      {
        text: "Delegating.",
        tool_calls: [{
          name: "task",
          arguments: {
            prompt: "Copy a.txt to b.txt",
            tools: ["read_file", "write_file"],
            budget_usd: 1,
          },
        }],
      },
      {
        text: "Reading.",
        tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
      },
      {
        text: "Trying a shell.",
        tool_calls: [{ name: "bash", arguments: { command: "echo hi" } }],
      },
      {
        text: "Writing.",
        tool_calls: [{
          name: "write_file",
          arguments: {
            path: "b.txt",
            content: "alpha (copied by a sub-agent)\n",
          },
        }],
      },
      { text: "child done" },
      { text: "parent done" },
    ]);
    const events = await run(fx, "Please copy a.txt");
    const last = events.at(-1);
    assert.equal(last?.type === "final" && last.text, "parent done");
    const task = results(events)[0]!;
    assert.equal(task.is_error, false, task.content);
    assert.match(task.content, /child done/);
    const child = /sub-agent (\S+),/.exec(task.content)?.[1];
    assert.ok(child?.startsWith("turn-") && child.includes("/t"), child);

    // The write waits in the session overlay, as the parent's would.
    assert.equal(
      await fx.readSession("b.txt"),
      "alpha (copied by a sub-agent)\n",
    );
    assert.equal(
      await Deno.stat(`${fx.tk.workspace}/b.txt`).catch(() => null),
      null,
    );

    const entries = await audit(fx);
    const write = entries.find((e) =>
      e.decision === "allowed" && JSON.stringify(e.action).includes("b.txt")
    );
    assert.equal(write?.agent, child, "the write is the sub-agent's");
    const delegated = entries.find((e) =>
      (e.action as { type?: string }).type === "agent_delegate"
    );
    assert.equal((delegated?.action as { depth?: number }).depth, 1);
    assert.deepEqual((delegated?.action as { tools?: string[] }).tools, [
      "read_file",
      "write_file",
    ]);
    // bash was not handed down: refused at the bus, audited, never run.
    const denied = entries.filter((e) => e.decision === "denied").map((e) =>
      JSON.stringify(e)
    );
    assert.ok(
      denied.some((d) => d.includes("tool.v1.execute.bash")),
      `expected a denied bash call in ${denied.join("\n")}`,
    );
    assert.ok(
      !entries.some((e) => JSON.stringify(e.action).includes("echo hi")),
      "bash never reached the gate as a process",
    );
    assert.ok(
      entries.some((e) =>
        (e.action as { type?: string }).type === "model_usage" &&
        e.agent === child
      ),
      "the sub-agent's model use is charged and attributed",
    );
    assert.equal(
      (await fx.tk.kernel.security.audit.verify(fx.tk.kernel.principal)).valid,
      true,
    );
  },
);

agentTest(
  "task: sub-agents nest two deep at most; the third delegation is refused with AGENT_DEPTH_EXCEEDED and audited",
  async () => {
    const deeper = (prompt: string) => ({
      text: "Going deeper.",
      tool_calls: [{ name: "task", arguments: { prompt, tools: ["task"] } }],
    });
    await using fx = await start("task-depth-", [
      deeper("level 1"),
      deeper("level 2"),
      deeper("level 3"),
      { text: "level 2 done" },
      { text: "level 1 done" },
      { text: "parent done" },
    ]);
    const events = await run(fx, "Nest");
    const last = events.at(-1);
    assert.equal(last?.type === "final" && last.text, "parent done");
    const outer = results(events)[0]!;
    assert.match(outer.content, /level 1 done/);
    const entries = await audit(fx);
    const refused = entries.find((e) =>
      e.decision === "denied" &&
      (e.action as { type?: string }).type === "agent_delegate"
    );
    assert.equal((refused?.action as { depth?: number }).depth, 3);
    // The level-2 agent saw the refusal as a tool error.
    const history = await fx.request<{ messages: { content: unknown[] }[] }>(
      "session.v1.request.get_messages",
      { session_id: fx.runtime.session },
    );
    assert.ok(history.messages.length > 0);
  },
);

agentTest(
  "task: a sub-agent past its budget slice is stopped with BUDGET_EXCEEDED and the parent's turn goes on",
  async () => {
    await using fx = await start("task-budget-", [
      {
        text: "Delegating cheaply.",
        tool_calls: [{
          name: "task",
          arguments: {
            prompt: "Read a.txt",
            tools: ["read_file"],
            budget_usd: 0.000001,
          },
        }],
      },
      {
        text: "Reading with a long prompt that costs more than the slice.",
        tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
      },
      { text: "parent done" },
      { text: "parent done" },
    ]);
    const events = await run(fx, "Delegate");
    assert.equal(events.at(-1)?.type, "final");
    const task = results(events)[0]!;
    assert.equal(task.is_error, true, task.content);
    assert.match(task.content, /BUDGET_EXCEEDED/);
  },
);
