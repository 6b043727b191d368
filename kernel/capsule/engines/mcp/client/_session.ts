/**
 * The session behind `connectMcpClient()`: requests with timeouts,
 * cancellation and progress, cursor-following lists, and the checks of what
 * the server returns (see `_result_parsers.ts`).
 *
 * Lists are cached for the `ttlMs` the server put on the first page
 * (2026-07-28 cacheable lists; at most 24 h, as the SDK caps it; no `ttlMs`
 * means not cached), per session, and dropped when the server announces a
 * change (`notifications/*\/list_changed`). The cache keeps the parsed,
 * bounded items: the SDK's own list cache would validate the whole list with
 * its schemas (one malformed tool fails the list) and throw at a page cap,
 * where this adapter skips malformed items and keeps what it has.
 *
 * @module
 */
import type {
  Client,
  RequestOptions,
  StandardSchemaV1,
} from "@modelcontextprotocol/client";
import { throwIfAborted } from "../../../../core/abort.ts";
import { requestError } from "./_request_errors.ts";
import {
  declaresHeaders,
  excludeInvalidHeaderTools,
  type ToolDefinition,
} from "./_sep2243.ts";
import {
  type ItemParser,
  MAX_ITEMS,
  objectArray,
  parsePrompt,
  parsePromptResult,
  parseResource,
  parseResourceTemplate,
  parseTool,
  parseToolResult,
  type RawResult,
} from "./_result_parsers.ts";
import type {
  JsonValue,
  McpCallOptions,
  McpClientSession,
  McpListOptions,
  McpPrompt,
  McpResource,
  McpResourceTemplate,
  McpTool,
  McpToolResult,
} from "./mcp_types.ts";

const MAX_PAGES = 1_000;
/** The longest `ttlMs` honoured (24 h, the SDK's `MAX_CACHE_TTL_MS`). */
export const MAX_LIST_TTL_MS = 86_400_000;
// Any JSON object is a result; the adapter's parsers check the fields.
const ANY_RESULT: StandardSchemaV1<unknown, RawResult> = {
  "~standard": {
    version: 1,
    vendor: "astrid",
    validate: (value) =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? { value: value as RawResult }
        : { issues: [{ message: "The result is not an object" }] },
  },
};
const CANCEL_REASON = "Cancelled by the client";
const LOG_LEVELS: readonly string[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** What a {@linkcode Session} is built from. */
export interface SessionInit {
  /** The protocol revision the transport recorded, if the client has none. */
  readonly transportVersion?: string | undefined;
  /** Resolves when the connection has ended. */
  readonly closed: Promise<void>;
  /** The default request timeout in ms. */
  readonly timeoutMs: number;
  /** Receives adapter warnings (skipped items, cut lists). */
  readonly warn: (message: string) => void;
  /** Whether the client offers roots (`notifyRootsChanged()` sends). */
  readonly hasRoots: boolean;
}

/**
 * A per-request signal that follows `signal`. The SDK adds a listener to the
 * signal it gets and sends `String(reason)` to the server in
 * `notifications/cancelled`; a per-request signal keeps a long-lived caller
 * signal from collecting listeners, and a fixed reason keeps the kernel's
 * abort reason (which may name host paths) from the server.
 *
 * @param signal The caller's signal, if any.
 * @returns The linked signal and how to detach it, or `null` without one.
 *
 * @example Follow a caller's abort
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkSignal } from "./_session.ts";
 * const caller = new AbortController();
 * const link = linkSignal(caller.signal);
 * caller.abort(new Error("/home/alice/secret"));
 * assert.equal(link?.signal.reason, "Cancelled by the client");
 * link?.unlink();
 * ```
 */
export function linkSignal(
  signal: AbortSignal | undefined,
): { signal: AbortSignal; unlink(): void } | null {
  if (signal === undefined) return null;
  const link = new AbortController();
  const onAbort = (): void => link.abort(CANCEL_REASON);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: link.signal,
    unlink: () => signal.removeEventListener("abort", onAbort),
  };
}

/**
 * An initialised MCP session over an SDK `Client` (see
 * {@linkcode McpClientSession} for the contract).
 */
export class Session implements McpClientSession {
  readonly server: { name: string; version: string; title?: string };
  readonly protocolVersion: string;
  readonly capabilities: McpClientSession["capabilities"];
  readonly instructions?: string;
  readonly closed: Promise<void>;
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #warn: (message: string) => void;
  readonly #hasRoots: boolean;
  readonly #lists = new Map<string, { until: number; items: unknown[] }>();
  /** Tools declaring `x-mcp-header` (SEP-2243), as last listed. */
  readonly #headerTools = new Map<string, ToolDefinition>();

  /**
   * @param client The connected SDK client.
   * @param init The transport, the close signal, the default timeout, the
   *   warning sink and whether roots are offered.
   */
  constructor(client: Client, init: SessionInit) {
    this.#client = client;
    this.#timeoutMs = init.timeoutMs;
    this.#warn = init.warn;
    this.#hasRoots = init.hasRoots;
    this.closed = init.closed;
    const info = client.getServerVersion();
    this.server = { name: info?.name ?? "", version: info?.version ?? "" };
    if (typeof info?.title === "string") this.server.title = info.title;
    this.protocolVersion = client.getNegotiatedProtocolVersion() ??
      init.transportVersion ?? "unknown";
    const caps = client.getServerCapabilities() ?? {};
    this.capabilities = {
      tools: caps.tools !== undefined,
      resources: caps.resources !== undefined,
      prompts: caps.prompts !== undefined,
      logging: caps.logging !== undefined,
    };
    const instructions = client.getInstructions();
    if (typeof instructions === "string") this.instructions = instructions;
  }

  async #request(
    method: string,
    params: Record<string, unknown> | undefined,
    what: string,
    o: McpCallOptions = {},
    send?: (options: RequestOptions) => Promise<unknown>,
  ): Promise<RawResult> {
    const { signal } = o;
    throwIfAborted(signal, `MCP ${what}`);
    const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
    const options: RequestOptions = {
      timeout: timeoutMs,
      resetTimeoutOnProgress: true,
    };
    const link = linkSignal(signal);
    if (link) options.signal = link.signal;
    const onProgress = o.onProgress;
    if (onProgress) {
      options.onprogress = (p) => {
        onProgress({
          progress: p.progress,
          ...(typeof p.total === "number" ? { total: p.total } : {}),
          ...(typeof p.message === "string" ? { message: p.message } : {}),
        });
      };
    }
    try {
      if (send !== undefined) return await send(options) as RawResult;
      const request = params === undefined ? { method } : { method, params };
      return await this.#client.request(request, ANY_RESULT, options);
    } catch (err) {
      throw requestError(err, what, {
        aborted: signal?.aborted === true,
        timeoutMs,
      });
    } finally {
      link?.unlink();
    }
  }

  /**
   * Drops the cached lists of one kind (a `list_changed` notification).
   *
   * @param kind `tools`, `resources` (with templates) or `prompts`.
   */
  forget(kind: "tools" | "resources" | "prompts"): void {
    for (const method of this.#lists.keys()) {
      if (method.startsWith(`${kind}/`)) this.#lists.delete(method);
    }
  }

  async #listAll<T>(
    method: string,
    key: string,
    parse: ItemParser<T>,
    o: McpListOptions = {},
  ): Promise<T[]> {
    const cached = this.#lists.get(method);
    if (cached !== undefined && o.fresh !== true) {
      if (Date.now() < cached.until) return [...cached.items] as T[];
      this.#lists.delete(method);
    }
    let ttlMs = 0;
    const out = await this.#walk(method, key, parse, o, (ttl) => ttlMs = ttl);
    if (ttlMs > 0) {
      this.#lists.set(method, {
        until: Date.now() + Math.min(ttlMs, MAX_LIST_TTL_MS),
        items: [...out],
      });
    } else this.#lists.delete(method);
    return out;
  }

  async #walk<T>(
    method: string,
    key: string,
    parse: ItemParser<T>,
    o: McpListOptions,
    onTtl: (ttlMs: number) => void,
  ): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    let firstReason = "";
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const params = cursor === undefined ? undefined : { cursor };
        let result = await this.#request(method, params, method, o);
        if (method === "tools/list") {
          if (page === 0) this.#headerTools.clear();
          result = excludeInvalidHeaderTools(this.#client, result);
          const tools = Array.isArray(result.tools) ? result.tools : [];
          for (const raw of tools as { name?: unknown }[]) {
            if (declaresHeaders(raw) && typeof raw.name === "string") {
              this.#headerTools.set(raw.name, raw as ToolDefinition);
            }
          }
        }
        const ttl = result.ttlMs;
        if (page === 0 && typeof ttl === "number" && Number.isFinite(ttl)) {
          onTtl(ttl);
        }
        for (const raw of objectArray(result, key, method, this.#warn)) {
          if (out.length >= MAX_ITEMS) {
            this.#warn(`Kept the first ${MAX_ITEMS} items of MCP ${method}`);
            return out;
          }
          const item = parse(raw);
          if (typeof item !== "string") out.push(item);
          else if (skipped++ === 0) firstReason = item;
        }
        const next = result.nextCursor;
        if (typeof next !== "string") return out;
        if (seen.has(next)) {
          this.#warn(`Stopped MCP ${method} at a repeated cursor`);
          return out;
        }
        seen.add(next);
        cursor = next;
      }
      this.#warn(`Stopped MCP ${method} after ${MAX_PAGES} pages`);
      return out;
    } finally {
      if (skipped > 0) {
        this.#warn(`Skipped ${skipped} items of MCP ${method}: ${firstReason}`);
      }
    }
  }

  listTools(o?: McpListOptions): Promise<McpTool[]> {
    return this.#listAll("tools/list", "tools", parseTool, o);
  }

  async callTool(
    name: string,
    args: Record<string, JsonValue>,
    o?: McpCallOptions,
  ): Promise<McpToolResult> {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError("callTool() needs a tool name");
    }
    const what = `tools/call '${name}'`;
    const params = { name, arguments: args };
    // A tool with x-mcp-header declarations goes through the SDK's
    // callTool(), which mirrors them into Mcp-Param-* headers (SEP-2243).
    const toolDefinition = this.#headerTools.get(name);
    const send = toolDefinition === undefined
      ? undefined
      : (options: RequestOptions) =>
        this.#client.callTool(params, { ...options, toolDefinition });
    const result = await this.#request("tools/call", params, what, o, send);
    return parseToolResult(result, what, this.#warn);
  }

  listResources(o?: McpListOptions): Promise<McpResource[]> {
    return this.#listAll("resources/list", "resources", parseResource, o);
  }

  listResourceTemplates(o?: McpListOptions): Promise<McpResourceTemplate[]> {
    return this.#listAll(
      "resources/templates/list",
      "resourceTemplates",
      parseResourceTemplate,
      o,
    );
  }

  async readResource(
    uri: string,
    o?: McpCallOptions,
  ): Promise<{ contents: JsonValue[] }> {
    const what = `resources/read '${uri}'`;
    const result = await this.#request("resources/read", { uri }, what, o);
    return { contents: objectArray(result, "contents", what, this.#warn) };
  }

  listPrompts(o?: McpListOptions): Promise<McpPrompt[]> {
    return this.#listAll("prompts/list", "prompts", parsePrompt, o);
  }

  async getPrompt(
    name: string,
    args: Record<string, string>,
    o?: McpCallOptions,
  ): Promise<{ description?: string; messages: JsonValue[] }> {
    const what = `prompts/get '${name}'`;
    const params = { name, arguments: args };
    const result = await this.#request("prompts/get", params, what, o);
    return parsePromptResult(result, what, this.#warn);
  }

  async setLogLevel(level: string): Promise<void> {
    if (!LOG_LEVELS.includes(level)) {
      throw new RangeError(`Unknown MCP log level '${level}'`);
    }
    await this.#request("logging/setLevel", { level }, "logging/setLevel");
  }

  async ping(o?: McpListOptions): Promise<void> {
    await this.#request("ping", undefined, "ping", o);
  }

  async notifyRootsChanged(): Promise<void> {
    if (!this.#hasRoots) return;
    try {
      await this.#client.sendRootsListChanged();
    } catch (err) {
      throw requestError(err, "notifications/roots/list_changed", {
        aborted: false,
        timeoutMs: this.#timeoutMs,
      });
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
    await this.closed;
  }
}
