/**
 * Builds the allowance a Session or Workspace approval creates for the
 * approved action: the narrowest pattern that covers exactly that action.
 *
 * Security model: patterns made here never widen what the human saw. File
 * paths become glob-escaped literals, commands keep all their arguments
 * (glob-escaped, so an approved `*` stays a literal star), network requests
 * keep host and port, capsule actions stay bound to their capsule, MCP
 * requests to their server (resource reads to the URI, prompts to the name,
 * elicitations to the mode and URL host; see `mcp_pattern.ts`). Actions
 * whose reuse is too dangerous to automate — data transmission, payments,
 * access-control changes, capability grants, permission-broker checks,
 * overlay commits, secret use — and command lines with shell metacharacters
 * get no allowance at all (`null`): they are asked every time.
 *
 * @module
 */
import { uuidV4 } from "../../core/ids.ts";
import type { Random } from "../../core/ports.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import type { Allowance, AllowanceScope } from "./allowance.ts";
import {
  type AllowancePattern,
  capsuleCapabilityOf,
  urlHostPort,
} from "./allowance_pattern.ts";
import { commandPatternFor, escapeGlob } from "./command_line.ts";
import { mcpPatternFor } from "./mcp_pattern.ts";

/** Options of {@linkcode allowanceFromAction}. */
export interface AllowanceFromActionOptions {
  /** Session (bound to `ctx.session`) or workspace (across sessions). */
  readonly scope: AllowanceScope;
  /** The context of the approved request. */
  readonly ctx: GateContext;
  /** The creation time, ms since the epoch. */
  readonly now: number;
  /** Randomness for the id. */
  readonly random: Random;
  /** Expiry (exclusive), ms since the epoch; absent = until cleared. */
  readonly expiresAt?: number;
  /** Use limit; absent = unlimited. */
  readonly maxUses?: number;
}

/**
 * The pattern that covers exactly one action, or `null` when the action may
 * not be approved for reuse.
 *
 * @param action The approved action.
 * @returns The pattern, or `null`.
 *
 * @example Commands keep their arguments
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowancePatternFor } from "./allowance_from_action.ts";
 * assert.deepEqual(
 *   allowancePatternFor({ type: "execute_command", command: "git", args: ["status"] }),
 *   { type: "command_pattern", command: "git status" },
 * );
 * assert.equal(
 *   allowancePatternFor({ type: "execute_command", command: "sh", args: ["-c", "a && b"] }),
 *   null,
 * );
 * ```
 */
export function allowancePatternFor(action: Action): AllowancePattern | null {
  switch (action.type) {
    case "mcp_tool_call":
      return { type: "exact_tool", server: action.server, tool: action.tool };
    case "file_read":
    case "file_write":
    case "file_delete":
      return {
        type: "file_pattern",
        pattern: escapeGlob(action.path),
        permission: action.type === "file_read"
          ? "read"
          : action.type === "file_write"
          ? "write"
          : "delete",
      };
    case "network_request":
      return { type: "network_host", host: action.host, ports: [action.port] };
    case "execute_command": {
      const command = commandPatternFor(action.command, action.args);
      return command === null ? null : { type: "command_pattern", command };
    }
    case "capsule_process_spawn": {
      const command = commandPatternFor(action.command, action.args);
      return command === null
        ? null
        : { type: "command_pattern", command, capsule_id: action.capsule_id };
    }
    case "capsule_http_request": {
      // Narrower than 0.5.1: the allowance covers the approved host and port only.
      const target = urlHostPort(action.url);
      return target === null ? null : {
        type: "network_host",
        host: target.host,
        ports: [target.port],
        capsule_id: action.capsule_id,
      };
    }
    case "capsule_file_access":
      // Narrower than 0.5.1: the allowance covers the approved path and mode only.
      return {
        type: "file_pattern",
        pattern: escapeGlob(action.path),
        permission: action.mode,
        capsule_id: action.capsule_id,
      };
    case "capsule_execution":
    case "mcp_host_tool_call":
    case "capsule_net_bind": {
      const cap = capsuleCapabilityOf(action);
      return cap === null ? null : { type: "capsule_capability", ...cap };
    }
    case "mcp_resource_read":
    case "mcp_prompt_get":
    case "mcp_elicitation":
    case "mcp_sampling":
    case "mcp_permission_check":
      return mcpPatternFor(action);
    default:
      return null;
  }
}

/**
 * Builds the allowance for an approved action (not yet stored; see
 * `AllowanceStore.add()`). Session allowances are bound to the
 * session and its workspace root, workspace allowances to the workspace
 * root only.
 *
 * @param action The approved action.
 * @param options Scope, context, time, randomness, expiry and use limit.
 * @returns The allowance, or `null` when the action may not be reused.
 * @throws {RangeError} When `maxUses` is not a positive safe integer or
 * `expiresAt` is not after `now`.
 *
 * @example A session allowance for an MCP tool
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowanceFromAction } from "./allowance_from_action.ts";
 * import { SeededRandom } from "../../testing/seeded_random.ts";
 * import type { GateContext } from "../context.ts";
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const a = allowanceFromAction(
 *   { type: "mcp_tool_call", server: "fs", tool: "read_file" },
 *   { scope: "session", ctx, now: 1_000, random: new SeededRandom(1) },
 * );
 * assert.equal(a?.session, ctx.session);
 * assert.deepEqual(a?.pattern, { type: "exact_tool", server: "fs", tool: "read_file" });
 * ```
 */
export function allowanceFromAction(
  action: Action,
  options: AllowanceFromActionOptions,
): Allowance | null {
  const { scope, ctx, now, expiresAt, maxUses } = options;
  if (
    maxUses !== undefined && (!Number.isSafeInteger(maxUses) || maxUses < 1)
  ) {
    throw new RangeError(
      `Cannot create an allowance with maxUses ${maxUses}: expected a positive integer`,
    );
  }
  if (
    expiresAt !== undefined &&
    (!Number.isSafeInteger(expiresAt) || expiresAt <= now)
  ) {
    throw new RangeError(
      `Cannot create an allowance expiring at ${expiresAt}: expected a time after ${now}`,
    );
  }
  const pattern = allowancePatternFor(action);
  if (pattern === null) return null;
  return {
    id: `allowance:${uuidV4(options.random)}`,
    pattern,
    created_at: now,
    expires_at: expiresAt ?? null,
    max_uses: maxUses ?? null,
    uses_remaining: maxUses ?? null,
    scope,
    session: scope === "session" ? ctx.session : null,
    workspace_root: ctx.workspace,
    principal: ctx.principal,
  };
}
