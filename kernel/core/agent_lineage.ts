/**
 * Which agent a call runs for. A turn started through the turn API is a root
 * agent (depth 0); a sub-agent delegated by a capsule (`agent_delegate`) is
 * its child, one level deeper, with the tools it may call narrowed. The
 * lineage travels with every bus message a call publishes and reaches the
 * host calls of the capsule calls those messages cause, so the gate's audit
 * entries name the agent, and the kernel can refuse a sub-agent a tool its
 * parent did not hand down. Only the kernel sets it: a guest cannot name or
 * change its own lineage.
 *
 * @module
 */

/** How deep sub-agents may nest: a root agent's child is 1, its child 2. */
export const MAX_AGENT_DEPTH = 2;

/** The agent a call runs for. */
export interface AgentLineage {
  /** `turn-…` for a root agent; `<parent id>/<child>` for a sub-agent. */
  readonly id: string;
  /** 0 for a root agent. */
  readonly depth: number;
  /** The tools this agent may call, or `null` for every tool. */
  readonly tools: readonly string[] | null;
}

/**
 * The lineage of a sub-agent: one level deeper, its tools narrowed to those
 * both asked for and held by the parent.
 *
 * @param parent The delegating agent.
 * @param child The child's own segment (`[A-Za-z0-9_-]`).
 * @param tools The tools asked for, or `null` for the parent's.
 * @returns The child's lineage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childLineage } from "./agent_lineage.ts";
 * const root = { id: "turn-1", depth: 0, tools: ["read_file", "grep"] };
 * assert.deepEqual(childLineage(root, "t1", ["grep", "bash"]), {
 *   id: "turn-1/t1", depth: 1, tools: ["grep"],
 * });
 * ```
 */
export function childLineage(
  parent: AgentLineage,
  child: string,
  tools: readonly string[] | null,
): AgentLineage {
  const narrowed = tools === null
    ? parent.tools
    : parent.tools === null
    ? [...new Set(tools)]
    : [...new Set(tools)].filter((t) => parent.tools!.includes(t));
  return {
    id: `${parent.id}/${child}`,
    depth: parent.depth + 1,
    tools: narrowed,
  };
}
