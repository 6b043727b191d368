import { AgentSession } from "../kernel/turn/agent_session.ts";
import { startAgentFixture } from "../tests/agent_fixture_test.ts";
const turns = Array.from({ length: 400 }, (_, i) =>
  i % 2 === 0
    ? { text: "Reading a.txt.", tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }] }
    : { text: "It says hello." });
await using fx = await startAgentFixture({
  prefix: "bench-turn-prof-",
  capsules: ["provider-replay", "react", "session", "identity", "router", "fs"],
  files: { "a.txt": "hello\n" },
  fileStore: Deno.args.includes("--file"),
  runtime: { capsuleConfig: { "provider-replay": { replay_transcript: JSON.stringify({ turns }) } } },
});
const agent = new AgentSession(fx.tk.kernel, fx.runtime, { provider: "replay" });
for (let i = 0; i < 20; i++) await agent.turn("What does a.txt say?").done;
const t0 = performance.now();
const N = 100;
for (let i = 0; i < N; i++) await agent.turn("What does a.txt say?").done;
console.log(`avg turn ${((performance.now() - t0) / N).toFixed(2)} ms`);
Deno.exit(0);
