/**
 * SEP-2243 (2026-07-28, Streamable HTTP): tool parameters a tool marks with
 * `x-mcp-header` are mirrored into `Mcp-Param-*` request headers, and a tool
 * whose declarations break the rules (empty, non-primitive, duplicate,
 * invalid characters) must not be offered at all. Both are the SDK's own
 * code (`Client.callTool()` with `toolDefinition`, and the exclusion
 * `Client.listTools()` applies to each page), used here on the adapter's
 * own bounded list walk; the SDK applies them only on a modern, non-stdio
 * connection.
 *
 * @module
 */
import type { Client, Tool } from "@modelcontextprotocol/client";
import type { RawResult } from "./_result_parsers.ts";

// The SDK's per-page exclusion (`Client.listTools()` runs it on every page
// it returns); not part of its typed surface, so reached by name — pinned
// to @modelcontextprotocol/client 2.4.0 and covered by the conformance test.
interface PageExcluder {
  _excludeInvalidXMcpHeaderTools?(page: { tools: unknown[] }): void;
}

/**
 * Drops the tools with invalid `x-mcp-header` declarations from one
 * `tools/list` page (a no-op on 2025 connections and over stdio).
 *
 * @param client The connected SDK client.
 * @param page The page as received.
 * @returns The page, or a copy without the excluded tools.
 */
export function excludeInvalidHeaderTools(
  client: Client,
  page: RawResult,
): RawResult {
  const tools = page.tools;
  const exclude = (client as unknown as PageExcluder)
    ._excludeInvalidXMcpHeaderTools;
  if (!Array.isArray(tools) || typeof exclude !== "function") return page;
  const copy = { tools: tools.filter(declaresHeaders) };
  if (copy.tools.length === 0) return page;
  exclude.call(client, copy);
  const kept = new Set(copy.tools);
  return {
    ...page,
    tools: tools.filter((t) => !declaresHeaders(t) || kept.has(t)),
  };
}

/**
 * Whether a tool definition (as received) declares `x-mcp-header` anywhere
 * in its input schema.
 *
 * @param tool A `tools/list` item.
 * @returns `true` when it does.
 */
export function declaresHeaders(tool: unknown): boolean {
  if (typeof tool !== "object" || tool === null) return false;
  const schema = (tool as { inputSchema?: unknown }).inputSchema;
  return typeof schema === "object" && schema !== null &&
    JSON.stringify(schema).includes('"x-mcp-header"');
}

/** A tool definition as the SDK's `callTool()` takes it. */
export type ToolDefinition = Tool;
