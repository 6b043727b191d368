// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno task bench:mcp`: the MCP benchmarks of issue 6, against the pinned
 * server-everything, each compared with a baseline measured in the same run.
 *
 * 1. spawn + initialize (median of 7): the raw SDK (`Client` +
 *    `StdioClientTransport` running `deno run … npm:…`) vs the `mcp` engine
 *    loading a capsule (flags and broker mode: `deno cache`, `deno info`
 *    import-graph check, spawn, initialize, tools/list), and the server run
 *    from npm vs pre-bundled with `deno bundle`.
 * 2. per-call latency of tool `echo`: raw `client.callTool` vs the full
 *    engine path `registry.invoke(capsule, "call_tool")` (adapter, gate
 *    decision, audit append, budget), plus the adapter and the gate alone.
 * 3. per-permission-check overhead of the broker: a tool doing N `Deno.statSync`
 *    of a granted file, broker mode vs flags mode.
 *
 * Usage: deno task bench:mcp
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { loadCapsuleDir } from "../kernel/capsule/manifest/load_capsule_dir.ts";
import { connectMcpClient } from "../kernel/capsule/engines/mcp/client/mcp_client.ts";
import { VERSION } from "../version.ts";
import {
  EVERYTHING_ENV,
  makeMcpRuntime,
  npmServer,
  SERVERS,
} from "../tests/mcp_fixture_test.ts";

const RUNS = 7;
const CALLS = 500;
const ROUNDS = 5;
const WARMUP = 50;
const CHECKS = 200;
const CHECK_CALLS = 15;
const NPM = `npm:${SERVERS.everything}`;
const ENV_FLAG = `--allow-env=${EVERYTHING_ENV.join(",")}`;

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

async function deno(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`deno ${args[0]} failed: ${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
function avg(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function capsuleToml(name: string, server: string, host: string): string {
  return [
    "[package]",
    `name = "${name}"`,
    'version = "1.0.0"',
    "[capabilities]",
    host,
    ...EVERYTHING_ENV.flatMap((k) => [
      `[env.${k}]`,
      'type = "string"',
      'default = ""',
    ]),
    "",
    server,
  ].join("\n");
}
function scriptToml(
  name: string,
  file: string,
  mode: "flags" | "broker",
  capabilities: readonly string[] = [],
): string {
  return capsuleToml(
    name,
    [
      "[[mcp_server]]",
      'id = "s"',
      'command = "deno"',
      `args = ["run", "${file}"]`,
      `mode = "${mode}"`,
      "",
    ].join("\n"),
    [`host_process = ["deno run ${file}"]`, ...capabilities].join("\n"),
  );
}

// ---- setup -----------------------------------------------------------------
const setupStart = performance.now();
await deno(["cache", "--no-config", NPM]);
const denoDir = String(JSON.parse(await deno(["info", "--json"])).denoDir);
const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "mcpb-" }));
const bundle = path.join(tmp, "everything.js");
// debug's optional `require("supports-color")` (in a try) cannot be bundled;
// `--minify` drops JSDoc `@type {import('./get')}` comments, which `deno info`
// follows, so that the engine's import-graph check would refuse the bundle.
await deno([
  "bundle",
  "--platform",
  "deno",
  "--minify",
  "--external",
  "supports-color",
  "-o",
  bundle,
  NPM,
]);
const childEnv = {
  DENO_DIR: denoDir,
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
};
const rawArgs = (entry: string) => [
  "run",
  "--no-prompt",
  "--cached-only",
  "--no-config",
  ENV_FLAG,
  entry,
];

async function startRaw(entry: string): Promise<Client> {
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: rawArgs(entry),
      env: childEnv,
      cwd: tmp,
      stderr: "ignore",
    }),
  );
  return client;
}

const f = await makeMcpRuntime({ timeoutMs: 60_000 });
const every = (mode: "flags" | "broker") => {
  const s = npmServer("everything", SERVERS.everything, { mode });
  return capsuleToml(`every-${mode}`, s.server, s.host);
};
await Deno.mkdir(path.join(f.workspace, "data"));
const statFile = path.join(f.workspace, "data/f.txt");
await Deno.writeTextFile(statFile, "x".repeat(100));
const dirs = {
  "every-flags": await f.install("every-flags", every("flags")),
  "every-broker": await f.install("every-broker", every("broker")),
  "every-bundled": await f.install(
    "every-bundled",
    scriptToml("every-bundled", "everything.js", "flags"),
    { "everything.js": await Deno.readTextFile(bundle) },
  ),
  "stat-flags": await f.install(
    "stat-flags",
    scriptToml("stat-flags", "server.ts", "flags", [
      'fs_read = ["cwd://data"]',
    ]),
    { "server.ts": STAT_SERVER },
  ),
  "stat-broker": await f.install(
    "stat-broker",
    scriptToml("stat-broker", "server.ts", "broker", [
      'fs_read = ["cwd://data"]',
    ]),
    { "server.ts": STAT_SERVER },
  ),
};
const report = await f.boot();
if (report.refused.length > 0) {
  throw new Error(`capsules refused: ${JSON.stringify(report.refused)}`);
}
const fs = createDenoFs();
const registry = f.runtime.registry;
const invoke = (c: string, a: string, p: JsonValue) =>
  registry.invoke(c as CapsuleId, a, p);
const setupMs = performance.now() - setupStart;

// ---- 1. spawn + initialize --------------------------------------------------
const spawnTimes = new Map<string, number[]>();
function record(key: string, ms: number): void {
  spawnTimes.set(key, [...(spawnTimes.get(key) ?? []), ms]);
}
async function engineLoad(name: keyof typeof dirs): Promise<number> {
  await registry.unload(name as CapsuleId);
  const dir = await loadCapsuleDir(fs, dirs[name], { kernelVersion: VERSION });
  return await timed(() => registry.load(dir));
}
for (let i = 0; i < RUNS; i++) {
  for (const entry of [NPM, bundle]) {
    let client: Client | undefined;
    record(
      entry === NPM ? "raw" : "raw-bundled",
      await timed(async () => client = await startRaw(entry)),
    );
    await client?.close();
  }
  record("flags", await engineLoad("every-flags"));
  record("broker", await engineLoad("every-broker"));
  record("bundled", await engineLoad("every-bundled"));
  record(
    "cache",
    await timed(() => deno(["cache", "--no-config", NPM])),
  );
  record(
    "info",
    await timed(() => deno(["info", "--json", "--no-config", NPM])),
  );
}

// ---- 2. per-call latency ------------------------------------------------------
const echo = { message: "hi" };
const raw = await startRaw(NPM);
const child = createDenoSpawner().spawn(Deno.execPath(), {
  args: rawArgs(NPM),
  env: childEnv,
  cwd: tmp,
  stdin: "piped",
  stdout: "piped",
  stderr: "piped",
});
const childErr = child.stderr!.pipeTo(new WritableStream());
const adapter = await connectMcpClient({
  stdin: child.stdin!,
  stdout: child.stdout!,
});
const gate = f.kernel.security.gate;
const TOOL_CALL = {
  type: "mcp_tool_call",
  server: "everything",
  tool: "echo",
  args_hash: "0".repeat(64),
} as const;
let callN = 0;
const gateCtx = () => ({
  principal: f.kernel.principal,
  session: f.runtime.session,
  capsule: "every-flags" as CapsuleId,
  workspace: f.workspace,
  callId: `bench-${callN++}`,
});
const paths: Record<string, () => Promise<unknown>> = {
  raw: () => raw.callTool({ name: "echo", arguments: echo }),
  adapter: () => adapter.callTool("echo", echo),
  engine: () =>
    invoke("every-flags", "call_tool", { tool: "echo", arguments: echo }),
  gate: () =>
    gate.run(TOOL_CALL, gateCtx(), { effect: () => Promise.resolve(null) }),
  decide: async () => {
    const d = await gate.decide(TOOL_CALL, gateCtx());
    if (d.allowed) d.budget.commit();
  },
};
const callTimes: Record<string, number[]> = {};
for (const [k, fn] of Object.entries(paths)) {
  for (let i = 0; i < WARMUP; i++) await fn();
  callTimes[k] = [];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, fn] of Object.entries(paths)) {
    for (let i = 0; i < CALLS / ROUNDS; i++) {
      callTimes[k]!.push(await timed(fn));
    }
  }
}

// ---- 3. broker overhead per permission check ---------------------------------
const checkTimes: Record<string, number[]> = {};
for (const c of ["stat-flags", "stat-broker"]) {
  for (const n of [0, CHECKS]) {
    checkTimes[`${c}/${n}`] = [];
    await invoke(c, "call_tool", {
      tool: "stat",
      arguments: { path: statFile, n },
    });
  }
}
async function brokerChecks(): Promise<number> {
  await gate.flush();
  const entries = await f.kernel.security.audit.query({
    principal: f.kernel.principal,
    capsule: "stat-broker" as CapsuleId,
    limit: 1_000_000,
  });
  return entries.filter((e) =>
    (e.action as { type?: string }).type === "mcp_permission_check"
  ).length;
}
const before = await brokerChecks();
for (let i = 0; i < CHECK_CALLS; i++) {
  for (const c of ["stat-flags", "stat-broker"]) {
    for (const n of [0, CHECKS]) {
      checkTimes[`${c}/${n}`]!.push(
        await timed(() =>
          invoke(c, "call_tool", {
            tool: "stat",
            arguments: { path: statFile, n },
          })
        ),
      );
    }
  }
}
const checksAudited = await brokerChecks() - before;

await raw.close();
await adapter.close();
child.kill("SIGTERM");
await child.status;
await childErr;
await f.close();
await Deno.remove(tmp, { recursive: true });

// ---- report ---------------------------------------------------------------------
const ms = (x: number, d = 2) => `${x.toFixed(d)} ms`;
const rows: string[][] = [[
  "bench",
  "n",
  "median",
  "avg",
  "p99",
  "vs baseline",
]];
function group(title: string): void {
  rows.push([`[${title}]`, "", "", "", "", ""]);
}
function row(name: string, xs: readonly number[], base?: number): void {
  const m = median(xs);
  rows.push([
    `  ${name}`,
    String(xs.length),
    ms(m),
    ms(avg(xs)),
    ms(pct(xs, 0.99)),
    base === undefined ? "baseline" : `${(m / base).toFixed(2)}×`,
  ]);
}
const st = (k: string) => spawnTimes.get(k) ?? [];
group("spawn + initialize, server from npm (median ratio)");
row("raw SDK Client + StdioClientTransport", st("raw"));
const rawBase = median(st("raw"));
row(
  "engine flags (registry.load: cache+info+spawn+init+list)",
  st("flags"),
  rawBase,
);
row("engine broker (same + broker socket)", st("broker"), rawBase);
row("  of which `deno cache` (no-op, cached)", st("cache"), rawBase);
row("  of which `deno info --json` (import graph)", st("info"), rawBase);
group("spawn + initialize, plain vs pre-bundled (deno bundle)");
row("raw SDK, npm: (plain)", st("raw"));
row("raw SDK, bundled everything.js", st("raw-bundled"), rawBase);
row("engine flags, npm: (plain)", st("flags"));
row("engine flags, bundled everything.js", st("bundled"), median(st("flags")));
group(`callTool echo, sequential, ${CALLS} calls (p50 ratio)`);
row("raw SDK client.callTool", callTimes.raw!);
const callBase = median(callTimes.raw!);
row("adapter connectMcpClient session.callTool", callTimes.adapter!, callBase);
row(
  "engine registry.invoke call_tool (full path)",
  callTimes.engine!,
  callBase,
);
row(
  "gate.run alone, no-op effect (decision+outcome audit)",
  callTimes.gate!,
  callBase,
);
row("gate.decide alone + commit (decision audit)", callTimes.decide!, callBase);
group(`tool doing N Deno.statSync, ${CHECK_CALLS} calls each`);
for (const c of ["stat-flags", "stat-broker"]) {
  for (const n of [0, CHECKS]) {
    row(
      `${c.slice(5)} N=${n}`,
      checkTimes[`${c}/${n}`]!,
      c === "stat-flags" && n === 0
        ? undefined
        : median(checkTimes["stat-flags/0"]!),
    );
  }
}
const perCheck = (c: string) =>
  (median(checkTimes[`${c}/${CHECKS}`]!) - median(checkTimes[`${c}/0`]!)) /
  CHECKS;
const widths = rows[0]!.map((_, i) =>
  Math.max(...rows.map((r) => (r[i] ?? "").length))
);
for (const [i, r] of rows.entries()) {
  console.log(
    r.map((c, j) => (j >= 1 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join("  "),
  );
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
const flagsCheck = perCheck("stat-flags");
const brokerCheck = perCheck("stat-broker");
console.log(
  `\nper permission check (median(N=${CHECKS}) - median(N=0)) / ${CHECKS}: ` +
    `flags ${ms(flagsCheck, 4)}, broker ${ms(brokerCheck, 4)}, ` +
    `broker overhead ${ms(brokerCheck - flagsCheck, 4)}/check`,
);
console.log(
  `broker checks audited: ${checksAudited} for ${CHECK_CALLS} calls of N=${CHECKS} ` +
    `(+${CHECK_CALLS} of N=0) = ${
      (checksAudited / CHECK_CALLS).toFixed(1)
    } per N=${CHECKS} call`,
);
const ratio = avg(callTimes.engine!) / avg(callTimes.raw!);
console.log(
  `callTool avg: raw ${ms(avg(callTimes.raw!), 3)}, adapter ${
    ms(avg(callTimes.adapter!), 3)
  }, ` +
    `engine ${ms(avg(callTimes.engine!), 3)} → ${ratio.toFixed(2)}× raw ` +
    `(target ≤ 1.20×: ${ratio <= 1.2 ? "met" : "MISSED"})`,
);
console.log(
  `setup (cache, bundle, kernel, first boot of 5 capsules): ${
    ms(setupMs, 0)
  }; ` +
    `total ${ms(performance.now() - setupStart, 0)}`,
);
