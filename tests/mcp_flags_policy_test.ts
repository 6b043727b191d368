/**
 * End-to-end, real Deno MCP servers in `flags` mode: every value that becomes
 * an `--allow-*` flag is first a gate decision (policy, mode, audit). A
 * server granted loopback is refused before it starts — so no spelling of
 * 127.0.0.1 reaches a loopback service — and an allowed launch leaves one
 * audited decision per flag value, each with its own call id.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import {
  denoServerManifest,
  makeMcpRuntime,
  MCP_PERMS,
} from "./mcp_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

/** A Deno MCP server with one tool that fetches a URL. */
const FETCHER = `
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { z } from "npm:zod@4.6.7";
const server = new McpServer({ name: "fetcher", version: "1.0.0" });
server.registerTool("get", {
  description: "Fetch a URL",
  inputSchema: { url: z.string() },
}, async ({ url }) => {
  let text;
  try { text = "ok:" + (await (await fetch(url)).text()); }
  catch (e) { text = "err:" + (e?.name ?? "Error"); }
  return { content: [{ type: "text", text }] };
});
await server.connect(new StdioServerTransport());
`;

function capsule(name: string, capabilities: readonly string[]): string {
  return denoServerManifest(name, {
    id: "fetcher",
    mode: "flags",
    capabilities,
  });
}

/** The loopback spellings Deno's `--allow-net=127.0.0.1` would let through. */
function spellings(port: number): string[] {
  return [
    `http://127.0.0.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://127.1:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
  ];
}

Deno.test({
  name:
    "mcp engine (flags): a server granted 127.0.0.1/localhost is refused before it starts (POLICY_BLOCKED, audited), so no loopback spelling reaches a local service",
  permissions: MCP_PERMS,
  async fn() {
    let hits = 0;
    const local = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => {
        hits++;
        return new Response("loopback secret");
      },
    );
    const f = await makeMcpRuntime();
    try {
      await f.install(
        "loop",
        capsule("loop", ['net = ["127.0.0.1", "localhost"]']),
        { "server.ts": FETCHER },
      );
      const report = await f.boot();
      const refused = report.refused.find((r) => r.capsule === "loop");
      assert.ok(refused, JSON.stringify(report));
      assert.match(refused.reason, /net grant '127\.0\.0\.1'.*POLICY_BLOCKED/);
      const denied = (await f.audit("loop")).filter((e) =>
        e.decision === "denied" &&
        (e.action as Obj).type === "mcp_permission_check"
      ).map((e) => [(e.action as Obj).permission, (e.action as Obj).value]);
      assert.deepEqual(denied, [["net", "127.0.0.1"]]);
      await assert.rejects(
        f.invoke("loop", "call_tool", {
          tool: "get",
          arguments: { url: spellings(local.addr.port)[0]! },
        }),
      );
      assert.equal(hits, 0);
    } finally {
      await f.close();
      await local.shutdown();
    }
  },
});

Deno.test({
  name:
    "mcp engine (flags): with security.allow_private_networks the policy allows the loopback grant, and the server reaches it in every spelling",
  permissions: MCP_PERMS,
  async fn() {
    const local = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("loopback"),
    );
    const f = await makeMcpRuntime({
      config: "[security]\nallow_private_networks = true\n",
    });
    try {
      await f.install(
        "loop",
        // A port-less grant covers only 80/443; the listener's port is named.
        capsule("loop", [`net = ["127.0.0.1:${local.addr.port}"]`]),
        { "server.ts": FETCHER },
      );
      const report = await f.boot();
      assert.deepEqual(report.refused, []);
      for (const url of spellings(local.addr.port)) {
        const r = await f.invoke("loop", "call_tool", {
          tool: "get",
          arguments: { url },
        }) as Obj;
        const text = String(((r.content as Obj[])[0] as Obj).text);
        // What Deno's --allow-net=127.0.0.1:<port> lets through: every spelling.
        assert.equal(text, "ok:loopback", url);
      }
    } finally {
      await f.close();
      await local.shutdown();
    }
  },
});

Deno.test({
  name:
    "mcp engine (flags): an allowed launch is audited as one decision per flag value (read root, net host, env name), each with its own call id",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      await Deno.mkdir(path.join(f.workspace, "docs"));
      await f.install(
        "flagged",
        capsule("flagged", [
          'fs_read = ["cwd://docs"]',
          'net = ["api.example.com"]',
          "[env.FETCHER_TOKEN]",
          'type = "string"',
        ]),
        { "server.ts": FETCHER },
      );
      const report = await f.boot();
      assert.deepEqual(report.refused, []);
      const checks = (await f.audit("flagged")).filter((e) =>
        (e.action as Obj).type === "mcp_permission_check"
      );
      assert.deepEqual(
        checks.map((e) => [
          e.decision,
          (e.action as Obj).permission,
          (e.action as Obj).value,
        ]),
        [
          ["allowed", "read", path.join(f.workspace, "docs")],
          ["allowed", "net", "api.example.com"],
          ["allowed", "env", "FETCHER_TOKEN"],
        ],
      );
      const ids = checks.map((e) => e.call_id);
      assert.equal(new Set(ids).size, ids.length);
      assert.equal(
        (await f.kernel.security.audit.verify(f.kernel.principal)).valid,
        true,
      );
    } finally {
      await f.close();
    }
  },
});
