/**
 * What the gate needs to know about an action: its risk, a one-line human
 * summary, the capability resource it maps to, and the paths and hosts it
 * touches.
 *
 * Risks and summaries follow reference §6.2; ours: `file_write` "Write file:
 * P" (high); `capsule_process_spawn` "Capsule 'X' wants to run: cmd a b"
 * (high); `mcp_permission_check` "MCP server 'S' wants PERM access to V"
 * (`read`/`import` low, `env`/`write`/`net` medium, `run`/`ffi`/`sys`
 * critical); `overlay_commit` "Commit N file(s) to the workspace" (high);
 * `secret_use` "Capsule 'X' wants to use secret NAME for HOST" (high).
 *
 * Resources follow the §6.2 table, plus: `file_write` ⇒ `file://{path}`
 * write; `capsule_process_spawn` ⇒ `exec://{command}` execute;
 * `mcp_permission_check` ⇒ `mcp-perm://{server}:{perm}` followed by the value
 * (a path as is, anything else after a `/`, nothing when the value is null),
 * with permission read for `read`, write for `write`, execute for `run` and
 * invoke otherwise; `overlay_commit` ⇒ `overlay://{session_id}` write;
 * `secret_use` ⇒ `secret://{capsule_id}:{name}` invoke.
 *
 * MCP requests (`_action_info_mcp.ts`): `mcp_resource_read` "Read MCP
 * resource URI from server 'S'" (low) ⇒ `mcp-resource://{server}/{uri}`
 * read; `mcp_prompt_get` "Get MCP prompt 'N' from server 'S'" (low) ⇒
 * `mcp-prompt://{server}/{name}` read; `mcp_elicitation` form "MCP server
 * 'S' asks you for input: \"MSG\"" (medium, message flattened to one line
 * and cut at 120 characters) ⇒ `mcp-elicit://{server}/form` invoke, url
 * "MCP server 'S' asks you to open https://HOST/…" (high; the host the URL
 * parser sees, path elided) ⇒ `mcp-elicit://{server}/url/{host}` invoke;
 * `mcp_sampling` "MCP server 'S' asks the LLM for up to N tokens from a
 * P-character prompt" (+ " (model M)"; medium) ⇒ `mcp-sampling://{server}`
 * invoke. Resource reads and prompt gets are reads. `mcp_tool_call`'s
 * `args_hash` is not part of its resource. Fields outside the limits of
 * `mcp_request.ts` make the action invalid.
 *
 * Security model: paths are canonicalised by `canonicalizePath()` before they
 * enter a resource or `paths`. An action with an invalid path (relative,
 * `..`, NUL, too long) or an invalid host has no resource, leaves that path
 * or host out, and says why in `invalid`; `SecurityPolicy` blocks it. No
 * resource ever contains a `..` segment or a NUL, and the names in it
 * (server, tool, capsule, capability, session, secret) must be non-empty,
 * not `.` or `..`, and free of `/`, `\`, `:` and NUL, else there is no resource (so
 * `mcp://a:b:c` cannot mean two different server/tool pairs).
 * Resources are subjects, not
 * patterns: a caller turning one into a token pattern must escape `*`, `?`,
 * `[` and `\`.
 *
 * @module
 */
import type { Action, ActionType, Permission, RiskLevel } from "./action.ts";
import { canonicalizePath } from "./path_rules.ts";
import { hostFromUrl } from "./net_address.ts";
import { mcpRequest } from "./_action_info_mcp.ts";
import {
  type Collect,
  type Draft,
  hostOf,
  permissionCheck,
} from "./_action_info_permission.ts";

/** The capability resource and permission an action maps to. */
export interface ResourceMapping {
  /** E.g. `file:///ws/a.txt`, `mcp://github:list_issues`. */
  readonly resource: string;
  /** The one permission a token must carry. */
  readonly permission: Permission;
}

/** Everything {@linkcode actionInfo} derives from an action. */
export interface ActionInfo {
  /** The action's `type` tag. */
  readonly type: ActionType;
  /** How dangerous it is. */
  readonly risk: RiskLevel;
  /** One line for humans (approval prompts, audit). */
  readonly summary: string;
  /** The token resource, or `null` (no mapping, or invalid input). */
  readonly resource: ResourceMapping | null;
  /** Whether it only reads (`file_read`, capsule read, MCP `read`, MCP resource read and prompt get). */
  readonly isRead: boolean;
  /** Canonical file-system paths it touches (invalid ones left out). */
  readonly paths: readonly string[];
  /** Canonical hosts it contacts, or asks the human to open (invalid ones left out). */
  readonly hosts: readonly string[];
  /** Why a path, host or other field of the action is invalid; `null` when all are valid. */
  readonly invalid: string | null;
}

/**
 * Derives risk, summary, resource, paths and hosts of an action.
 *
 * @param action The action.
 * @returns Its {@linkcode ActionInfo}.
 * @throws {TypeError} When `action.type` is unknown.
 *
 * @example A file read and a traversal attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionInfo } from "./action_info.ts";
 * const info = actionInfo({ type: "file_read", path: "/ws//a.txt" });
 * assert.equal(info.summary, "Read: /ws//a.txt");
 * assert.deepEqual(info.resource, { resource: "file:///ws/a.txt", permission: "read" });
 * assert.deepEqual(info.paths, ["/ws/a.txt"]);
 * const bad = actionInfo({ type: "file_read", path: "/ws/../etc/passwd" });
 * assert.equal(bad.resource, null);
 * assert.notEqual(bad.invalid, null);
 * ```
 */
export function actionInfo(action: Action): ActionInfo {
  const paths: string[] = [];
  const hosts: string[] = [];
  const problems: string[] = [];
  const path = (p: string): string | null => {
    const c = canonicalizePath(p);
    if (!c.ok) problems.push(c.reason);
    else paths.push(c.path);
    return c.ok ? c.path : null;
  };
  const host = (h: string | null, raw: string): void => {
    if (h === null) problems.push(`Cannot find a valid host in '${raw}'`);
    else hosts.push(h);
  };
  const draft = describe(action, {
    path,
    host,
    problem: (m) => problems.push(m),
  });
  const resource = draft.resource === undefined || problems.length > 0 ||
      !safeResource(draft.resource[0]) || !(draft.names ?? []).every(safeName)
    ? null
    : { resource: draft.resource[0], permission: draft.resource[1] };
  return {
    type: action.type,
    risk: draft.risk,
    summary: draft.summary,
    resource,
    isRead: draft.isRead === true,
    paths,
    hosts,
    invalid: problems.length > 0 ? problems.join("; ") : null,
  };
}

function describe(a: Action, c: Collect): Draft {
  const { path, host } = c;
  switch (a.type) {
    case "file_read":
      return file("Read", a.path, "read", path(a.path), true);
    case "file_write":
      return file("Write file", a.path, "write", path(a.path), false);
    case "file_delete":
      return file("Delete file", a.path, "delete", path(a.path), false);
    case "execute_command":
      return {
        risk: "high",
        summary: `Execute: ${commandLine(a.command, a.args)}`,
        resource: [`exec://${a.command}`, "execute"],
      };
    case "network_request":
      host(hostOf(a.host), a.host);
      if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) {
        c.problem(`Port ${a.port} is not a valid TCP port`);
      }
      return {
        risk: "medium",
        summary: `Network request to ${a.host}:${a.port}`,
        resource: [`net://${hostOf(a.host) ?? a.host}:${a.port}`, "invoke"],
      };
    case "transmit_data":
      if (a.destination.includes("://")) {
        host(hostFromUrl(a.destination), a.destination);
      } else if (hostOf(a.destination) !== null) {
        host(hostOf(a.destination), a.destination);
      }
      return {
        risk: "high",
        summary: `Transmit ${a.data_type} to ${a.destination}`,
      };
    case "financial_transaction":
      return {
        risk: "critical",
        summary: `Financial transaction: ${a.amount} to ${a.recipient}`,
      };
    case "access_control_change":
      return {
        risk: "critical",
        summary: `Access control change on ${a.resource}: ${a.change}`,
      };
    case "capability_grant":
      return {
        risk: "high",
        summary: `Grant capability: [${
          a.permissions.join(", ")
        }] on ${a.resource_pattern}`,
      };
    case "mcp_tool_call":
    case "mcp_resource_read":
    case "mcp_prompt_get":
    case "mcp_elicitation":
    case "mcp_sampling":
      return mcpRequest(a, c);
    case "capsule_execution":
      return capsule(
        a.capsule_id,
        `invoke capability '${a.capability}'`,
        a.capability,
      );
    case "capsule_http_request": {
      // Narrower than 0.5.1 (`capsule://id:http_request`): an Allow Always for
      // one host must not grant the capsule every host.
      const h = hostFromUrl(a.url);
      host(h, a.url);
      const draft = capsule(
        a.capsule_id,
        `${a.method} ${a.url}`,
        "http_request",
      );
      return h !== null && safeName(h)
        ? {
          ...draft,
          resource: [`capsule://${a.capsule_id}:http_request/${h}`, "invoke"],
        }
        : { risk: draft.risk, summary: draft.summary };
    }
    case "capsule_file_access": {
      // Narrower than 0.5.1: the resource names the canonical path, so an
      // Allow Always for one file does not grant every file of that mode.
      path(a.path);
      const c = canonicalizePath(a.path);
      const draft = capsule(
        a.capsule_id,
        `${a.mode} ${a.path}`,
        `file_${a.mode}`,
      );
      return c.ok
        ? {
          ...draft,
          resource: [
            `capsule://${a.capsule_id}:file_${a.mode}${c.path}`,
            "invoke",
          ],
          isRead: a.mode === "read",
        }
        : {
          risk: draft.risk,
          summary: draft.summary,
          isRead: a.mode === "read",
        };
    }
    case "mcp_host_tool_call":
      return {
        risk: "medium",
        summary:
          `An MCP host calls tool '${a.tool}' of capsule '${a.capsule_id}'`,
        resource: [`mcp-host://${a.capsule_id}/${a.tool}`, "invoke"],
        names: [a.capsule_id],
      };
    case "capsule_net_bind":
      return {
        risk: "high",
        summary:
          `Capsule '${a.capsule_id}' wants to accept socket connections (net_bind)`,
      };
    case "capsule_process_spawn":
      return {
        risk: "high",
        summary: `Capsule '${a.capsule_id}' wants to run${
          a.sandbox === "none" ? " UNSANDBOXED" : ""
        }: ${commandLine(a.command, a.args)}`,
        resource: [`exec://${a.command}`, "execute"],
      };
    case "mcp_permission_check":
      return permissionCheck(a, c);
    case "overlay_commit":
      for (const p of a.paths) path(p);
      return {
        risk: "high",
        summary: `Commit ${a.paths.length} file(s) to the workspace`,
        resource: [`overlay://${a.session_id}`, "write"],
        names: [a.session_id],
      };
    case "secret_use":
      host(hostOf(a.host), a.host);
      return {
        risk: "high",
        summary:
          `Capsule '${a.capsule_id}' wants to use secret ${a.name} for ${a.host}`,
        resource: [`secret://${a.capsule_id}:${a.name}`, "invoke"],
        names: [a.capsule_id, a.name],
      };
    default: {
      const unknown: { type?: unknown } = a;
      throw new TypeError(`Unknown action type ${String(unknown.type)}`);
    }
  }
}

function file(
  verb: string,
  raw: string,
  permission: Permission,
  canonical: string | null,
  isRead: boolean,
): Draft {
  const risk: RiskLevel = verb === "Read" ? "medium" : "high";
  return {
    risk,
    summary: `${verb}: ${raw}`,
    resource: [`file://${canonical ?? raw}`, permission],
    isRead,
  };
}

function capsule(id: string, what: string, capability: string): Draft {
  return {
    risk: "high",
    summary: `Capsule '${id}' wants to ${what}`,
    resource: [`capsule://${id}:${capability}`, "invoke"],
    names: [id, capability],
  };
}

function commandLine(command: string, args: readonly string[]): string {
  return args.length === 0 ? command : `${command} ${args.join(" ")}`;
}

/** A name that cannot add, remove or walk resource segments. */
function safeName(n: string): boolean {
  return n !== "" && n !== "." && n !== ".." && !/[/\\:\0]/.test(n);
}

function safeResource(r: string): boolean {
  return !r.includes("\0") && !r.split("/").includes("..") &&
    !r.split("\\").includes("..");
}
