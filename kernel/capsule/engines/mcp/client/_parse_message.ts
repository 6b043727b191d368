/**
 * One line from an MCP server to one JSON-RPC message.
 *
 * Security model: the line is untrusted. It is accepted only as a message
 * the SDK's `JSONRPCMessageSchema` accepts, with the value that schema
 * returns. The one shortcut is the commonest message, a plain result
 * response (exactly `jsonrpc: "2.0"`, a string or safe-integer `id` and an
 * object `result` without `_meta`): for it the schema returns an equal value
 * (it only checks those fields and `result._meta`), the SDK checks it again
 * with the same schema before dispatching it, and the adapter's parsers check
 * the result's fields — so it is taken as `JSON.parse` made it. (The schema,
 * a union of four strict objects with shared parsers, costs more per message
 * in a busy process than the rest of the response path.) Everything else
 * goes through the schema.
 *
 * @module
 */
import {
  type JSONRPCMessage,
  parseJSONRPCMessage,
} from "@modelcontextprotocol/client";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Exactly `{jsonrpc: "2.0", id, result}` with a plain result (see module doc). */
function isPlainResultResponse(value: Record<string, unknown>): boolean {
  let keys = 0;
  for (const _ in value) keys++;
  if (keys !== 3 || value.jsonrpc !== "2.0") return false;
  const id = value.id;
  if (typeof id !== "string" && !Number.isSafeInteger(id)) return false;
  const result = value.result;
  return isPlainObject(result) && !Object.hasOwn(result, "_meta");
}

/**
 * Parses one line as a JSON-RPC message, as the SDK's `deserializeMessage`
 * does (same acceptance, same value; see the module doc for its shortcut).
 *
 * @param line One line, without its line break.
 * @returns The message.
 * @throws {SyntaxError} When the line is not JSON.
 * @throws {Error} When it is not a JSON-RPC 2.0 message (the SDK's schema
 *   error).
 *
 * @example A result response and a notification
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMessage } from "./_parse_message.ts";
 * assert.deepEqual(parseMessage('{"jsonrpc":"2.0","id":1,"result":{}}'), {
 *   jsonrpc: "2.0",
 *   id: 1,
 *   result: {},
 * });
 * assert.throws(() => parseMessage('{"jsonrpc":"2.0","id":1.5,"result":{}}'));
 * ```
 */
export function parseMessage(line: string): JSONRPCMessage {
  const value: unknown = JSON.parse(line);
  if (isPlainObject(value) && isPlainResultResponse(value)) {
    return value as unknown as JSONRPCMessage;
  }
  return parseJSONRPCMessage(value);
}
