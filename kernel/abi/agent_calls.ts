/**
 * `agent_delegate`: a capsule (the `task` tool) runs a sub-agent — a turn of
 * the orchestrator on `user.v1.prompt`, in a history session of its own, for
 * the calling agent.
 *
 * Security model: the door decides it like an `ipc_request` on
 * `user.v1.prompt` (manifest ACL, audited). The kernel, not the capsule,
 * makes the child's lineage: one level deeper (refused past
 * `MAX_AGENT_DEPTH`, audited), tools narrowed to those asked for AND held by
 * the parent (the runtime refuses a call of any other tool at the bus),
 * stamped on the request so every host call the sub-agent causes is audited
 * under the child's id. Its model use is charged to the session by the
 * kernel's meter and the delegation is stopped past `budget_usd`. It runs in
 * the same session, so its writes land in the same overlay.
 *
 * @module
 */
import { usageTokens } from "./usage_tokens.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import {
  type AgentLineage,
  childLineage,
  MAX_AGENT_DEPTH,
} from "../core/agent_lineage.ts";
import { isToolName } from "../../sdk/agent.ts";
import { Params } from "./_params.ts";
import type { HostCall } from "./host_call.ts";

/** The topic the orchestrator answers turns on. */
const PROMPT_TOPIC = "user.v1.prompt";
/** Default and longest wait for a sub-agent's answer. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MAX_TIMEOUT_MS = 30 * 60_000;

function refused(
  code: "AGENT_DEPTH_EXCEEDED" | "INVALID_INPUT" | "BUDGET_EXCEEDED",
  m: string,
) {
  return new KernelError(code, `agent_delegate: ${m}`);
}

/** `agent_delegate`. */
export const agentDelegate: HostCall = async (payload, call) => {
  const p = new Params("agent_delegate", payload);
  const prompt = p.string("prompt", 200_000);
  if (prompt.trim() === "") throw refused("INVALID_INPUT", "empty prompt");
  const tools = p.optStrings("tools", 64 * 1024) ?? null;
  const bad = tools?.find((t) => !isToolName(t)) as string | undefined;
  if (bad !== undefined) {
    throw refused(
      "INVALID_INPUT",
      `'${bad.slice(0, 64)}' is not a tool name`,
    );
  }
  const maxIterations = p.optInt("max_iterations", 100);
  const timeoutMs = p.optInt("timeout_ms", MAX_TIMEOUT_MS) ??
    DEFAULT_TIMEOUT_MS;
  const budget = (payload as Record<string, unknown>)?.["budget_usd"];
  if (
    budget !== undefined &&
    (typeof budget !== "number" || !(budget >= 0) || budget > 1_000_000)
  ) {
    throw refused("INVALID_INPUT", "'budget_usd' must be a number ≥ 0");
  }
  const parent: AgentLineage = call.caller.agent ??
    { id: `capsule:${call.caller.capsule}`, depth: 0, tools: null };
  const child = childLineage(parent, `t${call.callId.slice(0, 8)}`, tools);
  if (child.depth > MAX_AGENT_DEPTH) {
    await call.pure.audit({
      action: delegation(child, budget),
      decision: "denied",
      proof: {
        type: "agent_depth",
        reason: `depth ${child.depth} > ${MAX_AGENT_DEPTH}`,
      },
    });
    throw refused(
      "AGENT_DEPTH_EXCEEDED",
      `agent '${parent.id}' is at depth ${parent.depth}; sub-agents nest at most ${MAX_AGENT_DEPTH} deep`,
    );
  }
  const history = `${call.caller.session}:${child.id}`;
  return await call.gated(
    { kind: "request", topic: PROMPT_TOPIC },
    async (granted) => {
      await call.pure.audit({
        action: delegation(child, budget),
        decision: "allowed",
        proof: { type: "agent_lineage", parent: parent.id },
      });
      const stop = new AbortController();
      const limit = typeof budget === "number"
        ? Math.floor(budget * 1_000_000)
        : null;
      const untrack = call.meter?.track(history, {
        agent: child.id,
        limitMicros: limit,
        onExceeded: (error) => stop.abort(error),
      });
      if (typeof budget === "number" && untrack === undefined) {
        throw refused(
          "INVALID_INPUT",
          "'budget_usd' needs the kernel's model meter, which this runtime lacks",
        );
      }
      try {
        const out = await granted.request({
          turn_id: child.id,
          session_id: history,
          text: prompt,
          ...(maxIterations === undefined
            ? {}
            : { max_iterations: maxIterations }),
          ...(child.tools === null ? {} : { tools: [...child.tools] }),
        }, { timeoutMs, agent: child, signal: stop.signal }) as
          | Record<
            string,
            JsonValue
          >
          | null;
        // The meter charges each model call as its usage event arrives, on
        // its own delivery queue: a sub-agent can answer before the charge
        // that stops it lands. Its answer carries its whole usage, so the
        // slice is judged again here, and an overspent answer is refused.
        if (stop.signal.aborted) throw stop.signal.reason;
        const spent = call.meter?.costMicros(usageTokens(out?.["usage"])) ?? 0;
        if (limit !== null && spent > limit) {
          throw refused(
            "BUDGET_EXCEEDED",
            `Stopped: agent '${child.id}' spent $${
              (spent / 1e6).toFixed(4)
            } of its $${(limit / 1e6).toFixed(4)} slice`,
          );
        }
        return {
          text: typeof out?.["text"] === "string" ? out["text"] : "",
          usage: out?.["usage"] ?? { input_tokens: 0, output_tokens: 0 },
          iterations: typeof out?.["iterations"] === "number"
            ? out["iterations"]
            : 0,
          agent: child.id,
        };
      } catch (err) {
        if (stop.signal.aborted) throw stop.signal.reason;
        throw err;
      } finally {
        untrack?.();
      }
    },
  );
};

function delegation(child: AgentLineage, budget: unknown): JsonValue {
  return {
    type: "agent_delegate",
    agent: child.id,
    depth: child.depth,
    tools: child.tools === null ? null : [...child.tools],
    budget_usd: typeof budget === "number" ? budget : null,
  };
}
