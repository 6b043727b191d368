/**
 * {@linkcode AllowancePattern}: what a Session or Workspace approval lets
 * through again without asking (reference §6.6), and how it matches an
 * {@linkcode Action}.
 *
 * Security model: matching is exact or glob-based and fails closed. A file
 * path with a `..` segment or a NUL never matches; an invalid glob matches
 * nothing; command lines keep their arguments and never match when they
 * contain a shell metacharacter (see `command_line.ts`). Unlike 0.5.1,
 * `capsule_net_bind` is matchable (capability `net_bind`), and there is no
 * `custom` pattern (it never matched anything). MCP requests other than tool
 * calls have their own narrow patterns (`mcp_resource`, `mcp_prompt`,
 * `mcp_elicitation`, `mcp_sampling`; see `mcp_pattern.ts`).
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import { compileGlob } from "../../core/glob.ts";
import type { Action } from "../action.ts";
import { matchesCommandPattern } from "./command_line.ts";
import {
  describeMcpPattern,
  matchesMcpPattern,
  type McpRequestPattern,
} from "./mcp_pattern.ts";

/** The permissions of file patterns. */
export type FilePermission = "read" | "write" | "delete";

/** The permissions of `workspace_relative` patterns. */
export type WorkspacePermission = FilePermission | "invoke" | "execute";

/** An allowance pattern, tagged by `type` (wire form: snake_case JSON). */
export type AllowancePattern =
  | {
    /** One MCP tool of one server. */
    readonly type: "exact_tool";
    readonly server: string;
    readonly tool: string;
  }
  | {
    /** Every tool of one MCP server. */
    readonly type: "server_tools";
    readonly server: string;
  }
  | {
    /** File actions of one permission on paths matching a glob. */
    readonly type: "file_pattern";
    readonly pattern: string;
    readonly permission: FilePermission;
    /** With it: only that capsule's `capsule_file_access`; without: the kernel's `file_*` actions. */
    readonly capsule_id?: string;
  }
  | {
    /** Network requests to one host; any port when `ports` is absent. */
    readonly type: "network_host";
    readonly host: string;
    readonly ports?: readonly number[];
    /** With it: only that capsule's `capsule_http_request` to the host; without: `network_request`. */
    readonly capsule_id?: string;
  }
  | {
    /**
     * Command lines matching a glob (arguments included). With `capsule_id`
     * only that capsule's `capsule_process_spawn`; without, also
     * `execute_command`.
     */
    readonly type: "command_pattern";
    readonly command: string;
    readonly capsule_id?: string;
  }
  | {
    /**
     * A glob relative to the workspace root: files (read/write/delete), MCP
     * `server/tool` names (invoke) or command lines (execute).
     */
    readonly type: "workspace_relative";
    readonly pattern: string;
    readonly permission: WorkspacePermission;
  }
  | {
    /** One capability of one capsule (`http_request`, `file_read`, `net_bind`, …). */
    readonly type: "capsule_capability";
    readonly capsule_id: string;
    readonly capability: string;
  }
  | {
    /** Every capability-style action of one capsule (not process spawns). */
    readonly type: "capsule_wildcard";
    readonly capsule_id: string;
  }
  | McpRequestPattern;

/** The `type` tags of {@linkcode AllowancePattern}. */
export type AllowancePatternType = AllowancePattern["type"];

/** Options of {@linkcode matchesAllowancePattern}. */
export interface MatchOptions {
  /** The workspace root of the caller; `workspace_relative` needs it. */
  readonly workspace?: string;
}

const FILE_PERMISSION: Readonly<Record<string, FilePermission>> = {
  "file_read": "read",
  "file_write": "write",
  "file_delete": "delete",
};

/**
 * The capsule and capability an action is matched by in `capsule_*`
 * patterns: `capsule_execution` ⇒ its capability, `capsule_http_request` ⇒
 * `http_request`, `capsule_file_access` ⇒ `file_<mode>`, `capsule_net_bind` ⇒
 * `net_bind`; anything else ⇒ `null`.
 *
 * @param action The action.
 * @returns The pair, or `null`.
 *
 * @example The net-bind capability
 * ```ts
 * import assert from "node:assert/strict";
 * import { capsuleCapabilityOf } from "./allowance_pattern.ts";
 * assert.deepEqual(
 *   capsuleCapabilityOf({ type: "capsule_net_bind", capsule_id: "web" }),
 *   { capsule_id: "web", capability: "net_bind" },
 * );
 * ```
 */
export function capsuleCapabilityOf(
  action: Action,
): { capsule_id: string; capability: string } | null {
  switch (action.type) {
    case "capsule_execution":
      return { capsule_id: action.capsule_id, capability: action.capability };
    case "mcp_host_tool_call":
      return {
        capsule_id: action.capsule_id,
        capability: `tool:${action.tool}`,
      };
    case "capsule_http_request":
      return { capsule_id: action.capsule_id, capability: "http_request" };
    case "capsule_file_access":
      return {
        capsule_id: action.capsule_id,
        capability: `file_${action.mode}`,
      };
    case "capsule_net_bind":
      return { capsule_id: action.capsule_id, capability: "net_bind" };
    default:
      return null;
  }
}

/**
 * Normalises a host name for comparison: lower case, without one trailing dot.
 *
 * @param host A DNS name or IP literal.
 * @returns The comparable form.
 *
 * @example Hosts compare case-insensitively
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeHost } from "./allowance_pattern.ts";
 * assert.equal(normalizeHost("API.Example.com."), "api.example.com");
 * ```
 */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * Tells whether an allowance pattern covers an action.
 *
 * @param pattern The pattern.
 * @param action The action asking.
 * @param options The caller's workspace root (for `workspace_relative`).
 * @returns `true` when it matches.
 *
 * @example Match a file pattern, refuse traversal
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesAllowancePattern } from "./allowance_pattern.ts";
 * const p = { type: "file_pattern", pattern: "/ws/src/**", permission: "write" } as const;
 * assert.ok(matchesAllowancePattern(p, { type: "file_write", path: "/ws/src/a.ts" }));
 * assert.ok(!matchesAllowancePattern(p, { type: "file_write", path: "/ws/src/../../etc/passwd" }));
 * assert.ok(!matchesAllowancePattern(p, { type: "file_delete", path: "/ws/src/a.ts" }));
 * ```
 */
export function matchesAllowancePattern(
  pattern: AllowancePattern,
  action: Action,
  options: MatchOptions = {},
): boolean {
  switch (pattern.type) {
    case "exact_tool":
      return action.type === "mcp_tool_call" &&
        action.server === pattern.server && action.tool === pattern.tool;
    case "server_tools":
      return action.type === "mcp_tool_call" &&
        action.server === pattern.server;
    case "file_pattern":
      if (pattern.capsule_id !== undefined) {
        return action.type === "capsule_file_access" &&
          action.capsule_id === pattern.capsule_id &&
          action.mode === pattern.permission &&
          globMatches(pattern.pattern, action.path);
      }
      return FILE_PERMISSION[action.type] === pattern.permission &&
        "path" in action && globMatches(pattern.pattern, action.path);
    case "network_host":
      if (pattern.capsule_id !== undefined) {
        if (
          action.type !== "capsule_http_request" ||
          action.capsule_id !== pattern.capsule_id
        ) return false;
        const target = urlHostPort(action.url);
        return target !== null &&
          normalizeHost(target.host) === normalizeHost(pattern.host) &&
          (pattern.ports === undefined || pattern.ports.includes(target.port));
      }
      return action.type === "network_request" &&
        normalizeHost(action.host) === normalizeHost(pattern.host) &&
        (pattern.ports === undefined || pattern.ports.includes(action.port));
    case "command_pattern":
      return matchesCommand(pattern, action);
    case "workspace_relative":
      return options.workspace !== undefined &&
        matchesWorkspaceRelative(pattern, action, options.workspace);
    case "capsule_capability": {
      const cap = capsuleCapabilityOf(action);
      return cap !== null && cap.capsule_id === pattern.capsule_id &&
        cap.capability === pattern.capability;
    }
    case "capsule_wildcard":
      return capsuleCapabilityOf(action)?.capsule_id === pattern.capsule_id;
    case "mcp_resource":
    case "mcp_prompt":
    case "mcp_elicitation":
    case "mcp_sampling":
    case "mcp_permission":
      return matchesMcpPattern(pattern, action);
  }
}

/**
 * A short display form: `mcp://s/t`, `mcp://s/*`, `file:P (perm)`,
 * `net:H:[p1,p2]` / `net:H:*`, `cmd:C`, `workspace:P (perm)`,
 * `capsule://id:cap`, `capsule://id:*`, and for MCP requests the resource
 * strings (`mcp-resource://s/uri`, `mcp-prompt://s/name`,
 * `mcp-elicit://s/form`, `mcp-elicit://s/url/host`, `mcp-sampling://s`).
 *
 * @param pattern The pattern.
 * @returns The display string.
 *
 * @example Describe patterns
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeAllowancePattern } from "./allowance_pattern.ts";
 * assert.equal(describeAllowancePattern({ type: "network_host", host: "a.io", ports: [443] }), "net:a.io:[443]");
 * assert.equal(describeAllowancePattern({ type: "command_pattern", command: "git status" }), "cmd:git status");
 * ```
 */
export function describeAllowancePattern(pattern: AllowancePattern): string {
  switch (pattern.type) {
    case "exact_tool":
      return `mcp://${pattern.server}/${pattern.tool}`;
    case "server_tools":
      return `mcp://${pattern.server}/*`;
    case "file_pattern":
      return `file:${pattern.pattern} (${pattern.permission})`;
    case "network_host":
      return `net:${pattern.host}:${
        pattern.ports === undefined ? "*" : `[${pattern.ports.join(",")}]`
      }`;
    case "command_pattern":
      return pattern.capsule_id === undefined
        ? `cmd:${pattern.command}`
        : `capsule://${pattern.capsule_id}:cmd:${pattern.command}`;
    case "workspace_relative":
      return `workspace:${pattern.pattern} (${pattern.permission})`;
    case "capsule_capability":
      return `capsule://${pattern.capsule_id}:${pattern.capability}`;
    case "capsule_wildcard":
      return `capsule://${pattern.capsule_id}:*`;
    case "mcp_resource":
    case "mcp_prompt":
    case "mcp_elicitation":
    case "mcp_sampling":
    case "mcp_permission":
      return describeMcpPattern(pattern);
  }
}

function matchesCommand(
  pattern: Extract<AllowancePattern, { type: "command_pattern" }>,
  action: Action,
): boolean {
  if (action.type === "execute_command") {
    return pattern.capsule_id === undefined &&
      matchesCommandPattern(pattern.command, action.command, action.args);
  }
  if (action.type === "capsule_process_spawn") {
    return (pattern.capsule_id === undefined ||
      pattern.capsule_id === action.capsule_id) &&
      matchesCommandPattern(pattern.command, action.command, action.args);
  }
  return false;
}

function matchesWorkspaceRelative(
  pattern: Extract<AllowancePattern, { type: "workspace_relative" }>,
  action: Action,
  workspace: string,
): boolean {
  switch (pattern.permission) {
    case "invoke":
      return action.type === "mcp_tool_call" &&
        globMatches(pattern.pattern, `${action.server}/${action.tool}`);
    case "execute":
      return matchesCommand(
        { type: "command_pattern", command: pattern.pattern },
        action,
      );
    default: {
      if (FILE_PERMISSION[action.type] !== pattern.permission) return false;
      if (!("path" in action) || workspace === "") return false;
      const root = workspace.endsWith("/") ? workspace : `${workspace}/`;
      return action.path.startsWith(root) &&
        globMatches(pattern.pattern, action.path.slice(root.length));
    }
  }
}

function globMatches(pattern: string, subject: string): boolean {
  try {
    return compileGlob(pattern).matches(subject);
  } catch (err) {
    // silent-ok: an invalid pattern (GLOB_INVALID) grants nothing.
    if (KernelError.is(err, "GLOB_INVALID")) return false;
    throw err;
  }
}

/**
 * The host and effective port of an http(s) URL, or `null` when unparsable.
 *
 * @param url The URL.
 * @returns Host (no brackets) and port (explicit, else 443/80).
 */
export function urlHostPort(
  url: string,
): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const port = u.port !== ""
      ? Number(u.port)
      : u.protocol === "https:"
      ? 443
      : u.protocol === "http:"
      ? 80
      : NaN;
    return Number.isNaN(port)
      ? null
      : { host: u.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return null; // silent-ok: an unparsable URL matches no allowance
  }
}
