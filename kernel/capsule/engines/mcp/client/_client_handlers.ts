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
 * else an internal error.
 *
 * @module
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
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

/** An error the SDK sends as `{ code, message }` verbatim. */
class AnswerError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

async function answer<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = KernelError.is(err) ? err.code : "INTERNAL";
    throw new AnswerError(
      code === "APPROVAL_DENIED" ? USER_REJECTED : ErrorCode.InternalError,
      `The client could not answer ${what} (${code})`,
    );
  }
}

/**
 * Installs request and notification handlers on `client` (before connecting).
 *
 * @param client The SDK client.
 * @param handlers The kernel's handlers.
 * @param report Receives log records (server log messages).
 */
export function installHandlers(
  client: Client,
  handlers: McpClientHandlers,
  report: (entry: McpLogEntry) => void,
): void {
  const { roots, elicit, sample, listChanged } = handlers;
  if (roots) {
    client.setRequestHandler(
      ListRootsRequestSchema,
      () =>
        answer("roots/list", async () => ({
          roots: (await roots()).map((r) =>
            r.name === undefined ? { uri: r.uri } : { uri: r.uri, name: r.name }
          ),
        })),
    );
  }
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, (req, extra) => {
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
        const r = await elicit(request, { signal: extra.signal });
        return r.content === undefined
          ? { action: r.action }
          : { action: r.action, content: r.content };
      });
    });
  }
  if (sample) {
    client.setRequestHandler(CreateMessageRequestSchema, (req, extra) => {
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
        const r = await sample(request, { signal: extra.signal });
        return {
          role: r.role,
          content: r.content,
          model: r.model,
          ...(r.stopReason === undefined ? {} : { stopReason: r.stopReason }),
        };
      });
    });
  }
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    const entry: McpLogEntry = {
      level: n.params.level,
      data: json(n.params.data),
    };
    if (n.params.logger !== undefined) entry.logger = n.params.logger;
    report(entry);
  });
  if (listChanged) {
    const kinds = [
      ["tools", ToolListChangedNotificationSchema],
      ["resources", ResourceListChangedNotificationSchema],
      ["prompts", PromptListChangedNotificationSchema],
    ] as const;
    for (const [kind, schema] of kinds) {
      client.setNotificationHandler(schema, () => listChanged(kind));
    }
  }
}
