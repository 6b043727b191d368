/**
 * The MCP client adapter: {@linkcode connectMcpClient} speaks MCP (through
 * `@modelcontextprotocol/client`, SDK v2) to a server over its stdio or over
 * Streamable HTTP and returns a {@linkcode McpClientSession} whose types are
 * the kernel's own, so that a later protocol revision can replace the SDK
 * here without touching the engine.
 *
 * Protocol versions: the client probes with `server/discover` (2026-07-28,
 * stateless) and falls back to the `initialize` handshake (2025-11-25 and
 * older) when the server gives no modern answer: a JSON-RPC error, an
 * unusable reply, or on stdio silence for `probeTimeoutMs`. The negotiated
 * revision is `session.protocolVersion`.
 *
 * Security model: the server is untrusted. Everything it returns is checked
 * against our types and bounded (lists follow at most 1 000 cursors and
 * keep at most 10 000 items; malformed items are skipped and reported
 * through `handlers.log` at level `warning`); every request has a timeout;
 * errors carry a short reason, never a stack. The client advertises only the
 * capabilities it has handlers for. Over HTTP every request goes through the
 * caller's `fetch` (which gates, checks and pins it); the SDK's redirect
 * following is off, so a redirect is an error, never a second destination.
 *
 * @module
 */
import {
  Client,
  type JsonSchemaValidator,
  type jsonSchemaValidator,
  type RequestOptions,
  StreamableHTTPClientTransport,
  type Transport,
} from "@modelcontextprotocol/client";
import { throwIfAborted } from "../../../../core/abort.ts";
import { VERSION } from "../../../../../version.ts";
import { clientCapabilities, installHandlers } from "./_client_handlers.ts";
import { requestError, shortReason } from "./_request_errors.ts";
import { linkSignal, Session } from "./_session.ts";
import { createStdioTransport } from "./stdio_transport.ts";
import type {
  McpClientOptions,
  McpClientSession,
  McpHttpEndpoint,
  McpLogEntry,
  McpStdio,
} from "./mcp_types.ts";

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
// The SDK's JSON Schema validator only serves `Client.callTool()`, which the
// adapter does not use; skipping it avoids building an Ajv instance per client.
const NO_SCHEMA_VALIDATOR: jsonSchemaValidator = {
  getValidator<T>(): JsonSchemaValidator<T> {
    return (input) => ({
      valid: true,
      data: input as T,
      errorMessage: undefined,
    });
  },
};

function httpTransport(endpoint: McpHttpEndpoint): Transport {
  const url = new URL(endpoint.url.href);
  return new StreamableHTTPClientTransport(url, {
    fetch: (target, init) =>
      endpoint.fetch(
        new URL(typeof target === "string" ? target : target.href),
        init ?? {},
      ),
    // A redirect goes back to the caller's fetch, which refuses another
    // origin; never followed by the runtime's fetch.
    redirectPolicy: "same-origin",
  }) as Transport;
}

/**
 * Connects to an MCP server over its stdio or over Streamable HTTP:
 * probes with `server/discover` (2026-07-28) and falls back to
 * `initialize` (2025-11-25, older revisions accepted).
 *
 * @param io The server's piped stdin and stdout, or its HTTP endpoint.
 * @param options Client name/version, handlers, default timeout, signal.
 * @returns The initialised session.
 * @throws {KernelError} `ABORTED` when `signal` fires first,
 *   `CAPSULE_TIMEOUT` when `initialize` gets no answer in time,
 *   `CAPSULE_FAILED` when the server closes, answers with an error or an
 *   unsupported protocol version. The transport is closed in every case.
 * @throws {RangeError} When `requestTimeoutMs` is not a positive integer.
 *
 * @example Talk to an in-process server
 * ```ts
 * import assert from "node:assert/strict";
 * // @ts-types="@modelcontextprotocol/sdk/server/mcp"
 * import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
 * import { connectMcpClient } from "./mcp_client.ts";
 * import { createStdioTransport } from "./stdio_transport.ts";
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.registerTool("hi", { inputSchema: {} }, () => ({ content: [{ type: "text", text: "hello" }] }));
 * await server.connect(createStdioTransport({ stdin: down.writable, stdout: up.readable }));
 * const session = await connectMcpClient({ stdin: up.writable, stdout: down.readable });
 * assert.equal(session.server.name, "demo");
 * const result = await session.callTool("hi", {});
 * assert.deepEqual(result, { content: [{ type: "text", text: "hello" }], isError: false });
 * await session.close();
 * await server.close();
 * ```
 */
export async function connectMcpClient(
  io: McpStdio | McpHttpEndpoint,
  options: McpClientOptions = {},
): Promise<McpClientSession> {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError("requestTimeoutMs must be a positive integer");
  }
  const probeTimeoutMs = options.probeTimeoutMs ??
    Math.min(DEFAULT_PROBE_TIMEOUT_MS, timeoutMs);
  if (!Number.isSafeInteger(probeTimeoutMs) || probeTimeoutMs <= 0) {
    throw new RangeError("probeTimeoutMs must be a positive integer");
  }
  throwIfAborted(options.signal, "connecting to the MCP server");
  const handlers = options.handlers ?? {};
  const report = (entry: McpLogEntry): void => {
    try {
      handlers.log?.(entry);
    } catch {
      // silent-ok: a failing log handler has nowhere else to report to.
    }
  };
  const warn = (message: string): void =>
    report({ level: "warning", logger: "mcp-client", data: message });
  const client = new Client(
    {
      name: options.clientName ?? "astrid",
      version: options.clientVersion ?? VERSION,
    },
    {
      capabilities: clientCapabilities(handlers),
      jsonSchemaValidator: NO_SCHEMA_VALIDATOR,
      versionNegotiation: {
        mode: "auto",
        probe: { timeoutMs: "url" in io ? timeoutMs : probeTimeoutMs },
      },
    },
  );
  let session: Session | null = null;
  installHandlers(client, handlers, report, (kind) => session?.forget(kind));
  const closed = new Promise<void>((resolve) => {
    client.onclose = resolve;
  });
  client.onerror = (err) => warn(shortReason(err.message));
  const stdio = "url" in io ? null : createStdioTransport(io);
  const transport: Transport = stdio ?? httpTransport(io as McpHttpEndpoint);
  const connectOptions: RequestOptions = { timeout: timeoutMs };
  const link = linkSignal(options.signal);
  if (link) connectOptions.signal = link.signal;
  try {
    await client.connect(transport, connectOptions);
  } catch (err) {
    await transport.close();
    throw requestError(err, "initialize", {
      aborted: options.signal?.aborted === true,
      timeoutMs,
    });
  } finally {
    link?.unlink();
  }
  session = new Session(client, {
    transportVersion: stdio?.protocolVersion,
    closed,
    timeoutMs,
    warn,
    hasRoots: handlers.roots !== undefined,
  });
  return session;
}
