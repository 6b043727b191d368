/**
 * End-to-end (issue 11, finding 6): an MCP tool called over the bus is
 * audited under the capsule that asked, not only under the MCP capsule —
 * the caller's publish is a decision entry of its own, and the MCP
 * capsule's `mcp_tool_call` decision names the caller (`requested_by`).
 */
import assert from "node:assert/strict";
import type { JsonValue } from "../kernel/store/store.ts";
import { KERNEL_SOURCE } from "../kernel/bus/envelope.ts";
import { makeMcpRuntime, MCP_PERMS } from "./mcp_fixture_test.ts";
import { ARTIFACTS, manifestOf } from "./runtime_fixture_test.ts";

const ECHO = `
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { z } from "npm:zod@4.6.7";
const server = new McpServer({ name: "echo", version: "1.0.0" });
server.registerTool("echo", {
  description: "Echo",
  inputSchema: { message: z.string() },
}, ({ message }) => ({ content: [{ type: "text", text: "echo:" + message }] }));
await server.connect(new StdioServerTransport());
`;

const TOOLS = [
  "[package]",
  'name = "tools"',
  'version = "1.0.0"',
  "[capabilities]",
  'host_process = ["deno run server.ts"]',
  "",
  "[[mcp_server]]",
  'id = "echo"',
  'command = "deno"',
  'args = ["run", "server.ts"]',
  "",
].join("\n");

Deno.test({
  name:
    "mcp engine: a tool called over the bus is audited under the asking capsule, and the tool decision names it",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      await f.install("tools", TOOLS, { "server.ts": ECHO });
      await f.install(
        "asker",
        manifestOf({
          name: "asker",
          engine: "js",
          capabilities: ['ipc_publish = ["tool.v1.execute.*"]'],
        }),
        { "capsule.js": new TextDecoder().decode(ARTIFACTS.js) },
      );
      const report = await f.boot();
      assert.deepEqual(report.refused, []);
      const results: JsonValue[] = [];
      const got = new Promise<void>((resolve) => {
        f.runtime.bus.subscribe(KERNEL_SOURCE, {
          pattern: "tool.v1.execute.echo.result",
          handler: (e) => {
            results.push(e.payload);
            resolve();
            return undefined;
          },
        });
      });
      const answer = await f.invoke("asker", "ipc_publish", {
        topic: "tool.v1.execute.echo",
        payload: {
          call_id: "c1",
          tool_name: "echo",
          arguments: { message: "hi" },
        },
      });
      assert.deepEqual(answer, { ok: true, value: { ok: true } });
      await got;
      assert.match(JSON.stringify(results[0]), /echo:hi/);
      const asked = (await f.audit("asker")).map((e) => [e.decision, e.action]);
      assert.deepEqual(asked, [[
        "allowed",
        { type: "bus_publish", topic: "tool.v1.execute.echo" },
      ]]);
      const tool = (await f.audit("tools")).filter((e) =>
        (e.action as { type: string }).type === "mcp_tool_call"
      );
      assert.equal(tool.length, 1);
      assert.equal(tool[0]!.decision, "allowed");
      assert.equal(
        (tool[0]!.action as { requested_by?: string }).requested_by,
        "asker",
      );
    } finally {
      await f.close();
    }
  },
});
