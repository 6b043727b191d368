/**
 * Allowance patterns for the MCP requests other than tool calls: what a
 * Session or Workspace approval of a resource read, prompt get, elicitation
 * or sampling request lets through again without asking.
 *
 * Security model: every pattern is bound to one server and is as narrow as
 * the approved request: a resource read covers the same server and the same
 * URI (exact string), a prompt the same server and name, an elicitation the
 * same server and mode — and in `url` mode the same host, as the URL parser
 * (and so the browser) sees it — and sampling the same server (any size:
 * every request still reserves its own budget). A pattern never matches an
 * action of another type or server, and a `url` pattern without a host, or
 * an elicitation whose URL has no valid host, matches nothing. Tool-call
 * patterns (`exact_tool`, `server_tools`) never cover these requests.
 *
 * @module
 */
import type { Action } from "../action.ts";
import { elicitationUrl } from "../mcp_request.ts";

/** An allowance pattern for an MCP request other than a tool call. */
export type McpRequestPattern =
  | {
    /** One resource (exact URI) of one server. */
    readonly type: "mcp_resource";
    readonly server: string;
    readonly uri: string;
  }
  | {
    /** One prompt of one server. */
    readonly type: "mcp_prompt";
    readonly server: string;
    readonly name: string;
  }
  | {
    /** Elicitations of one server in one mode; `url` mode: to one host. */
    readonly type: "mcp_elicitation";
    readonly server: string;
    readonly mode: "form" | "url";
    /** The canonical host, in `url` mode only. */
    readonly host?: string;
  }
  | {
    /** Sampling requests of one server. */
    readonly type: "mcp_sampling";
    readonly server: string;
  }
  | {
    /**
     * One permission check of one server's permission broker, exactly: the
     * permission (`read`, `write`, `net`, `env`, `import`) and its value.
     */
    readonly type: "mcp_permission";
    readonly server: string;
    readonly permission: ReusablePermission;
    readonly value: string;
  };

/** The broker permissions an approval may be reused for (never run, ffi, sys). */
export type ReusablePermission = "read" | "write" | "net" | "env" | "import";

const REUSABLE: readonly string[] = ["read", "write", "net", "env", "import"];

/**
 * The narrowest MCP request pattern covering an action, or `null` when the
 * action is not such a request (or is an elicitation with an invalid URL).
 *
 * @param action The approved action.
 * @returns The pattern, or `null`.
 *
 * @example A URL elicitation is approved for its host only
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpPatternFor } from "./mcp_pattern.ts";
 * assert.deepEqual(
 *   mcpPatternFor({ type: "mcp_elicitation", server: "gh", mode: "url", message: "Log in", url: "https://GitHub.com/login" }),
 *   { type: "mcp_elicitation", server: "gh", mode: "url", host: "github.com" },
 * );
 * ```
 */
export function mcpPatternFor(action: Action): McpRequestPattern | null {
  switch (action.type) {
    case "mcp_resource_read":
      return { type: "mcp_resource", server: action.server, uri: action.uri };
    case "mcp_prompt_get":
      return { type: "mcp_prompt", server: action.server, name: action.name };
    case "mcp_elicitation": {
      if (action.mode === "form") {
        return { type: "mcp_elicitation", server: action.server, mode: "form" };
      }
      const url = action.mode === "url" && typeof action.url === "string"
        ? elicitationUrl(action.url)
        : null;
      return url?.ok
        ? {
          type: "mcp_elicitation",
          server: action.server,
          mode: "url",
          host: url.host,
        }
        : null;
    }
    case "mcp_sampling":
      return { type: "mcp_sampling", server: action.server };
    case "mcp_permission_check":
      // "Everything" (no value) and run/ffi/sys are never reused.
      return action.value !== null && REUSABLE.includes(action.permission)
        ? {
          type: "mcp_permission",
          server: action.server,
          permission: action.permission as ReusablePermission,
          value: action.value,
        }
        : null;
    default:
      return null;
  }
}

/**
 * Tells whether an MCP request pattern covers an action.
 *
 * @param pattern The pattern.
 * @param action The action asking.
 * @returns `true` when it matches.
 *
 * @example A session allowance for server A does not cover server B
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesMcpPattern } from "./mcp_pattern.ts";
 * const p = { type: "mcp_resource", server: "a", uri: "mem://notes" } as const;
 * assert.ok(matchesMcpPattern(p, { type: "mcp_resource_read", server: "a", uri: "mem://notes" }));
 * assert.ok(!matchesMcpPattern(p, { type: "mcp_resource_read", server: "b", uri: "mem://notes" }));
 * assert.ok(!matchesMcpPattern(p, { type: "mcp_resource_read", server: "a", uri: "mem://secrets" }));
 * ```
 */
export function matchesMcpPattern(
  pattern: McpRequestPattern,
  action: Action,
): boolean {
  switch (pattern.type) {
    case "mcp_resource":
      return action.type === "mcp_resource_read" &&
        action.server === pattern.server && action.uri === pattern.uri;
    case "mcp_prompt":
      return action.type === "mcp_prompt_get" &&
        action.server === pattern.server && action.name === pattern.name;
    case "mcp_elicitation": {
      if (
        action.type !== "mcp_elicitation" ||
        action.server !== pattern.server || action.mode !== pattern.mode
      ) return false;
      if (pattern.mode === "form") return action.url === undefined;
      if (pattern.host === undefined || typeof action.url !== "string") {
        return false;
      }
      const url = elicitationUrl(action.url);
      return url.ok && url.host === pattern.host;
    }
    case "mcp_sampling":
      return action.type === "mcp_sampling" && action.server === pattern.server;
    case "mcp_permission":
      return action.type === "mcp_permission_check" &&
        action.server === pattern.server &&
        action.permission === pattern.permission &&
        action.value === pattern.value;
  }
}

/**
 * The display form: `mcp-resource://s/uri`, `mcp-prompt://s/name`,
 * `mcp-elicit://s/form`, `mcp-elicit://s/url/host`, `mcp-sampling://s` (the
 * resource strings of the matching actions).
 *
 * @param pattern The pattern.
 * @returns The display string.
 *
 * @example Describe a sampling allowance
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeMcpPattern } from "./mcp_pattern.ts";
 * assert.equal(describeMcpPattern({ type: "mcp_sampling", server: "s" }), "mcp-sampling://s");
 * ```
 */
export function describeMcpPattern(pattern: McpRequestPattern): string {
  switch (pattern.type) {
    case "mcp_resource":
      return `mcp-resource://${pattern.server}/${pattern.uri}`;
    case "mcp_prompt":
      return `mcp-prompt://${pattern.server}/${pattern.name}`;
    case "mcp_elicitation":
      return `mcp-elicit://${pattern.server}/${pattern.mode}${
        pattern.host === undefined ? "" : `/${pattern.host}`
      }`;
    case "mcp_sampling":
      return `mcp-sampling://${pattern.server}`;
    case "mcp_permission":
      return `mcp-perm://${pattern.server}:${pattern.permission}/${pattern.value}`;
  }
}

/** How {@linkcode parseMcpPattern} reads fields and reports bad ones. */
export interface PatternFields {
  /** Reads a non-empty string field; throws when it is missing or malformed. */
  text(field: string): string;
  /** Throws for a malformed field. */
  bad(field: string): never;
}

/**
 * Parses an MCP request pattern from an untrusted record whose `type` is one
 * of the {@linkcode McpRequestPattern} tags.
 *
 * @param o The record.
 * @param fields Field reader and error reporter (the caller's error type).
 * @returns The pattern, or `null` when `o.type` is not an MCP request tag.
 * @throws {KernelError} `INVALID_INPUT` (from `fields`, as `parseAllowancePattern()`
 * uses it) for a missing field, an unknown mode, or a host that contradicts
 * the mode.
 *
 * @example Parse a URL elicitation pattern, refuse one without a host
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMcpPattern } from "./mcp_pattern.ts";
 * const bad = (field: string): never => {
 *   throw new TypeError(field);
 * };
 * const reader = (o: Record<string, unknown>) => ({
 *   bad,
 *   text: (field: string): string =>
 *     typeof o[field] === "string" && o[field] !== "" ? o[field] : bad(field),
 * });
 * const ok = { type: "mcp_elicitation", server: "s", mode: "url", host: "a.io" };
 * assert.deepEqual(parseMcpPattern(ok, reader(ok)), ok);
 * const noHost = { type: "mcp_elicitation", server: "s", mode: "url" };
 * assert.throws(() => parseMcpPattern(noHost, reader(noHost)), TypeError);
 * ```
 */
export function parseMcpPattern(
  o: Record<string, unknown>,
  fields: PatternFields,
): McpRequestPattern | null {
  const { text, bad } = fields;
  switch (o["type"]) {
    case "mcp_resource":
      return { type: "mcp_resource", server: text("server"), uri: text("uri") };
    case "mcp_prompt":
      return {
        type: "mcp_prompt",
        server: text("server"),
        name: text("name"),
      };
    case "mcp_elicitation": {
      const server = text("server");
      if (o["mode"] === "url") {
        return {
          type: "mcp_elicitation",
          server,
          mode: "url",
          host: text("host"),
        };
      }
      if (o["mode"] !== "form") return bad("pattern.mode");
      if (o["host"] !== undefined) return bad("pattern.host");
      return { type: "mcp_elicitation", server, mode: "form" };
    }
    case "mcp_sampling":
      return { type: "mcp_sampling", server: text("server") };
    case "mcp_permission": {
      const permission = text("permission");
      if (!REUSABLE.includes(permission)) return bad("pattern.permission");
      return {
        type: "mcp_permission",
        server: text("server"),
        permission: permission as ReusablePermission,
        value: text("value"),
      };
    }
    default:
      return null;
  }
}
