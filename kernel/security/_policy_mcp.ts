/**
 * The MCP request rules of `policy.ts` (private to `kernel/security/`):
 * resource reads, prompt gets, elicitation and sampling. See the module doc
 * of `policy.ts` for the rules.
 *
 * @module
 */
import type { Action } from "./action.ts";
import { mcpRequestProblem } from "./mcp_request.ts";
import type { PolicyDecision } from "./policy_config.ts";
import {
  ALLOWED,
  approval,
  block,
  type Blocked,
} from "./_policy_permission.ts";

/** The MCP requests other than tool calls. */
export type McpRequestAction = Extract<
  Action,
  {
    type:
      | "mcp_resource_read"
      | "mcp_prompt_get"
      | "mcp_elicitation"
      | "mcp_sampling";
  }
>;

/** The checks of `SecurityPolicy` the MCP request rules use. */
export interface McpRules {
  /** Whether `blockedTools` has this server. */
  blockedServer(server: string): boolean;
  /** Whether `approvalRequiredTools` has this server. */
  approvalServer(server: string): boolean;
  /** An http(s) URL: scheme, then host rules. */
  url(url: string): Blocked | null;
}

/**
 * Checks an MCP request other than a tool call.
 *
 * @param a The action.
 * @param rules The policy's checks.
 * @returns The verdict.
 */
export function checkMcpRequest(
  a: McpRequestAction,
  rules: McpRules,
): PolicyDecision {
  if (rules.blockedServer(a.server)) {
    return {
      ...block(`MCP server '${a.server}' is blocked`, "blocked_tools"),
      entry: a.server,
    };
  }
  const problem = mcpRequestProblem(a);
  if (problem !== null) return block(problem, "invalid_action");
  switch (a.type) {
    case "mcp_resource_read":
    case "mcp_prompt_get":
      return rules.approvalServer(a.server) ? approval("low") : ALLOWED;
    case "mcp_elicitation":
      if (a.mode === "url" && a.url !== undefined) {
        return rules.url(a.url) ?? approval("high");
      }
      return approval("medium");
    case "mcp_sampling":
      return approval("medium");
    default: {
      const unknown: { type?: unknown } = a;
      return block(
        `Unknown MCP request ${JSON.stringify(unknown.type)}`,
        "invalid_action",
      );
    }
  }
}
