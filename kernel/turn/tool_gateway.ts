/**
 * The tool gateway: a session's tools offered to an external MCP host
 * (`astrid mcp serve`). It lists the tools of the session's capsules and
 * calls one on the host's behalf.
 *
 * Which capsule offers a tool is read from the bus wiring, not from what a
 * capsule says about itself: the capsule that intercepts
 * `tool.v1.execute.<name>` (its manifest's `[[interceptor]]`, or the
 * interceptors an MCP capsule's engine adds per tool). The descriptions and
 * schemas come from the session's `tool.v1.request.describe` answer (the
 * router capsule's collected list) and, for MCP capsules, from their own
 * `list_tools` (so they are offered without a router too); a tool that no
 * capsule intercepts, or that two capsules intercept, is not offered.
 *
 * Security model:
 * - A name is checked before anything else: 1-64 of `[A-Za-z0-9_:-]`, so no
 *   dot, `*` or `>` can reach another topic. A name that is not offered —
 *   unknown, or of a capsule outside the caller's `capsules` filter — is
 *   `NOT_FOUND` with the same message (the filter does not reveal what
 *   other capsules offer).
 * - Every call is the gated action `mcp_host_tool_call {capsule_id, tool,
 *   args_hash}` run through `Gate.run` as the kernel in the session
 *   (policy: `blocked_tools` / `approval_required_tools` name
 *   `capsule:tool` or the capsule, `blocked_capsules`; then the mode, the
 *   budget, an allowance or a human; the decision is in the audit chain
 *   before the capsule sees the call; the outcome after). A refusal is a
 *   {@linkcode KernelError} with the gate's code and reason.
 * - The tool then runs as it does for the agent: every effect it makes is
 *   gated as that capsule's (an MCP capsule's call is again an
 *   `mcp_tool_call`).
 * - The arguments are hashed into the audit entry (BLAKE3 of canonical
 *   JSON), never stored.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { argsHash } from "../security/mcp_request.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import type { Runtime } from "../daemon/runtime.ts";
import type { GatewayTool, ToolCallResultEvent } from "../api/contract.ts";
import {
  AGENT_TOPICS,
  isToolName,
  type ToolDescribeResult,
  toolExecuteTopic,
} from "../../sdk/agent.ts";
import type { ToolDefinition } from "../../sdk/llm.ts";

/** How long a describe request may take. */
const DESCRIBE_TIMEOUT_MS = 30_000;

/** How long one tool call may take (the router's default). */
export const GATEWAY_TOOL_TIMEOUT_MS = 600_000;

const EXECUTE_PREFIX = "tool.v1.execute.";

/** A tool and who offers it. */
interface Owner {
  readonly capsule: CapsuleId;
  readonly engine: string;
}

/** Options of {@linkcode callGatewayTool}. */
export interface GatewayCallOptions {
  /** Only tools of these capsules (absent = every capsule's). */
  readonly capsules?: readonly string[];
  /** The call's id (audit correlation). */
  readonly callId: string;
  /** Cancels the call (the tool's call is aborted). */
  readonly signal?: AbortSignal;
  /** How long the tool may take (default {@linkcode GATEWAY_TOOL_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

/**
 * The tools of a session's capsules.
 *
 * @param kernel The kernel.
 * @param runtime The session's booted runtime.
 * @param capsules Only these capsules' tools (absent = all).
 * @returns The tools, in the describe answer's order.
 * @throws {KernelError} The describe request's failure (`NOT_FOUND` when no router capsule answers it).
 */
export async function listGatewayTools(
  kernel: KernelHandle,
  runtime: Runtime,
  capsules?: readonly string[],
): Promise<GatewayTool[]> {
  const owners = toolOwners(runtime);
  const described = [
    ...await describedTools(kernel, runtime),
    ...await mcpTools(runtime, owners, capsules),
  ];
  const out: GatewayTool[] = [];
  const seen = new Set<string>();
  for (const t of described) {
    const name = t?.name;
    if (!isToolName(name) || seen.has(name)) continue;
    const owner = owners.get(name);
    if (owner === undefined || owner === null) continue;
    if (capsules !== undefined && !capsules.includes(owner.capsule)) continue;
    seen.add(name);
    out.push({
      name,
      description: typeof t.description === "string" ? t.description : "",
      input_schema: objectSchema(t.input_schema),
      capsule: owner.capsule,
    });
  }
  return out;
}

/**
 * Calls a tool of the session for an external MCP host, through the gate.
 *
 * @param kernel The kernel.
 * @param runtime The session's booted runtime.
 * @param name The tool.
 * @param args Its arguments.
 * @param options Capsule filter, call id, cancellation, deadline.
 * @returns The tool's result (`is_error` when the tool itself failed).
 * @throws {KernelError} `INVALID_INPUT` (a name that is no tool name),
 *   `NOT_FOUND` (not offered), the gate's refusal (`POLICY_BLOCKED`,
 *   `APPROVAL_DENIED`, `APPROVAL_DEFERRED`, `BUDGET_EXCEEDED`, …),
 *   `ABORTED`, `BUS_TIMEOUT`.
 */
export async function callGatewayTool(
  kernel: KernelHandle,
  runtime: Runtime,
  name: string,
  args: Readonly<Record<string, unknown>>,
  options: GatewayCallOptions,
): Promise<ToolCallResultEvent> {
  if (!isToolName(name)) {
    throw new KernelError(
      "INVALID_INPUT",
      `Invalid tool name ${
        JSON.stringify(String(name).slice(0, 80))
      }: a tool name is 1-64 of [A-Za-z0-9_:-]`,
    );
  }
  const owner = toolOwners(runtime).get(name);
  if (
    owner === undefined || owner === null ||
    (options.capsules !== undefined &&
      !options.capsules.includes(owner.capsule))
  ) {
    throw new KernelError("NOT_FOUND", `Unknown tool '${name}'`);
  }
  const { callId, signal } = options;
  const timeoutMs = options.timeoutMs ?? GATEWAY_TOOL_TIMEOUT_MS;
  const payload = args as unknown as JsonValue;
  return await kernel.security.gate.run({
    type: "mcp_host_tool_call",
    capsule_id: owner.capsule,
    tool: name,
    args_hash: argsHash(payload),
  }, {
    principal: kernel.principal,
    session: runtime.session,
    workspace: runtime.workspace,
    callId,
  }, {
    ...(signal ? { signal } : {}),
    effect: async () => {
      if (owner.engine === "mcp") {
        return mcpResult(
          callId,
          await runtime.registry.invoke(owner.capsule, "call_tool", {
            tool: name,
            arguments: payload,
            call_id: callId,
          }, signal ? { signal } : {}),
        );
      }
      const answer = await runtime.bus.request("kernel", {
        topic: toolExecuteTopic(name),
        payload: {
          call_id: callId,
          name,
          arguments: payload,
          session_id: runtime.session,
        },
        principal: kernel.principal,
        session: runtime.session,
      }, { timeoutMs, ...(signal ? { signal } : {}) });
      return busResult(callId, name, answer);
    },
  });
}

/**
 * The session's describe answer (the router capsule collects every tool
 * capsule's definitions); none when no capsule answers it (no router).
 */
async function describedTools(
  kernel: KernelHandle,
  runtime: Runtime,
): Promise<readonly Partial<ToolDefinition>[]> {
  try {
    const answer = await runtime.bus.request("kernel", {
      topic: AGENT_TOPICS.toolDescribe,
      payload: { tools: [] },
      principal: kernel.principal,
      session: runtime.session,
    }, { timeoutMs: DESCRIBE_TIMEOUT_MS }) as unknown as
      | Partial<ToolDescribeResult>
      | null;
    return Array.isArray(answer?.tools) ? answer.tools : [];
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return [];
    throw err;
  }
}

/**
 * The tools of the MCP capsules, asked directly (`list_tools`): offered
 * even without a router capsule (e.g. a home holding only a wrapped
 * server). Names the describe answer also has are deduplicated later.
 */
async function mcpTools(
  runtime: Runtime,
  owners: ReadonlyMap<string, Owner | null>,
  capsules: readonly string[] | undefined,
): Promise<Partial<ToolDefinition>[]> {
  const mcp = new Set<CapsuleId>();
  for (const owner of owners.values()) {
    if (
      owner !== null && owner.engine === "mcp" &&
      (capsules === undefined || capsules.includes(owner.capsule))
    ) mcp.add(owner.capsule);
  }
  const out: Partial<ToolDefinition>[] = [];
  for (const capsule of mcp) {
    const listed = await runtime.registry.invoke(capsule, "list_tools", null);
    if (!Array.isArray(listed)) continue;
    for (
      const t of listed as {
        name?: unknown;
        description?: unknown;
        input_schema?: unknown;
      }[]
    ) {
      if (typeof t?.name !== "string") continue;
      out.push({
        name: t.name,
        description: typeof t.description === "string" ? t.description : "",
        input_schema: t.input_schema as ToolDefinition["input_schema"],
      });
    }
  }
  return out;
}

/**
 * Each tool name and the capsule that intercepts its execute topic; `null`
 * when more than one capsule does (not offered: ambiguous).
 */
function toolOwners(runtime: Runtime): Map<string, Owner | null> {
  const owners = new Map<string, Owner | null>();
  for (const capsule of runtime.registry.loaded) {
    const wired = runtime.registry.interceptedBy(capsule);
    if (wired === undefined) continue;
    for (const event of wired.events) {
      if (!event.startsWith(EXECUTE_PREFIX)) continue;
      const name = event.slice(EXECUTE_PREFIX.length);
      if (!isToolName(name)) continue; // a pattern (`*`) or a sub-topic
      const had = owners.get(name);
      if (had === undefined) {
        owners.set(name, { capsule, engine: wired.engine });
      } else if (had !== null && had.capsule !== capsule) {
        owners.set(name, null);
      }
    }
  }
  return owners;
}

function objectSchema(raw: unknown): Readonly<Record<string, unknown>> {
  const o = raw !== null && typeof raw === "object" && !Array.isArray(raw)
    ? raw as Record<string, unknown>
    : {};
  return o["type"] === "object" ? o : { type: "object", properties: {} };
}

function busResult(
  callId: string,
  name: string,
  answer: JsonValue,
): ToolCallResultEvent {
  const r = answer as { content?: unknown; is_error?: unknown } | null;
  if (typeof r?.content !== "string" || typeof r.is_error !== "boolean") {
    return {
      type: "result",
      call_id: callId,
      is_error: true,
      content: `Tool '${name}' answered something that is not a tool result`,
    };
  }
  return {
    type: "result",
    call_id: callId,
    is_error: r.is_error,
    content: r.content,
  };
}

function mcpResult(callId: string, answer: JsonValue): ToolCallResultEvent {
  const r = answer as {
    content?: unknown;
    is_error?: unknown;
    structured_content?: unknown;
  } | null;
  const blocks = Array.isArray(r?.content) ? r.content as unknown[] : [];
  const text = blocks.map((b) => {
    const o = b as { type?: unknown; text?: unknown } | null;
    return o?.type === "text" && typeof o.text === "string"
      ? o.text
      : JSON.stringify(b);
  }).join("\n");
  return {
    type: "result",
    call_id: callId,
    is_error: r?.is_error === true,
    content: text,
    mcp_content: blocks,
    ...(r?.structured_content === undefined
      ? {}
      : { structured_content: r.structured_content }),
  };
}
