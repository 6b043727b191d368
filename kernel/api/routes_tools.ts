/**
 * API routes of the tool gateway (what `astrid mcp serve` relays to an MCP
 * host), served by the {@linkcode SessionHub}:
 *
 * - `GET /v1/sessions/:id/tools[?capsule=<name>[,<name>…]]` (repeatable) →
 *   `GatewayTool[]`: the
 *   tools of the session's capsules (only those capsules' when named).
 * - `POST /v1/sessions/:id/tools/call` with `{name, arguments?, capsules?}`
 *   → an SSE stream: the session's `approval_required` /
 *   `approval_decision` events while the call waits (answer with `POST
 *   /v1/approvals/:id`), then one `result` or `error` (the gate's code and
 *   reason for a refusal). Closing the stream cancels the call.
 * - `GET …/resources`, `GET …/prompts` (same `capsule` filter) →
 *   `GatewayItem[]` of the session's MCP capsules; `POST …/resources/read`
 *   and `POST …/prompts/get` with `{key, arguments?, capsules?}` → the
 *   server's result (the capsule's gated read / fetch).
 *
 * Security model: bearer auth and the body bound (1 MiB) are the router's,
 * as for every route. The name must be a tool name (1-64 of
 * `[A-Za-z0-9_:-]`: no dot, `*` or `>` reaches another topic), the
 * arguments a JSON object, the capsule filter at most 64 capsule names;
 * anything else is `API_BAD_REQUEST` before the session is touched. The
 * call itself is gated, budgeted and audited by the gateway
 * (`kernel/turn/tool_gateway.ts`).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { ApiDeps } from "./api.ts";
import { jsonResponse, sseResponse } from "./router.ts";
import type { RouteContext, Router } from "./router.ts";
import { isToolName } from "../../sdk/agent.ts";

/** The most capsules one filter names. */
const MAX_CAPSULES = 64;
/** The longest resource URI or prompt name accepted. */
const MAX_KEY = 2_048;
/** A capsule name. */
const CAPSULE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function bad(message: string): KernelError {
  return new KernelError("API_BAD_REQUEST", message);
}

function capsulesOf(raw: readonly unknown[]): readonly string[] {
  if (
    raw.length > MAX_CAPSULES ||
    !raw.every((c) => typeof c === "string" && CAPSULE.test(c))
  ) {
    throw bad(
      `The capsule filter must name at most ${MAX_CAPSULES} capsules ([a-z0-9_-], at most 64 characters each)`,
    );
  }
  return raw as string[];
}

/**
 * Registers the tool gateway routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function toolRoutes(router: Router, deps: ApiDeps): void {
  const hub = deps.hub;
  const id = (ctx: RouteContext) => ctx.params["id"]!;
  router
    .on("sessionTools", async (ctx) => {
      return jsonResponse(await hub.tools(id(ctx), filterOf(ctx)));
    })
    .on("sessionToolCall", async (ctx) => {
      const body = await ctx.json();
      const name = body["name"];
      if (!isToolName(name)) {
        throw bad(
          "The field 'name' must be a tool name: 1-64 of [A-Za-z0-9_:-]",
        );
      }
      const args = body["arguments"] ?? {};
      if (args === null || typeof args !== "object" || Array.isArray(args)) {
        throw bad("The field 'arguments' must be a JSON object");
      }
      const rawCapsules = body["capsules"];
      if (rawCapsules !== undefined && !Array.isArray(rawCapsules)) {
        throw bad("The field 'capsules' must be an array of capsule names");
      }
      const capsules = rawCapsules === undefined
        ? undefined
        : capsulesOf(rawCapsules);
      const detach = new AbortController();
      const events = await hub.callTool(id(ctx), {
        name,
        arguments: args as Record<string, unknown>,
        ...(capsules ? { capsules } : {}),
      }, detach.signal);
      return sseResponse(events, () => detach.abort());
    });
  for (const kind of ["resources", "prompts"] as const) {
    router
      .on(
        kind === "resources" ? "sessionResources" : "sessionPrompts",
        async (ctx) => {
          const capsules = filterOf(ctx);
          return jsonResponse(await hub.items(id(ctx), kind, capsules));
        },
      )
      .on(
        kind === "resources" ? "sessionResourceRead" : "sessionPromptGet",
        async (ctx) => {
          const body = await ctx.json();
          const key = body["key"];
          if (typeof key !== "string" || key === "" || key.length > MAX_KEY) {
            throw bad(
              `The field 'key' must be a non-empty string of at most ${MAX_KEY} characters`,
            );
          }
          const args = body["arguments"] ?? {};
          if (
            args === null || typeof args !== "object" || Array.isArray(args) ||
            !Object.values(args).every((v) => typeof v === "string")
          ) {
            throw bad("The field 'arguments' must be an object of strings");
          }
          const rawCapsules = body["capsules"];
          if (rawCapsules !== undefined && !Array.isArray(rawCapsules)) {
            throw bad("The field 'capsules' must be an array of capsule names");
          }
          return jsonResponse(
            await hub.getItem(id(ctx), kind, {
              key,
              arguments: args as Record<string, string>,
              ...(rawCapsules === undefined
                ? {}
                : { capsules: capsulesOf(rawCapsules) }),
            }, ctx.request.signal),
          );
        },
      );
  }
}

function filterOf(ctx: RouteContext): readonly string[] | undefined {
  const named = ctx.url.searchParams.getAll("capsule")
    .flatMap((c) => c.split(","));
  return named.length === 0 ? undefined : capsulesOf(named);
}
