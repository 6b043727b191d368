/**
 * The `mcp_permission_check` rules of `policy.ts` (private to
 * `kernel/security/`), and the verdict constructors both share. See the
 * module doc of `policy.ts` for the rules.
 *
 * @module
 */
import type { Action, RiskLevel } from "./action.ts";
import { parseHostPort } from "./net_address.ts";
import type { PolicyDecision } from "./policy_config.ts";

/** A blocked verdict. */
export type Blocked = Extract<PolicyDecision, { result: "blocked" }>;

/** The allowed verdict. */
export const ALLOWED: PolicyDecision = Object.freeze({ result: "allowed" });

/**
 * A requires-approval verdict.
 *
 * @param risk The risk shown to the human.
 * @returns The verdict.
 */
export function approval(risk: RiskLevel): PolicyDecision {
  return { result: "requires_approval", risk };
}

/**
 * A blocked verdict.
 *
 * @param reason Why.
 * @param rule The rule.
 * @returns The verdict.
 */
export function block(reason: string, rule: Blocked["rule"]): Blocked {
  return { result: "blocked", reason, rule };
}

/** The checks of `SecurityPolicy` the permission rules use. */
export interface PermissionRules {
  /** Path rules on each path. */
  paths(paths: readonly string[]): Blocked | null;
  /** Host rules. */
  host(host: string): Blocked | null;
  /** Command rules on a program without arguments. */
  command(program: string): Blocked | null;
  /** An http(s) URL: scheme, then host rules. */
  url(url: string): Blocked | null;
  /** Approval or allowed, per `requireApprovalForNetwork`. */
  network(risk: RiskLevel): PolicyDecision;
}

/**
 * Checks an `mcp_permission_check` action (the server is already known not
 * to be blocked).
 *
 * @param a The action.
 * @param rules The policy's checks.
 * @returns The verdict.
 */
export function checkPermission(
  a: Extract<Action, { type: "mcp_permission_check" }>,
  rules: PermissionRules,
): PolicyDecision {
  const v = a.value;
  const blanket = (): Blocked =>
    block(
      `MCP server '${a.server}' asked for ${a.permission} access to everything, which no rule can check`,
      "invalid_action",
    );
  switch (a.permission) {
    case "read":
      return v === null ? blanket() : rules.paths([v]) ?? approval("low");
    case "write":
      return v === null ? blanket() : rules.paths([v]) ?? approval("medium");
    case "net": {
      if (v === null) return blanket();
      const hp = parseHostPort(v);
      if (hp === null) {
        return block(`'${v}' is not a valid host[:port]`, "invalid_host");
      }
      return rules.host(hp.host) ?? rules.network("medium");
    }
    case "import":
      if (v === null) return blanket();
      return checkImport(v, rules);
    case "env":
      return approval(v === null ? "high" : "medium");
    case "run":
      if (v === null) return approval("critical");
      return rules.command(v) ?? approval("critical");
    case "ffi":
      if (v !== null && v.startsWith("/")) {
        return rules.paths([v]) ?? approval("critical");
      }
      return approval("critical");
    case "sys":
      return approval("critical");
    default:
      return block(
        `Unknown Deno permission ${JSON.stringify(a.permission)}`,
        "invalid_action",
      );
  }
}

function checkImport(v: string, rules: PermissionRules): PolicyDecision {
  if (v.startsWith("/")) return rules.paths([v]) ?? approval("low");
  if (v.startsWith("file:")) {
    let path: string;
    try {
      path = decodeURIComponent(new URL(v).pathname);
    } catch {
      // silent-ok: an unparsable file URL is a blocked action, reported here
      return block(`'${v}' is not a valid file URL`, "invalid_path");
    }
    return rules.paths([path]) ?? approval("low");
  }
  if (v.includes("://")) {
    return rules.url(v) ?? rules.network("low");
  }
  const hp = parseHostPort(v);
  if (hp === null) {
    return block(`'${v}' is not a valid import host`, "invalid_host");
  }
  return rules.host(hp.host) ?? rules.network("low");
}
