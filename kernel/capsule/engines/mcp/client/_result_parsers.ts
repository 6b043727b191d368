/**
 * Checks what an MCP server sends back against the adapter's types and
 * bounds it. Item parsers return the item or, for an item to skip, a string
 * saying why; result parsers throw `CAPSULE_FAILED` when the result as a
 * whole is unusable.
 *
 * @module
 */
import { KernelError } from "../../../../core/errors.ts";
import type {
  JsonValue,
  McpPrompt,
  McpResource,
  McpResourceTemplate,
  McpTool,
  McpToolResult,
} from "./mcp_types.ts";

/** The most items a list result or content array may hold. */
export const MAX_ITEMS = 10_000;

/** A result object as it came off the wire. */
export type RawResult = Readonly<Record<string, unknown>>;

/** Parses one list item: the item, or why it is skipped. */
export type ItemParser<T> = (raw: unknown) => T | string;

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Values the SDK has parsed from JSON text are JSON values.
function json(value: unknown): JsonValue {
  return value as JsonValue;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function copyStrings<K extends string>(
  from: Readonly<Record<string, unknown>>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = from[k];
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

function failed(what: string, why: string): KernelError {
  return new KernelError(
    "CAPSULE_FAILED",
    `MCP ${what} failed: the server's result ${why}`,
    { data: { method: what } },
  );
}

/**
 * Parses a `tools/list` item.
 *
 * @param raw The item as received.
 * @returns The tool, or why it is skipped (no string name, no object
 *   `inputSchema`).
 *
 * @example Skip a tool without a name
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTool } from "./_result_parsers.ts";
 * assert.deepEqual(parseTool({ name: "x", inputSchema: { type: "object" } }), {
 *   name: "x",
 *   inputSchema: { type: "object" },
 * });
 * assert.equal(typeof parseTool({ inputSchema: {} }), "string");
 * ```
 */
export function parseTool(raw: unknown): McpTool | string {
  if (!isObject(raw) || !nonEmpty(raw.name)) {
    return "a tool has no string name";
  }
  if (!isObject(raw.inputSchema)) {
    return `tool '${raw.name.slice(0, 64)}' has no object inputSchema`;
  }
  const tool: McpTool = {
    name: raw.name,
    ...copyStrings(raw, ["title", "description"] as const),
    inputSchema: json(raw.inputSchema),
  };
  if (isObject(raw.outputSchema)) tool.outputSchema = json(raw.outputSchema);
  if (isObject(raw.annotations)) tool.annotations = json(raw.annotations);
  return tool;
}

/**
 * Parses a `resources/list` item.
 *
 * @param raw The item as received.
 * @returns The resource, or why it is skipped (no string `uri` and `name`).
 *
 * @example Keep the known fields
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResource } from "./_result_parsers.ts";
 * assert.deepEqual(parseResource({ uri: "a://b", name: "b", size: 3 }), { uri: "a://b", name: "b" });
 * ```
 */
export function parseResource(raw: unknown): McpResource | string {
  if (!isObject(raw) || !nonEmpty(raw.uri) || typeof raw.name !== "string") {
    return "a resource has no string uri and name";
  }
  return {
    uri: raw.uri,
    name: raw.name,
    ...copyStrings(raw, ["title", "description", "mimeType"] as const),
  };
}

/**
 * Parses a `resources/templates/list` item.
 *
 * @param raw The item as received.
 * @returns The template, or why it is skipped (no string `uriTemplate` and
 *   `name`).
 *
 * @example Skip a template without a URI template
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResourceTemplate } from "./_result_parsers.ts";
 * assert.equal(typeof parseResourceTemplate({ name: "t" }), "string");
 * ```
 */
export function parseResourceTemplate(
  raw: unknown,
): McpResourceTemplate | string {
  if (
    !isObject(raw) || !nonEmpty(raw.uriTemplate) ||
    typeof raw.name !== "string"
  ) {
    return "a resource template has no string uriTemplate and name";
  }
  return {
    uriTemplate: raw.uriTemplate,
    name: raw.name,
    ...copyStrings(raw, ["description", "mimeType"] as const),
  };
}

/**
 * Parses a `prompts/list` item.
 *
 * @param raw The item as received.
 * @returns The prompt, or why it is skipped (no string name).
 *
 * @example Keep object arguments only
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrompt } from "./_result_parsers.ts";
 * assert.deepEqual(parsePrompt({ name: "p", arguments: [{ name: "a" }, 7] }), {
 *   name: "p",
 *   arguments: [{ name: "a" }],
 * });
 * ```
 */
export function parsePrompt(raw: unknown): McpPrompt | string {
  if (!isObject(raw) || !nonEmpty(raw.name)) {
    return "a prompt has no string name";
  }
  const prompt: McpPrompt = {
    name: raw.name,
    ...copyStrings(raw, ["title", "description"] as const),
  };
  if (Array.isArray(raw.arguments)) {
    prompt.arguments = raw.arguments.filter(isObject).slice(0, 1000).map(json);
  }
  return prompt;
}

/**
 * Takes the objects of an array field, bounded to {@linkcode MAX_ITEMS}.
 *
 * @param result The result object.
 * @param key The array field.
 * @param what The request, for messages.
 * @param warn Receives a note about skipped or cut items.
 * @param required Whether a missing field is an error (else `[]`).
 * @returns The field's objects.
 * @throws {KernelError} `CAPSULE_FAILED` when the field is not an array (or
 *   missing while required).
 *
 * @example Drop non-objects with a warning
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectArray } from "./_result_parsers.ts";
 * const notes: string[] = [];
 * const items = objectArray({ contents: [{ uri: "a://b" }, "x"] }, "contents", "resources/read", (m) => notes.push(m));
 * assert.deepEqual(items, [{ uri: "a://b" }]);
 * assert.equal(notes.length, 1);
 * ```
 */
export function objectArray(
  result: RawResult,
  key: string,
  what: string,
  warn: (message: string) => void,
  required = true,
): JsonValue[] {
  const items = result[key];
  if (items === undefined && !required) return [];
  if (!Array.isArray(items)) throw failed(what, `has no '${key}' array`);
  const objects = items.filter(isObject);
  if (objects.length < items.length) {
    warn(
      `Skipped ${
        items.length - objects.length
      } non-object '${key}' items of MCP ${what}`,
    );
  }
  if (objects.length > MAX_ITEMS) {
    warn(
      `Kept the first ${MAX_ITEMS} of ${objects.length} '${key}' items of MCP ${what}`,
    );
  }
  return objects.slice(0, MAX_ITEMS).map(json);
}

/**
 * Parses a `tools/call` result. Missing `content` counts as empty;
 * `isError` defaults to `false`.
 *
 * @param result The result object.
 * @param what The request, for messages.
 * @param warn Receives notes about dropped parts.
 * @returns The tool result.
 * @throws {KernelError} `CAPSULE_FAILED` when `content` is not an array.
 *
 * @example A tool error is a result
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseToolResult } from "./_result_parsers.ts";
 * const r = parseToolResult({ content: [{ type: "text", text: "no" }], isError: true }, "tools/call 'x'", () => {});
 * assert.deepEqual(r, { content: [{ type: "text", text: "no" }], isError: true });
 * ```
 */
export function parseToolResult(
  result: RawResult,
  what: string,
  warn: (message: string) => void,
): McpToolResult {
  const out: McpToolResult = {
    content: objectArray(result, "content", what, warn, false),
    isError: result.isError === true,
  };
  if (isObject(result.structuredContent)) {
    out.structuredContent = json(result.structuredContent);
  } else if (result.structuredContent !== undefined) {
    warn(`Dropped a non-object structuredContent of MCP ${what}`);
  }
  return out;
}

/**
 * Parses a `prompts/get` result.
 *
 * @param result The result object.
 * @param what The request, for messages.
 * @param warn Receives notes about dropped parts.
 * @returns The description and messages.
 * @throws {KernelError} `CAPSULE_FAILED` when `messages` is not an array.
 *
 * @example Reject a result without messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePromptResult } from "./_result_parsers.ts";
 * assert.throws(() => parsePromptResult({}, "prompts/get 'p'", () => {}), { code: "CAPSULE_FAILED" });
 * ```
 */
export function parsePromptResult(
  result: RawResult,
  what: string,
  warn: (message: string) => void,
): { description?: string; messages: JsonValue[] } {
  return {
    ...copyStrings(result, ["description"] as const),
    messages: objectArray(result, "messages", what, warn),
  };
}
