/**
 * Benchmarks of the MCP client adapter against the raw SDK, both talking to
 * the same confined server-everything (same `deno run` command line).
 *
 * Run: `deno bench --allow-read --allow-write --allow-env --allow-run kernel/capsule/engines/mcp/client/`
 *
 * - per-call latency: `callTool("echo")` through the adapter vs the SDK's
 *   `Client.callTool()` over `StdioClientTransport` (baseline);
 * - spawn + initialize (timed without the close that follows): adapter
 *   (Deno spawner + stdio transport) vs the SDK's `StdioClientTransport`.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import * as path from "node:path";
import { createDenoSpawner } from "../../../../host/deno_spawner.ts";
import { denoLaunchArgs } from "../launch_flags.ts";
import { ensureEverythingCached, EVERYTHING } from "./_mcp_test_server_test.ts";
import { connectMcpClient } from "./mcp_client.ts";
import type { McpClientSession } from "./mcp_types.ts";

const cache = await ensureEverythingCached();
const dir = await Deno.realPath(
  await Deno.makeTempDir({ prefix: "astrid_mcp_bench_" }),
);
const launch = denoLaunchArgs(
  { command: "npx", args: ["-y", EVERYTHING.slice("npm:".length)] },
  {
    fs_read: [],
    fs_write: [],
    net: [],
    env: [
      "GZIP_MAX_FETCH_SIZE",
      "GZIP_MAX_FETCH_TIME_MILLIS",
      "GZIP_ALLOWED_DOMAINS",
    ],
  },
  {
    denoPath: Deno.execPath(),
    capsuleDir: dir,
    workspace: path.dirname(dir),
    mode: "flags",
    denoDir: cache,
  },
);
if (launch.kind !== "deno") throw new Error("expected a Deno launch");
const [run, ...rest] = launch.args;
const args = [run ?? "run", "--cached-only", ...rest];
const { command, env } = launch;

async function startAdapter(): Promise<{
  session: McpClientSession;
  stop(): Promise<void>;
}> {
  const child = createDenoSpawner().spawn(command, {
    args,
    env,
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const stderr = child.stderr!.pipeTo(new WritableStream());
  const session = await connectMcpClient({
    stdin: child.stdin!,
    stdout: child.stdout!,
  });
  return {
    session,
    async stop() {
      await session.close();
      child.kill("SIGTERM");
      await child.status;
      await stderr;
    },
  };
}

async function startRaw(): Promise<Client> {
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(
    new StdioClientTransport({
      command,
      args,
      env: { ...env },
      cwd: dir,
      stderr: "ignore",
    }),
  );
  return client;
}

const adapter = await startAdapter();
const raw = await startRaw();

globalThis.addEventListener("unload", () => {
  void adapter.stop();
  void raw.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.bench("mcp callTool echo, raw SDK Client + StdioClientTransport", {
  group: "mcp callTool echo",
  baseline: true,
}, async () => {
  await raw.callTool({ name: "echo", arguments: { message: "hi" } });
});

Deno.bench("mcp callTool echo, adapter", {
  group: "mcp callTool echo",
}, async () => {
  await adapter.session.callTool("echo", { message: "hi" });
});

Deno.bench("mcp spawn + initialize, raw SDK", {
  group: "mcp spawn + initialize",
  baseline: true,
  n: 8,
  warmup: 1,
}, async (b) => {
  b.start();
  const client = await startRaw();
  b.end();
  await client.close();
});

Deno.bench("mcp spawn + initialize, adapter", {
  group: "mcp spawn + initialize",
  n: 8,
  warmup: 1,
}, async (b) => {
  b.start();
  const s = await startAdapter();
  b.end();
  await s.stop();
});
