/**
 * Protocol negotiation of the SDK v2 client: 2026-07-28 with servers that
 * answer `server/discover`, 2025-11-25 with those that do not — over stdio
 * and over Streamable HTTP, against real SDK servers.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer as LegacyMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { connectMcpClient } from "./mcp_client.ts";
import { createStdioTransport } from "./stdio_transport.ts";
import type { McpHttpEndpoint } from "./mcp_types.ts";
import {
  startLegacyServer,
  startModernServer,
} from "../../../../../tests/_mcp_http_server_test.ts";

function pipes() {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  return {
    server: { stdin: down.readable, stdout: up.writable },
    client: { stdin: down.writable, stdout: up.readable },
  };
}

function endpoint(url: string): McpHttpEndpoint {
  return { url: new URL(url), fetch: (u, init) => fetch(u, init) };
}

Deno.test({
  name:
    "connectMcpClient() negotiates 2026-07-28 over stdio with a v2 SDK server (serveStdio subprocess)",
  permissions: { run: ["deno"], read: true, env: true, net: true },
  async fn() {
    const script = new URL(
      "../../../../../tests/fixtures/mcp/v2_stdio_server.ts",
      import.meta.url,
    );
    const child = new Deno.Command("deno", {
      args: ["run", "-A", script.pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const session = await connectMcpClient({
      stdin: child.stdin,
      stdout: child.stdout,
    }, { requestTimeoutMs: 30_000, probeTimeoutMs: 30_000 });
    try {
      assert.equal(session.protocolVersion, "2026-07-28");
      assert.equal(session.server.name, "v2-stdio");
      const r = await session.callTool("echo", { text: "hi" });
      assert.deepEqual(r.content, [{ type: "text", text: "hi" }]);
    } finally {
      await session.close();
      await child.status;
    }
  },
});

Deno.test({
  name:
    "connectMcpClient() falls back to 2025-11-25 over stdio with a v1 SDK server (method not found on server/discover)",
  permissions: "none",
  async fn() {
    const legacy = new LegacyMcpServer({ name: "v1", version: "1.0.0" });
    legacy.registerTool(
      "echo",
      { inputSchema: { text: z.string() } },
      ({ text }) => ({ content: [{ type: "text", text }] }),
    );
    const p = pipes();
    await legacy.connect(
      createStdioTransport({ stdin: p.server.stdout, stdout: p.server.stdin }),
    );
    const session = await connectMcpClient(p.client);
    try {
      assert.equal(session.protocolVersion, "2025-11-25");
      const r = await session.callTool("echo", { text: "hi" });
      assert.deepEqual(r.content, [{ type: "text", text: "hi" }]);
    } finally {
      await session.close();
      await legacy.close();
    }
  },
});

Deno.test({
  name:
    "connectMcpClient() over Streamable HTTP: 2026-07-28 with a v2 server, 2025-11-25 with a v1 server's web transport",
  permissions: { net: ["127.0.0.1"] },
  async fn() {
    const modern = startModernServer();
    const legacy = await startLegacyServer();
    try {
      for (
        const [s, version] of [
          [modern, "2026-07-28"],
          [legacy, "2025-11-25"],
        ] as const
      ) {
        const session = await connectMcpClient(endpoint(s.url));
        try {
          assert.equal(session.protocolVersion, version);
          const r = await session.callTool("echo", { text: "x" });
          assert.deepEqual(r.content, [{ type: "text", text: "echo: x" }]);
        } finally {
          await session.close();
        }
      }
      assert.ok(modern.seen.some((r) => r.rpc === "server/discover"));
      assert.ok(!modern.seen.some((r) => r.rpc === "initialize"));
      assert.ok(legacy.seen.some((r) => r.rpc === "initialize"));
    } finally {
      await modern.close();
      await legacy.close();
    }
  },
});

Deno.test({
  name:
    "McpClientSession.listTools() serves the list from cache for the server's ttlMs and refetches with fresh: true",
  permissions: { net: ["127.0.0.1"] },
  async fn() {
    const s = startModernServer({ ttlMs: 60_000 });
    const session = await connectMcpClient(endpoint(s.url));
    try {
      const count = () => s.seen.filter((r) => r.rpc === "tools/list").length;
      assert.equal((await session.listTools()).length, 2);
      assert.equal((await session.listTools()).length, 2);
      assert.equal(count(), 1);
      await session.listTools({ fresh: true });
      assert.equal(count(), 2);
    } finally {
      await session.close();
      await s.close();
    }
  },
});

Deno.test({
  name: "McpClientSession.listTools() without ttlMs asks the server every time",
  permissions: { net: ["127.0.0.1"] },
  async fn() {
    const s = startModernServer();
    const session = await connectMcpClient(endpoint(s.url));
    try {
      await session.listTools();
      await session.listTools();
      assert.equal(s.seen.filter((r) => r.rpc === "tools/list").length, 2);
    } finally {
      await session.close();
      await s.close();
    }
  },
});

Deno.test({
  name:
    "on 2026-07-28 a server's input_required (elicitation, sampling, roots) is answered by the same handlers as 2025's server requests",
  permissions: { net: ["127.0.0.1"] },
  async fn() {
    const { acceptedContent, createMcpHandler, inputRequired, McpServer } =
      await import("@modelcontextprotocol/server");
    const handler = createMcpHandler(() => {
      const server = new McpServer({ name: "asks", version: "2.0.0" });
      server.registerTool(
        "deploy",
        { inputSchema: z.object({}) },
        (_args, ctx) => {
          const responses = ctx.mcpReq.inputResponses;
          const ok = acceptedContent(responses, "confirm");
          const sampled = responses?.["model"] as
            | { content?: { text?: string } }
            | undefined;
          const roots = responses?.["roots"] as
            | { roots?: { uri: string }[] }
            | undefined;
          if (ok === undefined || sampled === undefined || !roots) {
            return inputRequired({
              inputRequests: {
                confirm: inputRequired.elicit({
                  message: "Deploy?",
                  requestedSchema: z.object({ confirm: z.boolean() }),
                }),
                model: inputRequired.createMessage({
                  messages: [{
                    role: "user",
                    content: { type: "text", text: "name it" },
                  }],
                  maxTokens: 10,
                }),
                roots: inputRequired.listRoots(),
              },
            });
          }
          const text = `${ok.confirm} ${sampled.content?.text} ${
            roots.roots?.map((r) => r.uri).join(",")
          }`;
          return { content: [{ type: "text", text }] };
        },
      );
      return server;
    });
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => handler.fetch(req),
    );
    const port = (http.addr as Deno.NetAddr).port;
    const asked: string[] = [];
    const session = await connectMcpClient(
      endpoint(`http://127.0.0.1:${port}/mcp`),
      {
        handlers: {
          elicit: (
            req,
          ) => (asked.push(`elicit:${req.message}`),
            Promise.resolve({ action: "accept", content: { confirm: true } })),
          sample: () => (asked.push("sample"),
            Promise.resolve({
              role: "assistant",
              content: { type: "text", text: "blue" },
              model: "m",
            })),
          roots:
            () => (asked.push("roots"),
              Promise.resolve([{ uri: "file:///work" }])),
        },
      },
    );
    try {
      assert.equal(session.protocolVersion, "2026-07-28");
      const r = await session.callTool("deploy", {});
      assert.deepEqual(r.content, [{
        type: "text",
        text: "true blue file:///work",
      }]);
      assert.deepEqual(asked.sort(), ["elicit:Deploy?", "roots", "sample"]);
    } finally {
      await session.close();
      await handler.close?.();
      await http.shutdown();
    }
  },
});
