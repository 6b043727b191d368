// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno run -A bench/mcp_wrap.ts`: what `astrid mcp wrap` costs an MCP host,
 * against the pinned server-filesystem run directly, in the same run.
 *
 * 1. connect (spawn + initialize), median of 5: `deno run npm:<server>`
 *    directly vs `astrid mcp wrap -- npx -y <server> <dir>` with a running
 *    daemon (the wrap process loads, checks the install against its pins,
 *    opens a daemon session; the daemon boots the capsule's server under the
 *    permission broker).
 * 2. `tools/call read_text_file` of a small file, sequential, 5 interleaved
 *    rounds of 40 calls: direct vs through the wrap (CLI relay, daemon API,
 *    gate decision + audit of the call, broker decisions of the server's
 *    file checks), median per call and the per-round ratio.
 *
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import * as path from "node:path";
import { createStdioTransport } from "../kernel/capsule/engines/mcp/client/stdio_transport.ts";
import {
  CLI_MAIN,
  CLI_PERMS,
  DENO_DIR,
  runAstrid,
} from "../tests/cli_fixture_test.ts";
import { tempHome } from "../tests/daemon_fixture_test.ts";
import { SERVERS } from "../tests/mcp_fixture_test.ts";

const ENV_NAME = "__MINIMATCH_TESTING_PLATFORM__";

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function open(
  args: readonly string[],
  o: { cwd: string; env: Record<string, string> },
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: o.cwd,
    env: { ...o.env, DENO_DIR, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(
    createStdioTransport({ stdin: child.stdin, stdout: child.stdout }),
  );
  return {
    client,
    async close() {
      await client.close();
      const t = setTimeout(() => child.kill(), 5_000);
      await child.status;
      clearTimeout(t);
    },
  };
}

await using h = await tempHome('[workspace]\nmode = "autonomous"\n');
const docs = path.join(h.workspace, "docs");
await Deno.mkdir(docs);
const file = path.join(docs, "a.txt");
await Deno.writeTextFile(file, "alpha\n".repeat(20));
const base = { HOME: h.env["HOME"]!, ASTRID_HOME: h.env["ASTRID_HOME"]! };
const io = { cwd: h.workspace, env: { ...base, PATH: h.env["PATH"]! } };
const wrapArgs = [
  "--env",
  ENV_NAME,
  "--",
  "npx",
  "-y",
  SERVERS.filesystem,
  docs,
];
const installed = await runAstrid(
  ["mcp", "wrap", "--install-only", "--yes", ...wrapArgs],
  { cwd: h.workspace, env: base },
);
if (installed.code !== 0) throw new Error(installed.stderr);
await runAstrid(["start"], { cwd: h.workspace, env: base });

const direct = [
  "run",
  "--no-prompt",
  `--allow-read=${docs}`,
  `--allow-env=${ENV_NAME}`,
  `npm:${SERVERS.filesystem}`,
  docs,
];
const wrap = ["run", ...CLI_PERMS, CLI_MAIN, "mcp", "wrap", ...wrapArgs];

const connect: Record<string, number[]> = { direct: [], wrap: [] };
for (let i = 0; i < 5; i++) {
  for (const [name, args] of [["direct", direct], ["wrap", wrap]] as const) {
    const t0 = performance.now();
    const c = await open(args, io);
    connect[name]!.push(performance.now() - t0);
    await c.close();
  }
}
console.log("connect (spawn + initialize), median of 5:");
for (const [k, v] of Object.entries(connect)) {
  console.log(`  ${k.padEnd(7)} ${median(v).toFixed(0)} ms`);
}

const clients = { direct: await open(direct, io), wrap: await open(wrap, io) };
const names: Record<string, string> = {};
for (const [k, c] of Object.entries(clients)) {
  const tools = (await c.client.listTools()).tools.map((t: { name: string }) =>
    t.name
  );
  names[k] = tools.find((t: string) => /read_text_file$/.test(t))!;
}
const perCall: Record<string, number[]> = { direct: [], wrap: [] };
const ratios: number[] = [];
for (let round = 0; round < 5; round++) {
  const times: Record<string, number> = {};
  for (const k of ["direct", "wrap"] as const) {
    const c = clients[k].client;
    const t0 = performance.now();
    for (let i = 0; i < 40; i++) {
      await c.callTool({ name: names[k]!, arguments: { path: file } });
    }
    times[k] = (performance.now() - t0) / 40;
    perCall[k]!.push(times[k]!);
  }
  ratios.push(times["wrap"]! / times["direct"]!);
}
for (const c of Object.values(clients)) await c.close();
console.log("tools/call read_text_file, 5 rounds of 40 sequential calls:");
for (const [k, v] of Object.entries(perCall)) {
  console.log(`  ${k.padEnd(7)} ${median(v).toFixed(2)} ms per call`);
}
console.log(`  wrap / direct ${median(ratios).toFixed(1)}x (median per round)`);
await runAstrid(["stop"], { cwd: h.workspace, env: base });
