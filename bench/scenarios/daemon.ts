/**
 * The daemon path as a user meets it (issue 14): `astrid -p` with the
 * replay provider — cold (no daemon: the CLI starts one under its scoped
 * flags) and warm (a daemon runs) — and a status round trip over the socket.
 *
 * Each `astrid -p` is a real CLI process with the installed CLI's flags
 * (`deno run <cliFlags> cli/main.ts -p … --yes --json`) in a home with the agent capsules installed; its wall time is
 * what a user waits; a warm run comes 1 s after the previous one ended (a
 * user reading the answer), so the daemon is idle and has booted the next
 * session's runtime ahead. The baseline of the warm overhead, measured in the same
 * rounds: the same turn (same capsules, same transcript step, file store)
 * through the turn API in this process — the kernel and capsules' own work,
 * no CLI process, socket, session creation or daemon. Targets: warm
 * overhead (warm − baseline) ≤ 100 ms, cold ≤ 1 s.
 *
 * @module
 */
import * as path from "node:path";
import type { Row } from "../_interleave.ts";
import { summarize } from "../_interleave.ts";
import { AgentSession } from "../../kernel/turn/agent_session.ts";
import { ApiClient } from "../../kernel/api/client.ts";
import { startAgentFixture } from "../../tests/agent_fixture_test.ts";
import { AGENT } from "../../tests/api_fixture_test.ts";
import { CLI_MAIN, runDeno } from "../../tests/cli_fixture_test.ts";
import { cliFlags } from "../../kernel/daemon/cli_flags.ts";
import {
  installCapsules,
  killHomeDaemon,
  tempHome,
} from "../../tests/daemon_fixture_test.ts";
import { waitGone } from "../../cli/daemon_client.ts";
import type { ScenarioOptions } from "./_scenario.ts";
import { transcript } from "./turn.ts";

const PROMPT = "What does a.txt say?";
/** The pause before a warm run (a user reading the previous answer). */
const IDLE_MS = 1000;

/** @see the module doc. */
export default async function daemon(o: ScenarioOptions): Promise<Row[]> {
  const rounds = o.quick ? 2 : 9;
  await using h = await tempHome();
  await installCapsules(h, AGENT);
  await Deno.writeTextFile(path.join(h.workspace, "a.txt"), "hello\n");
  const file = path.join(h.dir, "transcript.json");
  await Deno.writeTextFile(file, transcript(rounds + 4));
  const env = {
    ...h.env,
    ASTRID_PROVIDER: "replay",
    ASTRID_REPLAY_FILE: file,
  };
  // The CLI as installed (`deno task install`): its own flags.
  const flags = cliFlags(Deno.execPath()).args;
  const astrid = (args: string[], options: Parameters<typeof runDeno>[1]) =>
    runDeno(["run", ...flags, CLI_MAIN, ...args], options);
  const print = async () => {
    const t0 = performance.now();
    const r = await astrid(["-p", PROMPT, "--yes", "--json"], {
      cwd: h.workspace,
      env,
    });
    const ms = performance.now() - t0;
    if (r.code !== 0 || !r.stdout.includes('"type":"final"')) {
      throw new Error(`astrid -p failed (${r.code}): ${r.stderr}`);
    }
    return ms;
  };
  const stop = async () => {
    const token = await Deno.readTextFile(h.files.token).catch(() => null);
    if (token === null) return;
    using c = new ApiClient({ socket: h.files.socket }, token.trim());
    await c.call("shutdown").catch(() => {});
    if (!(await waitGone(h.files))) await killHomeDaemon(h.files);
  };

  // The baseline: the same turn through the turn API, in process.
  await using fx = await startAgentFixture({
    prefix: "bench-daemon-turn-",
    capsules: AGENT,
    files: { "a.txt": "hello\n" },
    fileStore: true,
    runtime: {
      capsuleConfig: {
        "provider-replay": { replay_transcript: transcript(rounds + 4) },
      },
    },
  });
  const agent = new AgentSession(fx.tk.kernel, fx.runtime, {
    provider: "replay",
  });
  const turn = async () => {
    const t0 = performance.now();
    const last = await agent.turn(PROMPT).done;
    if (last.type !== "final") throw new Error(JSON.stringify(last));
    return performance.now() - t0;
  };
  await turn(); // warm-up: instances, caches

  const cold: number[] = [];
  const warm: number[] = [];
  const base: number[] = [];
  const overhead: number[] = [];
  const status: number[] = [];
  const statusCli: number[] = [];
  await print(); // warm-up: the CLI's and the daemon's module caches
  for (let r = 0; r < rounds; r++) {
    await stop();
    cold.push(await print());
    await print();
    // A user's next prompt comes after reading the last answer: the daemon
    // is idle and has booted the next session's runtime ahead meanwhile.
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const w = await print();
    const b = await turn();
    warm.push(w);
    base.push(b);
    overhead.push(w - b);
    const token = (await Deno.readTextFile(h.files.token)).trim();
    using c = new ApiClient({ socket: h.files.socket }, token);
    await c.call("status");
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await c.call("status");
    status.push((performance.now() - t0) / 20);
    const t1 = performance.now();
    const s = await astrid(["status"], { env });
    if (s.code !== 0) throw new Error(`astrid status: ${s.stderr}`);
    statusCli.push(performance.now() - t1);
  }
  await stop();
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    {
      name: "astrid -p cold: no daemon, the CLI starts one (ms)",
      unit: "ms",
      store: "file",
      summary: summarize(cold),
      target: { op: "<=", value: 1000 },
    },
    {
      name: "astrid -p warm: a daemon runs (ms)",
      unit: "ms",
      store: "file",
      summary: summarize(warm),
      detail: `turn alone ${ms(summarize(base).median)}`,
    },
    {
      name: "astrid -p warm overhead: warm − the same turn in process (ms)",
      unit: "ms",
      store: "file",
      summary: summarize(overhead),
      target: { op: "<=", value: 100 },
      detail: `${ms(summarize(warm).median)} vs ${ms(summarize(base).median)}`,
    },
    {
      name: "status round trip over the socket (ms)",
      unit: "ms",
      summary: summarize(status),
    },
    {
      name: "astrid status, the CLI process (ms)",
      unit: "ms",
      summary: summarize(statusCli),
    },
  ];
}
