/**
 * {@linkcode Allowance}: a stored grant from a Session or Workspace approval,
 * its validity and binding rules, and the parser for stored or wire forms.
 *
 * Security model: an allowance applies only to its own principal; a session
 * allowance only to its session; one with a `workspace_root` only when the
 * caller's workspace root is exactly equal. It is valid until `expires_at`
 * (exclusive) and while `uses_remaining` is absent or positive. Anything
 * read back from the store is re-parsed, and a malformed record is never
 * treated as a grant.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { PrincipalId, SessionId } from "../../core/ids.ts";
import { parsePrincipalId, parseSessionId } from "../../core/ids.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import {
  type AllowancePattern,
  matchesAllowancePattern,
} from "./allowance_pattern.ts";
import { parseMcpPattern } from "./mcp_pattern.ts";

/** How long an allowance lives: the session, or the workspace (across sessions). */
export type AllowanceScope = "session" | "workspace";

/** A stored grant (wire form: snake_case JSON). */
export interface Allowance {
  /** `allowance:<uuid>`. */
  readonly id: string;
  /** What it lets through. */
  readonly pattern: AllowancePattern;
  /** Creation time, ms since the epoch. */
  readonly "created_at": number;
  /** Expiry (exclusive), ms since the epoch; `null` = until cleared. */
  readonly "expires_at": number | null;
  /** The use limit it was created with; `null` = unlimited. */
  readonly "max_uses": number | null;
  /** Uses left; `null` = unlimited. */
  readonly "uses_remaining": number | null;
  /** Session or workspace. */
  readonly scope: AllowanceScope;
  /** The session it is bound to (`null` for workspace allowances). */
  readonly session: SessionId | null;
  /** The exact workspace root it is bound to; `null` = any. */
  readonly "workspace_root": string | null;
  /** Whose grant it is. */
  readonly principal: PrincipalId;
}

const ID =
  /^allowance:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Tells whether an allowance is still usable at `now`.
 *
 * @param allowance The allowance.
 * @param now Ms since the epoch.
 * @returns `true` when not expired and not used up.
 *
 * @example Expiry is exclusive
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowanceValid, type Allowance } from "./allowance.ts";
 * const a = { expires_at: 10, uses_remaining: null } as Allowance;
 * assert.ok(isAllowanceValid(a, 9));
 * assert.ok(!isAllowanceValid(a, 10));
 * ```
 */
export function isAllowanceValid(allowance: Allowance, now: number): boolean {
  return (allowance.expires_at === null || now < allowance.expires_at) &&
    (allowance.uses_remaining === null || allowance.uses_remaining > 0);
}

/**
 * Tells whether a valid allowance covers an action asked in a context:
 * same principal, same session (if bound), exactly the same workspace root
 * (if bound), and a matching pattern.
 *
 * @param allowance The allowance.
 * @param action The action.
 * @param ctx The caller.
 * @param now Ms since the epoch.
 * @returns `true` when it applies.
 *
 * @example A workspace allowance does not leak to another workspace
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowanceApplies, type Allowance } from "./allowance.ts";
 * import type { GateContext } from "../context.ts";
 * const a = {
 *   pattern: { type: "exact_tool", server: "fs", tool: "read" }, expires_at: null,
 *   uses_remaining: null, session: null, workspace_root: "/ws", principal: "alice",
 * } as unknown as Allowance;
 * const ctx = { principal: "alice", session: "s", workspace: "/ws", callId: "c" } as unknown as GateContext;
 * const call = { type: "mcp_tool_call", server: "fs", tool: "read" } as const;
 * assert.ok(allowanceApplies(a, call, ctx, 0));
 * assert.ok(!allowanceApplies(a, call, { ...ctx, workspace: "/ws2" }, 0));
 * ```
 */
export function allowanceApplies(
  allowance: Allowance,
  action: Action,
  ctx: GateContext,
  now: number,
): boolean {
  return allowance.principal === ctx.principal &&
    (allowance.session === null || allowance.session === ctx.session) &&
    (allowance.workspace_root === null ||
      allowance.workspace_root === ctx.workspace) &&
    isAllowanceValid(allowance, now) &&
    matchesAllowancePattern(allowance.pattern, action, {
      workspace: ctx.workspace,
    });
}

/**
 * Parses an allowance from untrusted JSON (a store record or a frontend).
 *
 * @param raw The value.
 * @returns The allowance.
 * @throws {KernelError} `INVALID_INPUT` naming the bad field.
 *
 * @example Refuse a malformed record
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAllowance } from "./allowance.ts";
 * assert.throws(() => parseAllowance({ id: "x" }), /INVALID|allowance/);
 * ```
 */
export function parseAllowance(raw: unknown): Allowance {
  const o = record(raw, "allowance");
  const id = o["id"];
  if (typeof id !== "string" || !ID.test(id)) bad("id");
  const scope = o["scope"];
  if (scope !== "session" && scope !== "workspace") bad("scope");
  const session = o["session"] === null ? null : parseSessionId(o["session"]);
  if (scope === "session" && session === null) bad("session");
  const root = o["workspace_root"];
  if (root !== null && (typeof root !== "string" || root === "")) {
    bad("workspace_root");
  }
  if (scope === "workspace" && root === null) bad("workspace_root");
  const maxUses = countOrNull(o["max_uses"], "max_uses");
  const uses = countOrNull(o["uses_remaining"], "uses_remaining");
  if ((maxUses === null) !== (uses === null)) bad("uses_remaining");
  return {
    id,
    pattern: parseAllowancePattern(o["pattern"]),
    created_at: time(o["created_at"], "created_at"),
    expires_at: o["expires_at"] === null
      ? null
      : time(o["expires_at"], "expires_at"),
    max_uses: maxUses,
    uses_remaining: uses,
    scope,
    session,
    workspace_root: root,
    principal: parsePrincipalId(o["principal"]),
  };
}

/**
 * Parses an allowance pattern from untrusted JSON.
 *
 * @param raw The value.
 * @returns The pattern (unknown fields dropped).
 * @throws {KernelError} `INVALID_INPUT` for an unknown type or a bad field.
 *
 * @example Parse a network pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAllowancePattern } from "./allowance.ts";
 * assert.deepEqual(
 *   parseAllowancePattern({ type: "network_host", host: "a.io", ports: [443] }),
 *   { type: "network_host", host: "a.io", ports: [443] },
 * );
 * ```
 */
export function parseAllowancePattern(raw: unknown): AllowancePattern {
  const o = record(raw, "allowance pattern");
  const s = (k: string): string => text(o[k], `pattern.${k}`);
  switch (o["type"]) {
    case "exact_tool":
      return { type: "exact_tool", server: s("server"), tool: s("tool") };
    case "server_tools":
      return { type: "server_tools", server: s("server") };
    case "file_pattern":
      return {
        type: "file_pattern",
        pattern: s("pattern"),
        permission: oneOf(o["permission"], ["read", "write", "delete"]),
        ...(o["capsule_id"] === undefined
          ? {}
          : { capsule_id: s("capsule_id") }),
      };
    case "network_host":
      return {
        type: "network_host",
        host: s("host"),
        ...(o["ports"] === undefined ? {} : { ports: ports(o["ports"]) }),
        ...(o["capsule_id"] === undefined
          ? {}
          : { capsule_id: s("capsule_id") }),
      };
    case "command_pattern":
      return o["capsule_id"] === undefined
        ? { type: "command_pattern", command: s("command") }
        : {
          type: "command_pattern",
          command: s("command"),
          capsule_id: s("capsule_id"),
        };
    case "workspace_relative":
      return {
        type: "workspace_relative",
        pattern: s("pattern"),
        permission: oneOf(o["permission"], [
          "read",
          "write",
          "delete",
          "invoke",
          "execute",
        ]),
      };
    case "capsule_capability":
      return {
        type: "capsule_capability",
        capsule_id: s("capsule_id"),
        capability: s("capability"),
      };
    case "capsule_wildcard":
      return { type: "capsule_wildcard", capsule_id: s("capsule_id") };
    default:
      return parseMcpPattern(o, { text: s, bad }) ?? bad("pattern.type");
  }
}

function bad(field: string): never {
  throw new KernelError(
    "INVALID_INPUT",
    `Cannot read the allowance as its field '${field}' is missing or malformed`,
    { data: { field } },
  );
}

function record(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot read the ${what}: not an object`,
    );
  }
  return raw as Record<string, unknown>;
}

function text(v: unknown, field: string): string {
  return typeof v === "string" && v !== "" ? v : bad(field);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T {
  return allowed.includes(v as T) ? v as T : bad("pattern.permission");
}

function ports(v: unknown): number[] {
  const ok = Array.isArray(v) &&
    v.every((p) => Number.isInteger(p) && p >= 0 && p <= 65535);
  return ok ? [...v] : bad("pattern.ports");
}

function countOrNull(v: unknown, field: string): number | null {
  if (v === null) return null;
  return Number.isSafeInteger(v) && (v as number) >= 0
    ? v as number
    : bad(field);
}

function time(v: unknown, field: string): number {
  return Number.isSafeInteger(v) ? v as number : bad(field);
}
