// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno task bench:mcp`: the MCP benchmarks of issue 6, against the pinned
 * server-everything, each compared with a baseline measured in the same run.
 *
 * 1. spawn + initialize (median of 7): the raw SDK (`Client` +
 *    `StdioClientTransport` running `deno run … npm:…`) vs the `mcp` engine
 *    loading a capsule (`registry.load`: `deno cache`, `deno info`
 *    import-graph check, spawn, initialize, tools/list) in flags and broker
 *    mode; the server from npm vs pre-bundled with `deno bundle`.
 * 2. per-call latency of tool `echo`, sequential, on BOTH store kinds (the
 *    in-memory Deno KV and a Deno KV file): raw `client.callTool` vs the full
 *    path `registry.invoke(capsule, "call_tool")` (adapter, gate decision,
 *    audit append, budget), plus the adapter and the gate alone — measured in
 *    interleaved rounds (bench/_interleave.ts): each row is the median of
 *    per-round ratios with p25–p75.
 * 3. broker overhead per permission check: a tool doing N `Deno.statSync` of
 *    a granted file, broker mode vs flags mode.  Usage: `deno task bench:mcp`
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { loadCapsuleDir } from "../kernel/capsule/manifest/load_capsule_dir.ts";
import { VERSION } from "../version.ts";
import { interleave, type RoundTimes, summarize } from "./_interleave.ts";
import { startAdapterChild } from "./_mcp_child.ts";
import {
  capsuleToml,
  deno,
  EVERYTHING_NPM as NPM,
  serverArgs,
  serverEnv,
  startRawClient,
} from "./_mcp_raw.ts";
import {
  makeMcpRuntime,
  type McpFixture,
  npmServer,
  SERVERS,
} from "../tests/mcp_fixture_test.ts";

const RUNS = 7;
const CALLS = 500;
const ROUNDS = 10;
const WARMUP = 50;
const CHECKS = 200;
const CHECK_CALLS = 15;

const STAT_SERVER = `
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { z } from "npm:zod@4.6.7";
const server = new McpServer({ name: "stat", version: "1.0.0" });
server.registerTool("stat", {
  description: "Stat a file n times",
  inputSchema: { path: z.string(), n: z.number().int() },
}, ({ path, n }) => {
  let size = 0;
  for (let i = 0; i < n; i++) size += Deno.statSync(path).size;
  return { content: [{ type: "text", text: String(size) }] };
});
await server.connect(new StdioServerTransport());
`;

type Samples = Record<string, number[]>;

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const avg = (xs: readonly number[]) =>
  xs.reduce((a, b) => a + b, 0) / xs.length;
const p99 = (xs: readonly number[]) =>
  sorted(xs)[Math.floor(0.99 * xs.length)]!;
function median(xs: readonly number[]): number {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
function push(s: Samples, key: string, ms: number): void {
  (s[key] ??= []).push(ms);
}

function scriptToml(
  name: string,
  file: string,
  mode: string,
  caps: string[] = [],
): string {
  const server = `[[mcp_server]]\nid = "s"\ncommand = "deno"\n` +
    `args = ["run", "${file}"]\nmode = "${mode}"\n`;
  return capsuleToml(name, server, [
    `host_process = ["deno run ${file}"]`,
    ...caps,
  ]);
}
function npmToml(mode: "flags" | "broker"): string {
  const s = npmServer("everything", SERVERS.everything, { mode });
  return capsuleToml(`every-${mode}`, s.server, [s.host]);
}

/** Caches and bundles the server, installs and boots the capsules. */
async function setup(f: McpFixture, tmp: string) {
  await deno(["cache", "--no-config", NPM]);
  const denoDir = String(JSON.parse(await deno(["info", "--json"])).denoDir);
  const bundle = path.join(tmp, "everything.js");
  // debug's optional `require("supports-color")` (in a try) cannot be
  // bundled; `--minify` drops JSDoc `@type {import('./get')}` comments, which
  // `deno info` follows, so the engine's import-graph check would refuse it.
  await deno([
    ..."bundle --platform deno --minify --external supports-color".split(" "),
    ...["-o", bundle, NPM],
  ]);
  await Deno.mkdir(path.join(f.workspace, "data"));
  const statFile = path.join(f.workspace, "data/f.txt");
  await Deno.writeTextFile(statFile, "x".repeat(100));
  const stat = { "server.ts": STAT_SERVER };
  const statToml = (m: string) =>
    scriptToml(`stat-${m}`, "server.ts", m, ['fs_read = ["cwd://data"]']);
  const specs: (readonly [string, string, Record<string, string>?])[] = [
    ["every-flags", npmToml("flags")],
    ["every-broker", npmToml("broker")],
    ["every-bundled", scriptToml("every-bundled", "everything.js", "flags"), {
      "everything.js": await Deno.readTextFile(bundle),
    }],
    ...["flags", "broker"].map((m) =>
      [`stat-${m}`, statToml(m), stat] as const
    ),
  ];
  const dirs: Record<string, string> = {};
  for (const [name, toml, files] of specs) {
    dirs[name] = await f.install(name, toml, files);
  }
  const report = await f.boot();
  if (report.refused.length > 0) {
    throw new Error(`capsules refused: ${JSON.stringify(report.refused)}`);
  }
  const env = serverEnv(denoDir);
  return { bundle, statFile, dirs, env, args: serverArgs };
}
type Setup = Awaited<ReturnType<typeof setup>>;

function startRaw(s: Setup, entry: string, cwd: string): Promise<Client> {
  return startRawClient({ args: s.args(entry), env: s.env }, cwd);
}

/** 1. spawn + initialize, interleaved per round to spread machine noise. */
async function spawnBench(f: McpFixture, s: Setup, tmp: string) {
  const out: Samples = {};
  const fs = createDenoFs();
  const reg = f.runtime.registry;
  const load = async (name: string) => {
    await reg.unload(name as CapsuleId);
    const dir = await loadCapsuleDir(fs, s.dirs[name]!, {
      kernelVersion: VERSION,
      trust: {
        keyId: f.kernel.runtimeKey.keyId,
        publicKey: f.kernel.runtimeKey.publicKey,
      },
    });
    return await timed(() => reg.load(dir));
  };
  for (let i = 0; i < RUNS; i++) {
    for (const [key, entry] of [["raw", NPM], ["raw-bundled", s.bundle]]) {
      const t0 = performance.now();
      const client = await startRaw(s, entry!, tmp);
      push(out, key!, performance.now() - t0);
      await client.close();
    }
    push(out, "flags", await load("every-flags"));
    push(out, "broker", await load("every-broker"));
    push(out, "bundled", await load("every-bundled"));
    for (const cmd of ["cache", "info --json"]) {
      const args = [...cmd.split(" "), "--no-config", NPM];
      push(out, cmd.split(" ")[0]!, await timed(() => deno(args)));
    }
  }
  return out;
}

/** 2. per-call latency of `echo`, the paths interleaved in rounds. */
async function callBench(
  f: McpFixture,
  s: Setup,
  tmp: string,
): Promise<RoundTimes> {
  const echo = { message: "hi" };
  const raw = await startRaw(s, NPM, tmp);
  const child = await startAdapterChild({ args: s.args(NPM), env: s.env }, tmp);
  const adapter = child.adapter;
  const gate = f.kernel.security.gate;
  const action = {
    type: "mcp_tool_call",
    server: "everything",
    tool: "echo",
    args_hash: "0".repeat(64),
  } as const;
  let n = 0;
  const ctx = () => ({
    principal: f.kernel.principal,
    session: f.runtime.session,
    capsule: "every-flags" as CapsuleId,
    workspace: f.workspace,
    callId: `bench-${n++}`,
  });
  const paths: Record<string, () => Promise<unknown>> = {
    raw: () => raw.callTool({ name: "echo", arguments: echo }),
    adapter: () => adapter.callTool("echo", echo),
    engine: () =>
      f.runtime.registry.invoke("every-flags" as CapsuleId, "call_tool", {
        tool: "echo",
        arguments: echo,
      }),
    gate: () => gate.run(action, ctx(), { effect: () => Promise.resolve(0) }),
    gateAdapter: () =>
      gate.run(action, ctx(), { effect: () => adapter.callTool("echo", echo) }),
    decide: async () => {
      const d = await gate.decide(action, ctx());
      if (d.allowed) d.budget.commit();
    },
  };
  try {
    return await interleave(paths, {
      rounds: ROUNDS,
      iterations: CALLS / ROUNDS,
      warmup: WARMUP,
    });
  } finally {
    await raw.close();
    await child.close();
  }
}

/** 3. a tool doing N `Deno.statSync`, broker vs flags mode. */
async function checkBench(f: McpFixture, s: Setup) {
  const stat = (capsule: string, n: number) =>
    f.runtime.registry.invoke(capsule as CapsuleId, "call_tool", {
      tool: "stat",
      arguments: { path: s.statFile, n },
    });
  const brokerChecks = async () => {
    await f.kernel.security.gate.flush();
    const entries = await f.kernel.security.audit.query({
      principal: f.kernel.principal,
      capsule: "stat-broker" as CapsuleId,
      limit: 1_000_000,
    });
    return entries.filter((e) =>
      (e.action as { type?: string }).type === "mcp_permission_check"
    ).length;
  };
  const keys = ["flags", "broker"].flatMap((m) =>
    [0, CHECKS].map((n) => [`stat-${m}`, n] as const)
  );
  for (const [c, n] of keys) await stat(c, n);
  const before = await brokerChecks();
  const out: Samples = {};
  for (let i = 0; i < CHECK_CALLS; i++) {
    for (const [c, n] of keys) {
      push(out, `${c.slice(5)} N=${n}`, await timed(() => stat(c, n)));
    }
  }
  return { out, audited: await brokerChecks() - before };
}

const ms = (x: number, d = 2) => `${x.toFixed(d)} ms`;
const rows: string[][] = [["bench", "n", "median", "avg", "p99", "vs base"]];
function group(title: string): void {
  rows.push([`[${title}]`, "", "", "", "", ""]);
}
function row(name: string, xs: readonly number[] = [], base?: number): void {
  const m = median(xs);
  const vs = base === undefined ? "baseline" : `${(m / base).toFixed(2)}×`;
  rows.push([`  ${name}`, `${xs.length}`, ms(m), ms(avg(xs)), ms(p99(xs)), vs]);
}
/** A row of per-round times: median time, median per-round ratio [p25–p75]. */
function roundRow(name: string, xs: number[], base?: number[]): void {
  const t = summarize(xs);
  let vs = "baseline";
  if (base) {
    const r = summarize(xs.map((x, i) => x / base[i]!));
    vs = `${r.median.toFixed(2)}× [${r.p25.toFixed(2)}–${r.p75.toFixed(2)}]`;
  }
  rows.push([
    `  ${name}`,
    `${t.n}r`,
    ms(t.median),
    ms(avg(xs)),
    ms(p99(xs)),
    vs,
  ]);
}
function print(): void {
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => (r[i] ?? "").length))
  );
  for (const [i, r] of rows.entries()) {
    console.log(
      r.map((c, j) => (j > 0 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
        .join("  "),
    );
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

const start = performance.now();
const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "mcpb-" }));
const f = await makeMcpRuntime({ timeoutMs: 60_000 });
let spawn: Samples;
const calls: Record<"memory" | "file", RoundTimes> = {
  memory: {},
  file: {},
};
let checks: Awaited<ReturnType<typeof checkBench>>;
try {
  const s = await setup(f, tmp);
  spawn = await spawnBench(f, s, tmp);
  calls.memory = await callBench(f, s, tmp);
  // The same calls on a kernel whose store is a Deno KV file.
  const ff = await makeMcpRuntime({ timeoutMs: 60_000, fileStore: true });
  try {
    await ff.install("every-flags", npmToml("flags"));
    const report = await ff.boot();
    if (report.refused.length > 0) throw new Error("every-flags refused");
    calls.file = await callBench(ff, s, tmp);
  } finally {
    await ff.close();
  }
  checks = await checkBench(f, s);
} finally {
  await f.close();
  await Deno.remove(tmp, { recursive: true });
}

const rawBase = median(spawn.raw!);
group("spawn + initialize, server from npm (ratio of medians)");
row("raw SDK Client + StdioClientTransport", spawn.raw);
const load = "registry.load: cache+info+spawn+init+list";
row(`engine flags: ${load}`, spawn.flags, rawBase);
row("engine broker: same + broker socket", spawn.broker, rawBase);
row("  part: `deno cache` (no-op, cached)", spawn.cache, rawBase);
row("  part: `deno info --json` (import-graph check)", spawn.info, rawBase);
group("spawn + initialize, plain vs pre-bundled (deno bundle --minify)");
row("raw SDK, npm: (plain)", spawn.raw);
row("raw SDK, bundled everything.js", spawn["raw-bundled"], rawBase);
row("engine flags, npm: (plain)", spawn.flags);
row("engine flags, bundled everything.js", spawn.bundled, median(spawn.flags!));
for (const kind of ["memory", "file"] as const) {
  const c = calls[kind];
  group(
    `callTool echo, sequential, ${CALLS} calls, ${kind} store ` +
      `(median of per-round ratios [p25–p75])`,
  );
  roundRow("raw SDK client.callTool", c.raw!);
  roundRow("adapter (connectMcpClient) callTool", c.adapter!, c.raw);
  roundRow("engine registry.invoke call_tool (full path)", c.engine!, c.raw);
  roundRow("  part: gate.run, no-op effect (decision+outcome)", c.gate!, c.raw);
  roundRow("  part: gate.decide + commit (decision only)", c.decide!, c.raw);
  roundRow("  part: gate.run around adapter callTool", c.gateAdapter!, c.raw);
}
group(`tool doing N Deno.statSync of a granted file, ${CHECK_CALLS} calls`);
const checkBase = median(checks.out["flags N=0"]!);
for (const [k, xs] of Object.entries(checks.out)) {
  row(k, xs, k === "flags N=0" ? undefined : checkBase);
}
print();

const perCheck = (m: string) =>
  (median(checks.out[`${m} N=${CHECKS}`]!) - median(checks.out[`${m} N=0`]!)) /
  CHECKS;
const [flagsCheck, brokerCheck] = [perCheck("flags"), perCheck("broker")];
console.log(
  `\nper permission check = (median N=${CHECKS} - median N=0) / ${CHECKS}: ` +
    `flags ${ms(flagsCheck, 4)}, broker ${ms(brokerCheck, 4)} ` +
    `→ broker overhead ${ms(brokerCheck - flagsCheck, 4)} per check`,
);
console.log(
  `broker checks in the audit chain: ${checks.audited} over ${CHECK_CALLS} ` +
    `N=${CHECKS} calls = ${(checks.audited / CHECK_CALLS).toFixed(1)} per call`,
);
for (const kind of ["memory", "file"] as const) {
  const c = calls[kind];
  const r = summarize(c.engine!.map((x, i) => x / c.raw![i]!));
  console.log(
    `callTool echo, ${kind} store: engine / raw = ${r.median.toFixed(2)}× ` +
      `[${r.p25.toFixed(2)}–${r.p75.toFixed(2)}] (per-round ratios; the ` +
      `targets with the durable-commit baseline: deno task bench)`,
  );
}
console.log(`total ${ms(performance.now() - start, 0)}`);
