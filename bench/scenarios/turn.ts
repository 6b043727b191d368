/**
 * An agent turn through the kernel and the first-party capsules, the model
 * excluded (the replay provider answers from a transcript), both store kinds.
 *
 * A turn with one tool call is: the turn API's bus request → `react` →
 * session append, identity, tool describe (router + fs), history → the
 * replay provider (streams deltas, answers) → `tool.v1.request.execute` →
 * router → `fs` `read_file` (one gated, audited host call) → history →
 * the provider again → final. Subject: that whole turn, warm. Baseline (same
 * run, interleaved): the turn's one effect alone — the same `read_file` tool
 * call sent straight to the fs capsule (its gated host call, no model, no
 * orchestrator). Targets (issue 13): the turn ≤ 20 ms absolute; the ratio is a
 * reference. A second measurement: resident memory per extra idle session
 * (a runtime with the same capsules booted, after GC).
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow, summarize } from "../_interleave.ts";
import { AgentSession } from "../../kernel/turn/agent_session.ts";
import { startRuntime } from "../../kernel/daemon/runtime.ts";
import { startAgentFixture } from "../../tests/agent_fixture_test.ts";
import { AGENT } from "../../tests/api_fixture_test.ts";
import { type ScenarioOptions, STORE_KINDS } from "./_scenario.ts";

const CAPSULES = AGENT;

/** A replay transcript of `turns` turns, each reading a.txt with one tool call. */
export function transcript(turns: number): string {
  const t = [];
  for (let i = 0; i < turns; i++) {
    t.push({
      text: "Reading a.txt.",
      tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
    });
    t.push({ text: "It says hello." });
  }
  return JSON.stringify({ turns: t });
}

const MB = 1_000_000;

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().rss;
}

/** @see the module doc. */
export default async function turn(o: ScenarioOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const rounds = o.quick ? 3 : 15;
  const iterations = o.quick ? 1 : 3;
  const warmup = 3;
  for (const kind of STORE_KINDS) {
    const turns = warmup + rounds * iterations + 2;
    await using fx = await startAgentFixture({
      prefix: "bench-turn-",
      capsules: CAPSULES,
      files: { "a.txt": "hello\n" },
      fileStore: kind === "file",
      runtime: {
        capsuleConfig: {
          "provider-replay": { replay_transcript: transcript(turns) },
        },
      },
    });
    const agent = new AgentSession(fx.tk.kernel, fx.runtime, {
      provider: "replay",
    });
    let calls = 0;
    const times = await interleave({
      turn: async () => {
        const last = await agent.turn("What does a.txt say?").done;
        if (last.type !== "final") throw new Error(JSON.stringify(last));
      },
      tool: async () => {
        const r = await fx.request<{ is_error: boolean }>(
          "tool.v1.execute.read_file",
          {
            call_id: `b${calls++}`,
            name: "read_file",
            arguments: { path: "a.txt" },
            session_id: fx.runtime.session,
          },
        );
        if (r.is_error) throw new Error("read_file failed");
      },
    }, { rounds, iterations, warmup });
    rows.push({
      name: "agent turn with one tool call, model replayed (ms)",
      unit: "ms",
      store: kind,
      summary: summarize(times.turn!),
      target: { op: "<=", value: 20 },
    });
    rows.push(ratioRow(
      "agent turn / its one tool call alone (reference)",
      times.turn!,
      times.tool!,
      { store: kind },
    ));
    if (kind === "memory") {
      const k = o.quick ? 1 : 3;
      const per: number[] = [];
      const open = [];
      try {
        for (let r = 0; r < (o.quick ? 1 : 3); r++) {
          const before = rss();
          for (let i = 0; i < k; i++) {
            const rt = await startRuntime(fx.tk.kernel, {
              workspace: fx.tk.workspace,
              bubblewrap: null,
            });
            open.push(rt);
            await rt.boot();
          }
          per.push((rss() - before) / k / MB);
        }
      } finally {
        for (const rt of open) await rt.close();
      }
      rows.push({
        name:
          `resident MB per extra idle session (${CAPSULES.length} capsules)`,
        unit: "MB",
        summary: summarize(per),
      });
    }
  }
  return rows;
}
