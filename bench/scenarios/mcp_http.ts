/**
 * A tools/call over Streamable HTTP against the same tool over stdio, both
 * on protocol 2026-07-28, the servers (v2 SDK, `tests/fixtures/mcp/`) each in
 * its own `deno run` process, all interleaved in one run:
 *
 * - adapter HTTP vs adapter stdio: the engine's MCP client
 *   (`connectMcpClient`) to the HTTP server on loopback and to the stdio
 *   server — the transport's cost;
 * - engine remote vs adapter HTTP: `registry.invoke(capsule, "call_tool")`
 *   on a remote `[[mcp_server]] url` (gate decision `mcp_tool_call` plus one
 *   gated, audited `capsule_http_request` per HTTP request, checked fetch)
 *   against the bare client to the same server.
 *
 * @module
 */
import * as path from "node:path";
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import type { CapsuleId } from "../../kernel/core/ids.ts";
import { connectMcpClient } from "../../kernel/capsule/engines/mcp/client/mcp_client.ts";
import { makeMcpRuntime } from "../../tests/mcp_fixture_test.ts";
import type { ScenarioOptions } from "./_scenario.ts";

const FIXTURES = path.join(
  import.meta.dirname ?? ".",
  "../../tests/fixtures/mcp",
);
const CAPSULE = "remote-bench" as CapsuleId;
const echo = { text: "hi" };

function spawn(script: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(FIXTURES, script)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0]!.trim();
}

/** @see the module doc. */
export default async function mcpHttp(o: ScenarioOptions): Promise<Row[]> {
  const httpChild = spawn("v2_http_server.ts");
  const url = await firstLine(httpChild.stdout);
  const stdioChild = spawn("v2_stdio_server.ts");
  const timeouts = { requestTimeoutMs: 60_000, probeTimeoutMs: 60_000 };
  const stdio = await connectMcpClient(
    { stdin: stdioChild.stdin, stdout: stdioChild.stdout },
    timeouts,
  );
  const http = await connectMcpClient({
    url: new URL(url),
    fetch: (u, init) => fetch(u, init),
  }, timeouts);
  if (
    stdio.protocolVersion !== "2026-07-28" ||
    http.protocolVersion !== "2026-07-28"
  ) {
    throw new Error(
      `negotiated ${stdio.protocolVersion}/${http.protocolVersion}`,
    );
  }
  const host = new URL(url).host;
  const f = await makeMcpRuntime({
    timeoutMs: 60_000,
    config: "[security]\nallow_private_networks = true\n",
  });
  const plan = o.quick
    ? { rounds: 3, iterations: 10, warmup: 10 }
    : { rounds: 15, iterations: 40, warmup: 1_000 }; // warm code, as `mcp`
  try {
    await f.install(
      CAPSULE,
      `[package]\nname = "${CAPSULE}"\nversion = "1.0.0"\n` +
        `[capabilities]\nnet = ["${host}"]\n\n` +
        `[[mcp_server]]\nid = "remote"\nurl = "${url}"\n`,
    );
    const report = await f.boot();
    if (report.refused.length > 0) {
      throw new Error(`refused: ${JSON.stringify(report.refused)}`);
    }
    const t = await interleave({
      engine: () =>
        f.runtime.registry.invoke(CAPSULE, "call_tool", {
          tool: "echo",
          arguments: echo,
        }),
      http: () => http.callTool("echo", echo),
      stdio: () => stdio.callTool("echo", echo),
    }, plan);
    return [
      ratioRow(
        "MCP tools/call over Streamable HTTP (loopback) / over stdio, adapter, 2026-07-28",
        t.http!,
        t.stdio!,
      ),
      ratioRow(
        "gated remote MCP call_tool (HTTP) / adapter HTTP call",
        t.engine!,
        t.http!,
      ),
    ];
  } finally {
    await f.kernel.security.gate.flush();
    await f.close();
    await http.close();
    await stdio.close();
    httpChild.kill("SIGTERM");
    await httpChild.status;
    await stdioChild.status;
  }
}
