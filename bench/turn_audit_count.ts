// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno run -A bench/turn_audit_count.ts [--file]`: what one warm agent turn
 * (one tool call, the replay provider, the capsules of the `turn` scenario)
 * writes to the audit chain — entries by action kind and topic, and how many
 * of them carry a signature (= audit commits: a group commit signs only its
 * last entry). A diagnostic for the turn's cost, not a measurement: the
 * turn's time printed is one sample.
 *
 * @module
 */
import { AgentSession } from "../kernel/turn/agent_session.ts";
import { startAgentFixture } from "../tests/agent_fixture_test.ts";

const turns = Array.from({ length: 20 }, (_, i) =>
  i % 2 === 0
    ? {
      text: "Reading a.txt.",
      tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
    }
    : { text: "It says hello." });
await using fx = await startAgentFixture({
  prefix: "bench-turn-count-",
  capsules: ["provider-replay", "react", "session", "identity", "router", "fs"],
  files: { "a.txt": "hello\n" },
  fileStore: Deno.args.includes("--file"),
  runtime: {
    capsuleConfig: {
      "provider-replay": { replay_transcript: JSON.stringify({ turns }) },
    },
  },
});
const agent = new AgentSession(fx.tk.kernel, fx.runtime, {
  provider: "replay",
});
const { audit, gate } = fx.tk.kernel.security;
const principal = fx.tk.kernel.principal;

async function count(): Promise<Map<string, number>> {
  await gate.flush();
  await audit.flush();
  const by = new Map<string, number>();
  const add = (k: string) => by.set(k, (by.get(k) ?? 0) + 1);
  for await (const line of audit.exportJsonl(principal)) {
    const e = JSON.parse(line);
    add(e.action.type + (e.action.topic ? `:${e.action.topic}` : ""));
    add("(entries)");
    if (e.signature) add("(signed: commits)");
  }
  return by;
}

// Warm up: the instances, the caches, the chain head.
for (let i = 0; i < 2; i++) await agent.turn("What does a.txt say?").done;
const before = await count();
const t0 = performance.now();
const last = await agent.turn("What does a.txt say?").done;
const ms = performance.now() - t0;
if (last.type !== "final") throw new Error(JSON.stringify(last));
const after = await count();
console.log(`one turn: ${ms.toFixed(1)} ms (one sample)`);
const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
  .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
for (const [k, n] of rows) console.log(`${String(n).padStart(4)}  ${k}`);
