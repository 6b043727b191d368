/**
 * The tools of an MCP capsule as bus tools: one name per tool on
 * `tool.v1.execute.<name>`, the describe answer, and the result shape.
 *
 * A tool keeps its MCP name when it is a valid topic segment
 * (`[A-Za-z0-9_:-]`, ≤ 128); other characters (MCP allows `.` and `/`) become
 * `_`. When two servers of one capsule offer the same name, the first server
 * (manifest order) keeps it and the other is reachable as `<server>__<name>`.
 *
 * @module
 */
import type { JsonValue } from "../../../store/store.ts";
import type { InterceptorDef } from "../../manifest/manifest_types.ts";
import type { McpTool, McpToolResult } from "./client/mod.ts";
import { asObject } from "./_payload.ts";

/** One bus tool backed by an MCP tool. */
export interface IndexedTool {
  /** The name on the bus (`tool.v1.execute.<bus>`). */
  readonly bus: string;
  /** The server id. */
  readonly server: string;
  /** The tool as the server named it. */
  readonly tool: McpTool;
}

const SEGMENT = /^[A-Za-z0-9_:-]{1,128}$/;

/**
 * The bus name of an MCP tool name.
 *
 * @param name The MCP tool name.
 * @returns A valid topic segment, or `null` when nothing usable is left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { busToolName } from "./tool_index.ts";
 * assert.equal(busToolName("files.read/v2"), "files_read_v2");
 * assert.equal(busToolName("read_file"), "read_file");
 * ```
 */
export function busToolName(name: string): string | null {
  const mapped = name.replace(/[^A-Za-z0-9_:-]/g, "_").slice(0, 128);
  return SEGMENT.test(mapped) && /[A-Za-z0-9]/.test(mapped) ? mapped : null;
}

/**
 * Builds the bus index of the tools of every server (in manifest order).
 *
 * @param servers Server id and its tools, in manifest order.
 * @returns The index by bus name, and MCP names that could not be mapped.
 *
 * @example Two servers offering the same name
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexTools } from "./tool_index.ts";
 * const t = (name: string) => ({ name, inputSchema: { type: "object" } });
 * const { tools } = indexTools([["a", [t("read")]], ["b", [t("read")]]]);
 * assert.deepEqual([...tools.keys()], ["read", "b__read"]);
 * ```
 */
export function indexTools(
  servers: readonly (readonly [string, readonly McpTool[]])[],
): { tools: Map<string, IndexedTool>; skipped: string[] } {
  const tools = new Map<string, IndexedTool>();
  const skipped: string[] = [];
  for (const [server, list] of servers) {
    for (const tool of list) {
      const plain = busToolName(tool.name);
      const prefixed = busToolName(`${server}__${tool.name}`);
      const bus = plain !== null && !tools.has(plain)
        ? plain
        : prefixed !== null && !tools.has(prefixed)
        ? prefixed
        : null;
      if (bus === null) {
        skipped.push(`${server}:${tool.name}`);
        continue;
      }
      tools.set(bus, { bus, server, tool });
    }
  }
  return { tools, skipped };
}

/**
 * The interceptors an MCP capsule needs: one per tool, plus describe and cancel.
 *
 * @param tools The index.
 * @returns `[[interceptor]]`-shaped entries.
 */
export function toolInterceptors(
  tools: ReadonlyMap<string, IndexedTool>,
): InterceptorDef[] {
  return [
    {
      event: "tool.v1.request.describe",
      action: "tool_describe",
      priority: 100,
    },
    { event: "tool.v1.request.cancel", action: "tool_cancel", priority: 100 },
    ...[...tools.keys()].map((bus) => ({
      event: `tool.v1.execute.${bus}`,
      action: `tool_execute_${bus}`,
      priority: 100,
    })),
  ];
}

/**
 * The answer to `tool.v1.request.describe`.
 *
 * @param tools The index.
 * @param description The capsule's description.
 * @returns `{tools: [{name, description, input_schema}], description}`.
 */
export function describeTools(
  tools: ReadonlyMap<string, IndexedTool>,
  description: string,
): JsonValue {
  return {
    tools: [...tools.values()].map(({ bus, server, tool }) => ({
      name: bus,
      description: tool.description ?? tool.title ?? `${server}:${tool.name}`,
      input_schema: withProperties(tool.inputSchema),
      mcp: { server, tool: tool.name },
    })),
    description,
  };
}

function withProperties(schema: JsonValue): JsonValue {
  const o = asObject(schema);
  if (o) return "properties" in o ? o : { ...o, properties: {} };
  return { type: "object", properties: {} };
}

/**
 * The text a model sees for an MCP tool result: text blocks joined, other
 * blocks as compact JSON.
 *
 * @param result The MCP result.
 * @returns One string.
 */
export function resultText(result: McpToolResult): string {
  return result.content.map((c) => {
    const o = asObject(c);
    return o?.type === "text" && typeof o.text === "string"
      ? o.text
      : JSON.stringify(c);
  }).join("\n");
}

/**
 * The `tool_execute_result` published on `tool.v1.execute.<name>.result`.
 *
 * @param callId The request's call id.
 * @param result The MCP result, or an error message.
 * @returns `{call_id, result: {call_id, content, is_error, …}}`.
 */
export function executeResult(
  callId: string,
  result: McpToolResult | { error: string },
): JsonValue {
  if ("error" in result) {
    return {
      call_id: callId,
      result: { call_id: callId, content: result.error, is_error: true },
    };
  }
  return {
    call_id: callId,
    result: {
      call_id: callId,
      content: resultText(result),
      is_error: result.isError,
      mcp_content: result.content,
      ...(result.structuredContent === undefined
        ? {}
        : { structured_content: result.structuredContent }),
    },
  };
}
