/**
 * The resources and prompts of a session's MCP capsules, offered to an
 * external MCP host next to the tools (`tool_gateway.ts`).
 *
 * They are reached through the MCP capsules' own actions (`list_resources`,
 * `read_resource`, `list_prompts`, `get_prompt`), so a read or a fetch is the
 * capsule's gated action (`mcp_resource_read` / `mcp_prompt_get`: policy,
 * approval, audit of decision and outcome) as it is for the agent.
 *
 * Security model: only MCP capsules are asked, only those of the caller's
 * `capsules` filter. A URI or prompt name is resolved to the capsule and
 * server that listed it; one nobody listed is `NOT_FOUND` (the same answer
 * for a filtered-out capsule), so a host cannot direct a read at a server
 * that did not offer the item.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import type { Runtime } from "../daemon/runtime.ts";
import type { GatewayItem } from "../api/contract.ts";

/** What the gateway lists. */
export type ItemKind = "resources" | "prompts";

const ACTIONS = {
  resources: { list: "list_resources", get: "read_resource" },
  prompts: { list: "list_prompts", get: "get_prompt" },
} as const;

/**
 * The resources or prompts of the session's MCP capsules.
 *
 * @param runtime The session's booted runtime.
 * @param kind `resources` or `prompts`.
 * @param options Capsule filter and cancellation.
 * @returns Each item as its server described it, with `capsule` and `server`.
 * @throws {KernelError} An MCP capsule's failure to list.
 */
export async function listGatewayItems(
  runtime: Runtime,
  kind: ItemKind,
  options: { capsules?: readonly string[]; signal?: AbortSignal } = {},
): Promise<GatewayItem[]> {
  const out: GatewayItem[] = [];
  for (const capsule of mcpCapsules(runtime, options.capsules)) {
    const listed = await runtime.registry.invoke(
      capsule,
      ACTIONS[kind].list,
      null,
      options.signal ? { signal: options.signal } : {},
    );
    if (!Array.isArray(listed)) continue;
    for (const item of listed) {
      if (item === null || typeof item !== "object" || Array.isArray(item)) {
        continue;
      }
      const o = item as Record<string, JsonValue>;
      const server = typeof o["server"] === "string" ? o["server"] : "";
      const key = kind === "resources" ? o["uri"] : o["name"];
      if (typeof key !== "string") continue;
      const { server: _, ...rest } = o;
      out.push({ ...rest, capsule, server } as GatewayItem);
    }
  }
  return out;
}

/**
 * Reads a resource (`kind = resources`, `key` its URI) or gets a prompt
 * (`prompts`, `key` its name) from the capsule and server that listed it.
 *
 * @param runtime The session's booted runtime.
 * @param kind `resources` or `prompts`.
 * @param key The URI or the prompt name.
 * @param options Prompt arguments, capsule filter, cancellation.
 * @returns The server's result (`ReadResourceResult` / `GetPromptResult`).
 * @throws {KernelError} `NOT_FOUND` when no capsule listed it; the gate's
 *   refusal of the capsule's `mcp_resource_read` / `mcp_prompt_get`.
 */
export async function getGatewayItem(
  runtime: Runtime,
  kind: ItemKind,
  key: string,
  options: {
    arguments?: Readonly<Record<string, string>>;
    capsules?: readonly string[];
    signal?: AbortSignal;
  } = {},
): Promise<JsonValue> {
  const items = await listGatewayItems(runtime, kind, options);
  const item = items.find((i) =>
    (kind === "resources" ? i["uri"] : i["name"]) === key
  );
  if (item === undefined) {
    throw new KernelError(
      "NOT_FOUND",
      kind === "resources"
        ? `Unknown resource '${key.slice(0, 200)}'`
        : `Unknown prompt '${key.slice(0, 200)}'`,
    );
  }
  const payload: JsonValue = kind === "resources"
    ? { uri: key, server: item.server }
    : {
      name: key,
      server: item.server,
      arguments: { ...(options.arguments ?? {}) },
    };
  return await runtime.registry.invoke(
    item.capsule as CapsuleId,
    ACTIONS[kind].get,
    payload,
    options.signal ? { signal: options.signal } : {},
  );
}

function mcpCapsules(
  runtime: Runtime,
  capsules: readonly string[] | undefined,
): CapsuleId[] {
  return runtime.registry.loaded.filter((id) =>
    (capsules === undefined || capsules.includes(id)) &&
    runtime.registry.interceptedBy(id)?.engine === "mcp"
  );
}
