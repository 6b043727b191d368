/**
 * `router`: tool discovery and dispatch.
 *
 * - `tool.v1.request.describe` (priority 10000, after the tool capsules'
 *   `tool.describe` interceptors appended their definitions): answers the
 *   collected list, deduplicated by name (first wins), invalid names dropped.
 * - `tool.v1.request.execute`: checks the name with `isToolName` (a name
 *   with a dot or a wildcard would address another topic: answered as an
 *   `is_error` result, never dispatched), then sends the request to
 *   `tool.v1.execute.<name>`; a bus `NOT_FOUND` (no capsule offers the tool)
 *   becomes an `is_error` "unknown tool" result. Any other failure of the
 *   call (refused, timed out, the tool capsule failed) is an `is_error`
 *   result too, so the model can react; only a cancellation propagates.
 *
 * With one instance (today) the router handles one call at a time, so the
 * orchestrator's parallel tool calls run one after the other; with
 * `[[component]] instances = N` they run N at a time.
 *
 * @module
 */
import {
  type CapsuleContext,
  defineCapsule,
  host,
  HostCallError,
  type InterceptEvent,
  isToolName,
  type ToolDefinition,
  type ToolDescribeResult,
  type ToolExecuteRequest,
  type ToolExecuteResult,
  toolExecuteTopic,
} from "@astrid/sdk";

const DEFAULT_TIMEOUT_MS = 600_000;

function result(
  callId: string,
  content: string,
  isError: boolean,
): { type: "final"; payload: ToolExecuteResult } {
  return {
    type: "final",
    payload: { call_id: callId, content, is_error: isError },
  };
}

function isResult(value: unknown): value is ToolExecuteResult {
  const r = value as Partial<ToolExecuteResult> | null;
  return typeof r?.content === "string" && typeof r.is_error === "boolean";
}

export default defineCapsule({
  interceptors: {
    /** `tool.v1.request.describe`: the collected tools, deduplicated. */
    describe(event: InterceptEvent<{ tools?: unknown }>) {
      const raw = Array.isArray(event.payload?.tools)
        ? event.payload.tools as Partial<ToolDefinition>[]
        : [];
      const seen = new Set<string>();
      const tools: ToolDefinition[] = [];
      for (const t of raw) {
        if (!isToolName(t?.name) || seen.has(t.name)) continue;
        seen.add(t.name);
        tools.push({
          name: t.name,
          description: typeof t.description === "string" ? t.description : "",
          input_schema: t.input_schema !== null &&
              typeof t.input_schema === "object"
            ? t.input_schema
            : { type: "object" },
        });
      }
      return {
        type: "final",
        payload: { tools } satisfies ToolDescribeResult,
      };
    },

    /** `tool.v1.request.execute`: dispatches to `tool.v1.execute.<name>`. */
    async execute(
      event: InterceptEvent<ToolExecuteRequest>,
      ctx: CapsuleContext,
    ) {
      const req = event.payload;
      const callId = typeof req?.call_id === "string" ? req.call_id : "";
      const name = req?.name;
      if (!isToolName(name)) {
        return result(
          callId,
          `Invalid tool name ${
            JSON.stringify(String(name).slice(0, 80))
          }: a tool name is 1-64 of [A-Za-z0-9_:-]; the call was not dispatched`,
          true,
        );
      }
      // From the handler context (no host call on the tool's path).
      const n = Number(
        Object.hasOwn(ctx.config, "tool_timeout_ms")
          ? ctx.config.tool_timeout_ms
          : undefined,
      );
      const timeoutMs = Number.isFinite(n) && n > 0 ? n : DEFAULT_TIMEOUT_MS;
      let answer: unknown;
      try {
        answer = await host.ipc.request(toolExecuteTopic(name), req, {
          timeoutMs,
        });
      } catch (err) {
        if (!(err instanceof HostCallError) || err.code === "ABORTED") {
          throw err;
        }
        if (err.code === "NOT_FOUND") {
          return result(callId, `Unknown tool '${name}'`, true);
        }
        return result(
          callId,
          `Tool '${name}' failed: ${err.code}: ${err.message}`,
          true,
        );
      }
      if (!isResult(answer)) {
        return result(
          callId,
          `Tool '${name}' answered something that is not a tool result`,
          true,
        );
      }
      return result(callId, answer.content, answer.is_error);
    },
  },
});
