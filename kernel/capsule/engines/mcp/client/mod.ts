/**
 * The MCP client adapter of the `mcp` engine: {@linkcode connectMcpClient}
 * opens an MCP session over a server's stdio
 * ({@linkcode createStdioTransport}) or over Streamable HTTP
 * ({@linkcode McpHttpEndpoint}: every HTTP request through the caller's
 * fetch), negotiating protocol 2026-07-28 (`server/discover`) or falling
 * back to 2025-11-25 (`initialize`), and returns a
 * {@linkcode McpClientSession} (tools, resources, prompts, logging, ping),
 * answering the server's roots, elicitation and sampling requests (server
 * requests on 2025-11-25, `input_required` results on 2026-07-28) through
 * {@linkcode McpClientHandlers}. Only this folder imports the MCP client SDK
 * (`@modelcontextprotocol/client`, v2); its public types are the kernel's
 * own.
 *
 * Security model: the server is an untrusted process. Lines from its stdout
 * are parsed only when complete and bounded in length; malformed lines are
 * skipped and reported, never fatal. Results are checked against our types
 * and bounded (lists: at most 10 000 items over at most 1 000 pages);
 * malformed items are skipped with a `warning` log entry. Every request has a
 * timeout (`CAPSULE_TIMEOUT`) and honours cancellation (`ABORTED`, with
 * `notifications/cancelled` sent to the server). The client advertises only
 * the capabilities it has handlers for, and a failing handler tells the
 * server only an error code. Error messages never include stack traces.
 *
 * @example Call a tool of an in-process server
 * ```ts
 * import assert from "node:assert/strict";
 * // @ts-types="@modelcontextprotocol/sdk/server/mcp"
 * import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
 * import { connectMcpClient, createStdioTransport } from "./mod.ts";
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.registerTool("hi", { inputSchema: {} }, () => ({ content: [{ type: "text", text: "hello" }] }));
 * await server.connect(createStdioTransport({ stdin: down.writable, stdout: up.readable }));
 * const session = await connectMcpClient({ stdin: up.writable, stdout: down.readable });
 * assert.deepEqual((await session.listTools()).map((t) => t.name), ["hi"]);
 * await session.close();
 * await server.close();
 * ```
 *
 * @module
 */
export { connectMcpClient } from "./mcp_client.ts";
export type {
  JsonValue,
  McpCallOptions,
  McpClientHandlers,
  McpClientOptions,
  McpClientSession,
  McpElicitRequest,
  McpElicitResult,
  McpHttpEndpoint,
  McpListOptions,
  McpLogEntry,
  McpProgress,
  McpPrompt,
  McpResource,
  McpResourceTemplate,
  McpRoot,
  McpSamplingRequest,
  McpSamplingResult,
  McpStdio,
  McpTool,
  McpToolResult,
} from "./mcp_types.ts";
export { createStdioTransport } from "./stdio_transport.ts";
export type {
  JsonRpcMessage,
  McpTransport,
  StdioTransportOptions,
} from "./stdio_transport.ts";
