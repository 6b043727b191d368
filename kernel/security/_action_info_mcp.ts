/**
 * The MCP request part of `action_info.ts` (private to `kernel/security/`):
 * risk, summary and resource of the requests an MCP server makes through the
 * kernel — tool calls, resource reads, prompts, elicitation and sampling.
 *
 * @module
 */
import type { Action } from "./action.ts";
import type { Collect, Draft } from "./_action_info_permission.ts";
import { elicitationUrl, mcpRequestProblem } from "./mcp_request.ts";

/** The MCP actions described here. */
export type McpAction = Extract<
  Action,
  {
    type:
      | "mcp_tool_call"
      | "mcp_resource_read"
      | "mcp_prompt_get"
      | "mcp_elicitation"
      | "mcp_sampling";
  }
>;

/** Longest elicitation message excerpt shown in a summary. */
const SHOWN_MESSAGE = 120;

/**
 * Describes an MCP request; a server-supplied field outside the limits of
 * `mcp_request.ts` is recorded as a problem (so the action maps no resource).
 *
 * @param a The action.
 * @param c Where to record hosts and problems.
 * @returns Its draft.
 */
export function mcpRequest(a: McpAction, c: Collect): Draft {
  const problem = mcpRequestProblem(a);
  if (problem !== null) c.problem(problem);
  switch (a.type) {
    case "mcp_tool_call":
      return {
        risk: "medium",
        summary: `MCP tool call: ${a.server}/${a.tool}`,
        resource: [`mcp://${a.server}:${a.tool}`, "invoke"],
        names: [a.server, a.tool],
      };
    case "mcp_resource_read":
      return {
        risk: "low",
        summary: `Read MCP resource ${a.uri} from server '${a.server}'`,
        resource: [`mcp-resource://${a.server}/${a.uri}`, "read"],
        isRead: true,
        names: [a.server],
      };
    case "mcp_prompt_get":
      return {
        risk: "low",
        summary: `Get MCP prompt '${a.name}' from server '${a.server}'`,
        resource: [`mcp-prompt://${a.server}/${a.name}`, "read"],
        isRead: true,
        names: [a.server, a.name],
      };
    case "mcp_elicitation":
      return elicitation(a, c);
    case "mcp_sampling":
      return {
        risk: "medium",
        summary: `MCP server '${a.server}' asks the LLM for up to ${
          String(a.max_tokens)
        } tokens from a ${String(a.prompt_chars)}-character prompt${
          a.model === undefined ? "" : ` (model ${a.model})`
        }`,
        resource: [`mcp-sampling://${a.server}`, "invoke"],
        names: [a.server],
      };
  }
}

function elicitation(
  a: Extract<Action, { type: "mcp_elicitation" }>,
  c: Collect,
): Draft {
  if (a.mode === "url" && typeof a.url === "string") {
    const url = elicitationUrl(a.url);
    if (url.ok) c.host(url.host, a.url);
    return {
      risk: "high",
      summary: `MCP server '${a.server}' asks you to open ${
        url.ok ? url.shown : "an invalid URL"
      }`,
      ...(url.ok
        ? { resource: [`mcp-elicit://${a.server}/url/${url.host}`, "invoke"] }
        : {}),
      names: url.ok ? [a.server, url.host] : [a.server],
    };
  }
  const text = typeof a.message === "string" ? a.message : "";
  const flat = text.replace(/[\p{Cc}\p{Cf}\p{Z}\s]+/gu, " ").trim();
  const shown = flat.length > SHOWN_MESSAGE
    ? `${flat.slice(0, SHOWN_MESSAGE)}…`
    : flat;
  return {
    risk: a.mode === "url" ? "high" : "medium",
    summary: `MCP server '${a.server}' asks you for input: "${shown}"`,
    resource: [`mcp-elicit://${a.server}/${a.mode}`, "invoke"],
    names: [a.server, String(a.mode)],
  };
}
