/**
 * Wires {@linkcode McpClientHandlers} into an SDK `Client`: the capabilities
 * the client advertises, the answers to server requests (`roots/list`,
 * `elicitation/create`, `sampling/createMessage`) and the receivers of
 * server notifications (log messages, list changes).
 *
 * Security model: a capability is advertised only when its handler exists,
 * so a server cannot ask for what the kernel did not offer (the SDK refuses
 * such requests). When a handler fails, the server learns only the error
 * code, never the kernel's message (which may name host paths): a denial
 * (`APPROVAL_DENIED`) becomes JSON-RPC error -1 ("user rejected"), anything
 * else an internal error. On a 2026-07-28 connection the SDK routes a
 * server's `input_required` result (its way to ask for elicitation,
 * sampling or roots) through these same handlers.
 *
 * @module
 */
import {
  type Client,
  type ClientCapabilities,
  type CreateMessageResult,
  type ElicitResult,
  ProtocolError,
  ProtocolErrorCode,
} from "@modelcontextprotocol/client";
import { KernelError } from "../../../../core/errors.ts";
import type {
  JsonValue,
  McpClientHandlers,
  McpElicitRequest,
  McpLogEntry,
  McpSamplingRequest,
} from "./mcp_types.ts";

/** JSON-RPC error code MCP uses for "the user rejected the request". */
const USER_REJECTED = -1;

/**
 * The capabilities to advertise for the given handlers.
 *
 * @param handlers The client's handlers.
 * @returns Roots, elicitation and sampling entries for the handlers present.
 */
export function clientCapabilities(
  handlers: McpClientHandlers,
): ClientCapabilities {
  const caps: ClientCapabilities = {};
  if (handlers.roots) caps.roots = { listChanged: true };
  if (handlers.elicit) caps.elicitation = { form: {}, url: {} };
  if (handlers.sample) caps.sampling = {};
  return caps;
}

// Values the SDK has parsed from JSON text are JSON values.
function json(value: unknown): JsonValue {
  return value as JsonValue;
}

async function answer<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = KernelError.is(err) ? err.code : "INTERNAL";
    throw new ProtocolError(
      code === "APPROVAL_DENIED"
        ? USER_REJECTED
        : ProtocolErrorCode.InternalError,
      `The client could not answer ${what} (${code})`,
    );
  }
}

/**
 * SEP-1034: an accepted form gets the schema's `default` for every field
 * the answer omits (the requested schema is flat: primitive properties).
 *
 * @param schema The form's requested schema.
 * @param content The answer.
 * @returns The answer with the defaults of omitted fields.
 *
 * @example Fill an omitted field
 * ```ts
 * import assert from "node:assert/strict";
 * import { withDefaults } from "./_client_handlers.ts";
 * const schema = { type: "object", properties: { n: { type: "number", default: 3 }, s: { type: "string" } } };
 * assert.deepEqual(withDefaults(schema, { s: "x" }), { s: "x", n: 3 });
 * ```
 */
export function withDefaults(
  schema: unknown,
  content: Record<string, JsonValue>,
): Record<string, JsonValue> {
  const props = (schema as { properties?: unknown } | null)?.properties;
  if (typeof props !== "object" || props === null) return content;
  const out = { ...content };
  for (const [key, prop] of Object.entries(props)) {
    const d = (prop as { default?: unknown } | null)?.default;
    if (out[key] === undefined && d !== undefined) out[key] = json(d);
  }
  return out;
}

/**
 * Installs request and notification handlers on `client` (before connecting).
 *
 * @param client The SDK client.
 * @param handlers The kernel's handlers.
 * @param report Receives log records (server log messages).
 * @param changed Told of every list change (drops the session's cached list).
 */
export function installHandlers(
  client: Client,
  handlers: McpClientHandlers,
  report: (entry: McpLogEntry) => void,
  changed: (kind: "tools" | "resources" | "prompts") => void = () => {},
): void {
  const { roots, elicit, sample, listChanged } = handlers;
  if (roots) {
    client.setRequestHandler(
      "roots/list",
      () =>
        answer("roots/list", async () => ({
          roots: (await roots()).map((r) =>
            r.name === undefined ? { uri: r.uri } : { uri: r.uri, name: r.name }
          ),
        })),
    );
  }
  if (elicit) {
    client.setRequestHandler("elicitation/create", (req, ctx) => {
      const p = req.params;
      const request: McpElicitRequest = p.mode === "url"
        ? {
          mode: "url",
          message: p.message,
          url: p.url,
          elicitationId: p.elicitationId,
        }
        : {
          mode: "form",
          message: p.message,
          requestedSchema: json(p.requestedSchema),
        };
      return answer("elicitation/create", async () => {
        const r = await elicit(request, { signal: ctx.mcpReq.signal });
        const content = r.action === "accept" && p.mode !== "url"
          ? withDefaults(p.requestedSchema, r.content ?? {})
          : r.content;
        // The SDK checks the result against its schema before sending it.
        return (content === undefined
          ? { action: r.action }
          : { action: r.action, content }) as ElicitResult;
      });
    });
  }
  if (sample) {
    client.setRequestHandler("sampling/createMessage", (req, ctx) => {
      const p = req.params;
      const request: McpSamplingRequest = {
        messages: p.messages.map((m) => ({
          role: m.role,
          content: json(m.content),
        })),
        maxTokens: p.maxTokens,
      };
      if (p.systemPrompt !== undefined) request.systemPrompt = p.systemPrompt;
      if (p.temperature !== undefined) request.temperature = p.temperature;
      if (p.stopSequences !== undefined) {
        request.stopSequences = [...p.stopSequences];
      }
      if (p.modelPreferences !== undefined) {
        request.modelPreferences = json(p.modelPreferences);
      }
      if (p.includeContext !== undefined) {
        request.includeContext = p.includeContext;
      }
      return answer("sampling/createMessage", async () => {
        const r = await sample(request, { signal: ctx.mcpReq.signal });
        // The SDK checks the result against its schema before sending it.
        return {
          role: r.role,
          content: r.content,
          model: r.model,
          ...(r.stopReason === undefined ? {} : { stopReason: r.stopReason }),
        } as CreateMessageResult;
      });
    });
  }
  client.setNotificationHandler("notifications/message", (n) => {
    const entry: McpLogEntry = {
      level: n.params.level,
      data: json(n.params.data),
    };
    if (n.params.logger !== undefined) entry.logger = n.params.logger;
    report(entry);
  });
  {
    const kinds = [
      ["tools", "notifications/tools/list_changed"],
      ["resources", "notifications/resources/list_changed"],
      ["prompts", "notifications/prompts/list_changed"],
    ] as const;
    for (const [kind, method] of kinds) {
      client.setNotificationHandler(method, () => {
        changed(kind);
        listChanged?.(kind);
      });
    }
  }
}
