/**
 * `astrid mcp serve` against the same tool served directly by the v2 SDK,
 * interleaved: an MCP host (the v2 client SDK) calls `test_simple_text` of
 * the fixture MCP capsule (`tests/fixtures/mcp_serve/server.ts`)
 *
 * - through Astrid over stdio: host → `astrid mcp serve` (CLI subprocess) →
 *   the daemon's tool gateway (gate decision + audit, durable, file store)
 *   → the MCP capsule (its own gated `mcp_tool_call`, audited) → the server;
 * - the same through `astrid mcp serve --http` (Streamable HTTP, loopback);
 * - directly: host → the fixture server over stdio (`deno run server.ts`),
 *   no Astrid at all (the baseline).
 *
 * No target: what the gateway costs is the number to publish (two durable
 * audit decisions per call, three process hops).
 *
 * @module
 */
import {
  Client,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import {
  fmtMs,
  interleave,
  ratioRow,
  type Row,
  summarize,
} from "../_interleave.ts";
import type { ScenarioOptions } from "./_scenario.ts";
import { CLI_MAIN, CLI_PERMS } from "../../tests/cli_fixture_test.ts";
import {
  installCapsules,
  spawnDaemonProcess,
  tempHome,
} from "../../tests/daemon_fixture_test.ts";
import {
  FIXTURE_SERVER,
  installFixtureCapsule,
  listeningUrl,
} from "../../tests/mcp_serve_fixture_test.ts";

const TOOL = { name: "test_simple_text", arguments: {} };
const TOKEN = "bench-token-".padEnd(40, "x");

/** @see the module doc. */
export default async function mcpServe(o: ScenarioOptions): Promise<Row[]> {
  const h = await tempHome('[workspace]\nmode = "autonomous"\n');
  const clients: Client[] = [];
  let http: Deno.ChildProcess | undefined;
  try {
    await installCapsules(h, ["router"]);
    await installFixtureCapsule(h.env);
    const daemon = await spawnDaemonProcess(h);
    try {
      const serveArgs = [
        "run",
        ...CLI_PERMS,
        CLI_MAIN,
        "mcp",
        "serve",
        "-w",
        h.workspace,
      ];
      const viaStdio = new Client({ name: "bench", version: "0" });
      await viaStdio.connect(
        new StdioClientTransport({
          command: Deno.execPath(),
          args: serveArgs,
          env: h.env,
          cwd: h.dir,
          stderr: "ignore",
        }),
      );
      clients.push(viaStdio);
      http = new Deno.Command(Deno.execPath(), {
        args: [...serveArgs, "--http"],
        env: { ...h.env, ASTRID_MCP_TOKEN: TOKEN },
        clearEnv: true,
        cwd: h.dir,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const url = await listeningUrl(http.stderr);
      const viaHttp = new Client({ name: "bench", version: "0" });
      await viaHttp.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
        }),
      );
      clients.push(viaHttp);
      const direct = new Client({ name: "bench", version: "0" });
      await direct.connect(
        new StdioClientTransport({
          command: Deno.execPath(),
          args: ["run", "--allow-read", "--allow-env", FIXTURE_SERVER],
          env: h.env,
          cwd: h.dir,
          stderr: "ignore",
        }),
      );
      clients.push(direct);
      const plan = o.quick
        ? { rounds: 3, iterations: 5, warmup: 5 }
        : { rounds: 15, iterations: 20, warmup: 20 };
      const t = await interleave({
        stdio: () => viaStdio.callTool(TOOL),
        http: () => viaHttp.callTool(TOOL),
        direct: () => direct.callTool(TOOL),
      }, plan);
      const ms = (xs: number[]) => fmtMs(summarize(xs).median);
      return [
        ratioRow(
          "tools/call via astrid mcp serve (stdio) / same tool served directly by the v2 SDK",
          t.stdio!,
          t.direct!,
          { store: "file" },
        ),
        ratioRow(
          "tools/call via astrid mcp serve --http / same tool served directly by the v2 SDK",
          t.http!,
          t.direct!,
          { store: "file" },
        ),
        ratioRow(
          "tools/call via astrid mcp serve: Streamable HTTP / stdio",
          t.http!,
          t.stdio!,
          { store: "file" },
        ),
        {
          name: "tools/call via astrid mcp serve (stdio), ms per call",
          unit: "ms",
          summary: summarize(t.stdio!),
          store: "file",
          detail: `http ${ms(t.http!)}, direct ${ms(t.direct!)}`,
        },
      ];
    } finally {
      await daemon.stop();
    }
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    if (http) {
      try {
        http.kill("SIGTERM");
      } catch {
        // silent-ok: already gone
      }
      await http.status;
    }
    await h[Symbol.asyncDispose]();
  }
}
