/**
 * The `task` capsule: one tool that delegates a sub-task to a sub-agent
 * through the kernel's `agent_delegate` host call. The kernel, not this
 * capsule, enforces what a sub-agent may do (depth, tools, budget slice,
 * audit attribution); this capsule shapes the request and the answer.
 */
import { defineCapsule, host, isToolName } from "@astrid/sdk";

function number(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n)
    ? n
    : fallback;
}

export default defineCapsule({
  tools: {
    task: {
      description:
        "Delegates a self-contained sub-task to a sub-agent and returns its final answer. Give it a complete prompt (it does not see this conversation), the tools it needs (a subset of yours), and optionally a budget in USD.",
      input_schema: {
        type: "object",
        properties: {
          prompt: {
            type: "string",
            description: "Everything the sub-agent needs to know and do",
          },
          tools: {
            type: "array",
            items: { type: "string" },
            description: "Tool names it may call (default: none but reading)",
          },
          budget_usd: {
            type: "number",
            description: "Most it may spend on model calls",
          },
        },
        required: ["prompt"],
      },
      execute: async (
        args: { prompt?: unknown; tools?: unknown; budget_usd?: unknown },
        ctx,
      ) => {
        if (typeof args.prompt !== "string" || args.prompt.trim() === "") {
          throw new Error("task needs a non-empty 'prompt'");
        }
        const tools = Array.isArray(args.tools)
          ? args.tools.filter((t): t is string => isToolName(t))
          : ["read_file", "list_directory", "glob", "grep"];
        const budget = typeof args.budget_usd === "number"
          ? args.budget_usd
          : number(ctx.config["default_budget_usd"], 0.5);
        const out = await host.agent.delegate({
          prompt: args.prompt,
          tools,
          budget_usd: budget,
          max_iterations: number(ctx.config["max_iterations"], 15),
        });
        return `[sub-agent ${out.agent}, ${out.iterations} model calls, ${out.usage.input_tokens} in / ${out.usage.output_tokens} out tokens]\n${out.text}`;
      },
    },
  },
});
