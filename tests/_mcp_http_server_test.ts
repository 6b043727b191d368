/**
 * Real Streamable HTTP MCP servers on loopback for the tests of remote
 * `[[mcp_server]] url = …`: one built with the v2 server SDK
 * (`@modelcontextprotocol/server`, answers `server/discover`, protocol
 * 2026-07-28, legacy requests served statelessly) and one with the v1 SDK's
 * web-standard transport (2025-11-25 only). Both record what reached them.
 */
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer as LegacyMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

/** A running loopback server. */
export interface HttpMcpServer {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** Every HTTP request that reached the server: method, JSON-RPC method, auth header. */
  readonly seen: { method: string; rpc: string; auth: string | null }[];
  /** The tool calls the server executed. */
  readonly calls: string[];
  close(): Promise<void>;
}

async function rpcOf(req: Request): Promise<string> {
  if (req.method !== "POST") return "";
  try {
    const body = await req.clone().json();
    return Array.isArray(body) ? "batch" : String(body?.method ?? "response");
  } catch {
    return "invalid";
  }
}

function serve(
  handle: (req: Request) => Promise<Response>,
  listenPort = 0,
): { url: string; seen: HttpMcpServer["seen"]; stop(): Promise<void> } {
  const seen: HttpMcpServer["seen"] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: listenPort, onListen: () => {} },
    async (req) => {
      seen.push({
        method: req.method,
        rpc: await rpcOf(req),
        auth: req.headers.get("authorization"),
      });
      return await handle(req);
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    stop: () => server.shutdown(),
  };
}

/**
 * A v2 SDK server (2026-07-28, stateless legacy fallback) with tools `echo`
 * and `secret_op`.
 *
 * @param o `ttlMs` put on `tools/list`; a fixed `port` (default: any).
 */
export function startModernServer(
  o: { ttlMs?: number; port?: number } = {},
): HttpMcpServer {
  const calls: string[] = [];
  const handler = createMcpHandler(() => {
    const server = new McpServer(
      { name: "modern-remote", version: "2.0.0" },
      o.ttlMs === undefined
        ? {}
        : { cacheHints: { "tools/list": { ttlMs: o.ttlMs } } },
    );
    server.registerTool(
      "echo",
      { description: "Echoes", inputSchema: z.object({ text: z.string() }) },
      ({ text }) => {
        calls.push(`echo:${text}`);
        return { content: [{ type: "text", text: `echo: ${text}` }] };
      },
    );
    server.registerTool(
      "secret_op",
      { description: "Must be gated", inputSchema: z.object({}) },
      () => {
        calls.push("secret_op");
        return { content: [{ type: "text", text: "done" }] };
      },
    );
    return server;
  });
  const s = serve((req) => handler.fetch(req), o.port);
  return {
    url: s.url,
    seen: s.seen,
    calls,
    close: async () => {
      await handler.close?.();
      await s.stop();
    },
  };
}

/** A v1 SDK server over its web-standard Streamable HTTP transport (2025-11-25). */
export async function startLegacyServer(): Promise<HttpMcpServer> {
  const calls: string[] = [];
  const server = new LegacyMcpServer({
    name: "legacy-remote",
    version: "1.0.0",
  });
  server.registerTool(
    "echo",
    { description: "Echoes", inputSchema: { text: z.string() } },
    ({ text }) => {
      calls.push(`echo:${text}`);
      return { content: [{ type: "text", text: `echo: ${text}` }] };
    },
  );
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => crypto.randomUUID(),
  });
  await server.connect(transport);
  const s = serve((req) => transport.handleRequest(req));
  return {
    url: s.url,
    seen: s.seen,
    calls,
    close: async () => {
      await server.close();
      await s.stop();
    },
  };
}
