/**
 * What the kernel answers when an MCP server asks the client something:
 * roots (the session's workspace), elicitation (the human, through the
 * frontend), sampling (the active LLM provider), and where its log messages
 * go (the capsule log).
 *
 * Security model: elicitation and sampling are gated actions
 * (`mcp_elicitation`, `mcp_sampling`) run through `Gate.run`, so they are
 * checked against the manifest and policy, budgeted (sampling), approved
 * when the mode asks, and audited with their outcome. URL elicitations show
 * the target host. Without a frontend the server's question is declined;
 * without a provider sampling fails. Nothing the server sends reaches a
 * handler unbounded: messages are cut, `max_tokens` is checked by the gate.
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { Logger, LogLevel } from "../../../core/ports.ts";
import { asObject } from "./_payload.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { Gate } from "../../../security/gate.ts";
import type { GateContext } from "../../../security/context.ts";
import type {
  McpClientHandlers,
  McpElicitRequest,
  McpElicitResult,
  McpSamplingRequest,
  McpSamplingResult,
} from "./client/mod.ts";

/** A frontend that shows an MCP server's question to the human. */
export interface McpElicitPort {
  /**
   * Asks the human. URL mode: `host` is the target host to show.
   * @returns The human's answer.
   */
  elicit(
    request: McpElicitRequest & {
      readonly capsule: string;
      readonly server: string;
      readonly host?: string;
    },
    options: { signal: AbortSignal },
  ): Promise<McpElicitResult>;
}

/** The active LLM provider, as seen by MCP sampling. */
export interface McpSamplingPort {
  /**
   * Generates one assistant message.
   * @returns The message and the model that produced it.
   */
  sample(
    request: McpSamplingRequest & { readonly capsule: string },
    options: { signal: AbortSignal },
  ): Promise<McpSamplingResult>;
}

/** Options of {@linkcode clientHandlers}. */
export interface ClientHandlerOptions {
  readonly gate: Pick<Gate, "run">;
  /** A fresh gate context per request. */
  ctx(): GateContext;
  readonly capsule: string;
  readonly server: string;
  /** The session's workspace root (the only root). */
  readonly workspace: string;
  /** The capsule/server logger. */
  readonly logger: Logger;
  readonly elicit?: McpElicitPort;
  readonly sampling?: McpSamplingPort;
  /** Called when the server says a list changed. */
  listChanged?(kind: "tools" | "resources" | "prompts"): void;
}

const MCP_LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: "debug",
  info: "info",
  notice: "info",
  warning: "warn",
  error: "error",
  critical: "error",
  alert: "error",
  emergency: "error",
};

function promptChars(req: McpSamplingRequest): number {
  let n = req.systemPrompt?.length ?? 0;
  for (const m of req.messages) n += JSON.stringify(m.content).length;
  return n;
}

function urlHost(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined; // silent-ok: the gate refuses an unparseable url
  }
}

/**
 * Builds the client handlers of one server.
 *
 * @param options Gate, context, ports.
 * @returns Handlers for `connectMcpClient()`.
 * @throws {KernelError} (from `sample`) the gate's refusal codes;
 *   `CAPSULE_NOT_FOUND` when no provider is active.
 */
export function clientHandlers(
  options: ClientHandlerOptions,
): McpClientHandlers {
  const { gate, capsule, server, logger } = options;
  return {
    roots: () =>
      Promise.resolve([{
        uri: new URL(`file://${options.workspace}`).href,
        name: "workspace",
      }]),
    log(entry) {
      const message = typeof entry.data === "string"
        ? entry.data
        : JSON.stringify(entry.data);
      logger.log(
        MCP_LEVELS[entry.level] ?? "info",
        message.slice(0, 4096),
        { mcp_logger: entry.logger ?? null, source: "mcp" },
      );
    },
    async elicit(req, { signal }): Promise<McpElicitResult> {
      const host = req.mode === "url" ? urlHost(req.url) : undefined;
      return await gate.run(
        {
          type: "mcp_elicitation",
          server,
          mode: req.mode,
          message: req.message,
          ...(req.mode === "url" ? { url: req.url } : {}),
        },
        options.ctx(),
        {
          signal,
          effect: async () => {
            if (!options.elicit) return { action: "decline" as const };
            return await options.elicit.elicit({
              ...req,
              capsule,
              server,
              ...(host === undefined ? {} : { host }),
            }, { signal });
          },
        },
      );
    },
    async sample(req, { signal }): Promise<McpSamplingResult> {
      const model = modelHint(req.modelPreferences);
      return await gate.run(
        {
          type: "mcp_sampling",
          server,
          max_tokens: req.maxTokens,
          prompt_chars: promptChars(req),
          ...(model === undefined ? {} : { model }),
        },
        options.ctx(),
        {
          signal,
          effect: async () => {
            if (!options.sampling) {
              throw new KernelError(
                "CAPSULE_NOT_FOUND",
                "No LLM provider is active to answer MCP sampling",
              );
            }
            return await options.sampling.sample({ ...req, capsule }, {
              signal,
            });
          },
        },
      );
    },
    listChanged: (kind) => options.listChanged?.(kind),
  };
}

function modelHint(prefs: JsonValue | undefined): string | undefined {
  const hints = asObject(prefs)?.hints;
  if (!Array.isArray(hints)) return undefined;
  for (const h of hints as readonly JsonValue[]) {
    {
      const name = asObject(h)?.name;
      // A hint is only a label: drop anything that is not short printable text.
      if (typeof name === "string" && /^[\x20-\x7e]{1,200}$/.test(name)) {
        return name;
      }
    }
  }
  return undefined;
}
