/**
 * A loaded MCP capsule: its servers (each a supervised subprocess) seen as
 * one capsule whose tools are bus tools.
 *
 * Actions (`invoke`): `tool_execute_<name>` (bus path: the result is
 * published on `tool.v1.execute.<name>.result`), `tool_describe`,
 * `tool_cancel {call_ids}`, `call_tool {tool, arguments, call_id?}` (direct,
 * returns the result), `list_tools`, `list_resources`, `read_resource
 * {uri, server?}`, `list_prompts`, `get_prompt {name, arguments?, server?}`.
 *
 * Security model: every tool call is the gated action `mcp_tool_call
 * {server, tool, args_hash}` run through `Gate.run` (manifest, policy,
 * budget, approval, audit of decision and outcome) before a byte reaches the
 * server; resource reads (`mcp_resource_read`) and prompt fetches
 * (`mcp_prompt_get`) likewise. Arguments are hashed (BLAKE3 of canonical
 * JSON) into the audit entry, not stored. A call is cancelled (MCP
 * `notifications/cancelled`) when its caller aborts, on `tool.v1.request.cancel`
 * naming its call id, and on unload.
 *
 * @module
 */
import { linkSignals } from "../../../core/linked_signal.ts";
import { KernelError } from "../../../core/errors.ts";
import { canonicalBytes } from "../../../core/canonical_json.ts";
import type { Logger } from "../../../core/ports.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import { blake3Hex } from "../../../crypto/blake3.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { Gate } from "../../../security/gate.ts";
import type { GateContext } from "../../../security/context.ts";
import type {
  Capsule,
  CapsuleHealth,
  HostCallDispatcher,
} from "../../engine.ts";
import type { InterceptorDef } from "../../manifest/manifest_types.ts";
import type { McpToolResult } from "./client/mod.ts";
import type { McpServerProcess } from "./server_process.ts";
import {
  describeTools,
  executeResult,
  type IndexedTool,
  indexTools,
  toolInterceptors,
} from "./tool_index.ts";
import {
  asObject,
  mcpArgs,
  optionalString,
  requireString,
} from "./_payload.ts";

/** Dependencies of {@linkcode McpCapsule}. */
export interface McpCapsuleDeps {
  readonly gate: Pick<Gate, "run">;
  /** A fresh gate context per call. */
  ctx(): GateContext;
  /** The capsule's host calls (used for `ipc_publish` of results). */
  readonly host: HostCallDispatcher;
  readonly logger: Logger;
  /** Per-request deadline in ms (progress resets it). */
  readonly timeoutMs: number;
}

/** One server of the capsule. */
export interface CapsuleServer {
  readonly id: string;
  readonly process: McpServerProcess;
}

/** A loaded MCP capsule. */
export class McpCapsule implements Capsule {
  readonly id: CapsuleId;
  readonly #deps: McpCapsuleDeps;
  readonly #servers: readonly CapsuleServer[];
  readonly #description: string;
  readonly #toolsByServer = new Map<string, IndexedTool["tool"][]>();
  #tools = new Map<string, IndexedTool>();
  readonly #listeners = new Set<() => void>();
  readonly #calls = new Map<string, AbortController>();
  readonly #unloading = new AbortController();

  /**
   * @param id The capsule id.
   * @param servers Its servers, in manifest order.
   * @param deps Gate, host calls, logger, limits.
   * @param description The capsule's description (for `tool_describe`).
   */
  constructor(
    id: CapsuleId,
    servers: readonly CapsuleServer[],
    deps: McpCapsuleDeps,
    description: string,
  ) {
    this.id = id;
    this.#servers = servers;
    this.#deps = deps;
    this.#description = description;
  }

  /**
   * Re-reads the tool list of one server (after start, restart or a
   * `list_changed` notification) and tells listeners when the bus names changed.
   *
   * @param server The server id.
   */
  async refreshTools(server: string): Promise<void> {
    const entry = this.#server(server);
    const session = await entry.process.session();
    const list = session.capabilities.tools ? await session.listTools() : [];
    this.#toolsByServer.set(server, list);
    const before = [...this.#tools.keys()].join("\n");
    const { tools, skipped } = indexTools(
      this.#servers.map((s) => [s.id, this.#toolsByServer.get(s.id) ?? []]),
    );
    for (const s of skipped) {
      this.#deps.logger.log("warn", `MCP tool '${s}' has no usable bus name`);
    }
    this.#tools = tools;
    if ([...tools.keys()].join("\n") !== before) {
      for (const l of this.#listeners) l();
    }
  }

  /** The interceptors wiring this capsule's tools to the bus. */
  interceptors(): readonly InterceptorDef[] {
    return toolInterceptors(this.#tools);
  }

  /**
   * Calls `listener` whenever {@linkcode McpCapsule.interceptors} changes.
   *
   * @param listener The callback.
   * @returns Unsubscribe.
   */
  onInterceptorsChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Worst health of the servers. */
  health(): CapsuleHealth {
    for (const want of ["failed", "degraded"] as const) {
      for (const s of this.#servers) {
        const h = s.process.health();
        if (h.status === want) {
          return { status: want, reason: `server '${s.id}': ${h.reason}` };
        }
      }
    }
    return { status: "ok" };
  }

  async unload(): Promise<void> {
    this.#unloading.abort(
      new KernelError("ABORTED", `Capsule '${this.id}' was unloaded`),
    );
    this.#listeners.clear();
    await Promise.all(this.#servers.map((s) => s.process.stop()));
  }

  async invoke(
    action: string,
    payload: JsonValue,
    options: { signal?: AbortSignal } = {},
  ): Promise<JsonValue> {
    const linked = linkSignals([this.#unloading.signal, options.signal]);
    try {
      return await this.#invoke(action, payload, linked.signal);
    } finally {
      linked.unlink();
    }
  }

  async #invoke(
    action: string,
    payload: JsonValue,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    if (action.startsWith("tool_execute_")) {
      return await this.#executeOnBus(
        action.slice(13),
        busPayload(payload),
        signal,
        busSource(payload),
      );
    }
    switch (action) {
      case "tool_describe":
        return describeTools(this.#tools, this.#description);
      case "tool_cancel":
        return this.#cancel(busPayload(payload));
      case "call_tool": {
        const name = requireString(payload, "tool", action);
        const result = await this.#call(
          name,
          mcpArgs(payload, action),
          optionalString(payload, "call_id", action),
          signal,
        );
        return {
          content: result.content,
          is_error: result.isError,
          ...(result.structuredContent === undefined
            ? {}
            : { structured_content: result.structuredContent }),
        };
      }
      case "list_tools":
        return [...this.#tools.values()].map(({ bus, server, tool }) => ({
          name: bus,
          server,
          tool: tool.name,
          description: tool.description ?? null,
          input_schema: tool.inputSchema,
        }));
      case "list_resources":
        return await this.#eachServer(
          "resources",
          async (s) =>
            (await s.listResources({ signal })) as unknown as JsonValue[],
        );
      case "list_prompts":
        return await this.#eachServer(
          "prompts",
          async (s) =>
            (await s.listPrompts({ signal })) as unknown as JsonValue[],
        );
      case "read_resource":
        return await this.#readResource(payload, signal);
      case "get_prompt":
        return await this.#getPrompt(payload, signal);
      default:
        throw new KernelError(
          "CAPSULE_FAILED",
          `MCP capsule '${this.id}' has no action '${action.slice(0, 128)}'`,
        );
    }
  }

  #server(id: string): CapsuleServer {
    const s = this.#servers.find((x) => x.id === id);
    if (!s) {
      throw new KernelError(
        "NOT_FOUND",
        `MCP capsule '${this.id}' has no server '${id.slice(0, 128)}'`,
      );
    }
    return s;
  }

  async #executeOnBus(
    bus: string,
    payload: JsonValue,
    signal: AbortSignal,
    requestedBy: string | undefined,
  ): Promise<JsonValue> {
    const callId = optionalString(payload, "call_id", "tool_execute") ??
      "";
    let result: JsonValue;
    try {
      const r = await this.#call(
        bus,
        mcpArgs(payload, "tool_execute"),
        callId,
        signal,
        requestedBy,
      );
      result = executeResult(callId, r);
    } catch (err) {
      const code = err instanceof KernelError ? err.code : "CAPSULE_FAILED";
      const msg = err instanceof Error ? err.message : String(err);
      result = executeResult(callId, { error: `${code}: ${msg}` });
    }
    await this.#deps.host("ipc_publish", {
      topic: `tool.v1.execute.${bus}.result`,
      payload: result,
    }, { signal: this.#unloading.signal });
    return null;
  }

  async #call(
    bus: string,
    args: { readonly [key: string]: JsonValue },
    callId: string | undefined,
    signal: AbortSignal,
    requestedBy?: string,
  ): Promise<McpToolResult> {
    const entry = this.#tools.get(bus);
    if (!entry) {
      throw new KernelError(
        "NOT_FOUND",
        `MCP capsule '${this.id}' has no tool '${bus.slice(0, 128)}'`,
      );
    }
    // A controller only for a call `tool_cancel` can name.
    const cancel = callId ? new AbortController() : undefined;
    if (callId && cancel) this.#calls.set(callId, cancel);
    try {
      return await this.#deps.gate.run(
        {
          type: "mcp_tool_call",
          server: entry.server,
          tool: entry.tool.name,
          args_hash: blake3Hex(canonicalBytes(args)),
          ...(requestedBy === undefined || requestedBy === this.id
            ? {}
            : { requested_by: requestedBy }),
        },
        this.#deps.ctx(),
        {
          signal,
          effect: async () => {
            const session = await this.#server(entry.server).process.session({
              signal,
            });
            const linked = linkSignals([signal, cancel?.signal]);
            try {
              return await session.callTool(entry.tool.name, args, {
                signal: linked.signal,
                timeoutMs: this.#deps.timeoutMs,
              });
            } finally {
              linked.unlink();
            }
          },
        },
      );
    } finally {
      if (callId && this.#calls.get(callId) === cancel) {
        this.#calls.delete(callId);
      }
    }
  }

  #cancel(payload: JsonValue): JsonValue {
    const raw = asObject(payload)?.call_ids;
    const ids = Array.isArray(raw)
      ? (raw as readonly JsonValue[]).filter((x): x is string =>
        typeof x === "string"
      )
      : [];
    let cancelled = 0;
    for (const id of ids) {
      const c = this.#calls.get(id);
      if (!c) continue;
      c.abort(new KernelError("ABORTED", `Tool call '${id}' was cancelled`));
      cancelled++;
    }
    return cancelled === 0 ? null : { cancelled };
  }

  async #eachServer(
    kind: "resources" | "prompts",
    fn: (
      s: Awaited<ReturnType<McpServerProcess["session"]>>,
    ) => Promise<JsonValue[]>,
  ): Promise<JsonValue> {
    const out: JsonValue[] = [];
    for (const s of this.#servers) {
      const session = await s.process.session();
      if (!session.capabilities[kind]) continue;
      for (const item of await fn(session)) {
        const o = asObject(item);
        out.push(o ? { server: s.id, ...o } : item);
      }
    }
    return out;
  }

  #pickServer(payload: JsonValue, action: string): CapsuleServer {
    const id = optionalString(payload, "server", action);
    if (id !== undefined) return this.#server(id);
    if (this.#servers.length === 1) return this.#servers[0]!;
    throw new KernelError(
      "INVALID_INPUT",
      `${action}: this capsule has several servers; name one in 'server'`,
    );
  }

  async #readResource(
    payload: JsonValue,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    const uri = requireString(payload, "uri", "read_resource");
    const s = this.#pickServer(payload, "read_resource");
    return await this.#deps.gate.run(
      { type: "mcp_resource_read", server: s.id, uri },
      this.#deps.ctx(),
      {
        signal,
        effect: async () =>
          (await (await s.process.session({ signal })).readResource(uri, {
            signal,
            timeoutMs: this.#deps.timeoutMs,
          })) as unknown as JsonValue,
      },
    );
  }

  async #getPrompt(
    payload: JsonValue,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    const name = requireString(payload, "name", "get_prompt");
    const s = this.#pickServer(payload, "get_prompt");
    const raw = mcpArgs(payload, "get_prompt");
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== "string") {
        throw new KernelError(
          "INVALID_INPUT",
          `get_prompt: argument '${k.slice(0, 64)}' must be a string`,
        );
      }
      args[k] = v;
    }
    return await this.#deps.gate.run(
      { type: "mcp_prompt_get", server: s.id, name },
      this.#deps.ctx(),
      {
        signal,
        effect: async () =>
          (await (await s.process.session({ signal })).getPrompt(name, args, {
            signal,
            timeoutMs: this.#deps.timeoutMs,
          })) as unknown as JsonValue,
      },
    );
  }
}

/** The publisher of a bus message (interceptors receive `source`); `undefined` for a direct call. */
function busSource(payload: JsonValue): string | undefined {
  const o = asObject(payload);
  return o && typeof o.topic === "string" && typeof o.source === "string"
    ? o.source
    : undefined;
}

/** Interceptors receive `{topic, payload, source, principal, session}`; direct calls the payload. */
function busPayload(payload: JsonValue): JsonValue {
  const o = asObject(payload);
  return o && typeof o.topic === "string" && "payload" in o
    ? o.payload ?? null
    : payload;
}
