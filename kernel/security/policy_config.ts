/**
 * The settings and the verdict type of `SecurityPolicy`, and the mapping
 * from the effective configuration (`[security]` and `[security.policy]`).
 *
 * @module
 */
import type { EffectiveConfig } from "../config/effective_config.ts";
import type { RiskLevel } from "./action.ts";

/**
 * Settings of `SecurityPolicy`. For every list, `undefined` means the same as
 * an empty list: nothing blocked / no restriction. `maxArgumentSize`
 * `undefined` or `0` means unlimited. The flags default to the safe side:
 * both `requireApprovalFor*` are `true` and `allowPrivateNetworks` is `false`
 * when `undefined`.
 */
export interface PolicyConfig {
  /** Commands never run (argv-aware; see `command_rules.ts`). */
  readonly blockedCommands?: readonly string[];
  /** MCP tools never called: `server:tool`, `server` or `tool`. */
  readonly blockedTools?: readonly string[];
  /** MCP tools that always need approval: `server:tool` or `server`. */
  readonly approvalRequiredTools?: readonly string[];
  /** Capsules whose every action is blocked. */
  readonly blockedCapsules?: readonly string[];
  /** Path globs never touched (see `path_rules.ts`). */
  readonly deniedPaths?: readonly string[];
  /** When non-empty, only these path globs may be touched. */
  readonly allowedPaths?: readonly string[];
  /** Hosts never contacted: exact host or `*.name` (see `policy_hosts.ts`). */
  readonly deniedHosts?: readonly string[];
  /** When non-empty, only these hosts may be contacted. */
  readonly allowedHosts?: readonly string[];
  /** Maximum summed UTF-8 bytes of a command's arguments; `0` = unlimited. */
  readonly maxArgumentSize?: number;
  /** Kept for parity with reference §6.3: deletes need approval either way. */
  readonly requireApprovalForDelete?: boolean;
  /** Network requests (and remote imports) need approval; `false` allows them. */
  readonly requireApprovalForNetwork?: boolean;
  /** Loopback, private, link-local, CGNAT, ... hosts may be contacted (never metadata). */
  readonly allowPrivateNetworks?: boolean;
  /**
   * Spellings of the kernel's home (`$ASTRID_HOME` as configured and its real
   * path), hard-denied to every action (see `protected_home.ts`).
   * `undefined` or empty: nothing extra is protected (unit tests only; the
   * kernel always sets it).
   */
  readonly protectedHome?: readonly string[];
}

/** The rule of the policy that blocked an action. */
export type PolicyRule =
  | "invalid_action"
  | "invalid_path"
  | "invalid_host"
  | "invalid_command"
  | "blocked_commands"
  | "blocked_tools"
  | "blocked_capsules"
  | "denied_paths"
  | "allowed_paths"
  | "denied_hosts"
  | "allowed_hosts"
  | "cloud_metadata"
  | "allow_private_networks"
  | "max_argument_size"
  | "protected_home";

/** The verdict of `SecurityPolicy.check()`. */
export type PolicyDecision =
  | { readonly result: "allowed" }
  | { readonly result: "requires_approval"; readonly risk: RiskLevel }
  | {
    readonly result: "blocked";
    /** Why, naming the offending value and the entry. */
    readonly reason: string;
    /** The rule that blocked it. */
    readonly rule: PolicyRule;
    /** The config entry that matched, when one did. */
    readonly entry?: string;
  };

/**
 * Reads the policy settings from the effective configuration.
 *
 * @param config The effective configuration.
 * @returns The settings for `new SecurityPolicy()`.
 *
 * @example The built-in defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLayers } from "../config/resolve_layers.ts";
 * import { policyConfigFromConfig } from "./policy_config.ts";
 * const settings = policyConfigFromConfig(resolveLayers([]));
 * assert.ok(settings.blockedCommands?.includes("rm -rf /"));
 * assert.equal(settings.maxArgumentSize, 1_048_576);
 * assert.equal(settings.allowPrivateNetworks, false);
 * ```
 */
export function policyConfigFromConfig(config: EffectiveConfig): PolicyConfig {
  const s = config.values.security;
  const p = s.policy;
  return {
    blockedCommands: p.blocked_commands,
    blockedTools: p.blocked_tools,
    approvalRequiredTools: p.approval_required_tools,
    blockedCapsules: p.blocked_capsules,
    deniedPaths: p.denied_paths,
    allowedPaths: p.allowed_paths,
    deniedHosts: p.denied_hosts,
    allowedHosts: p.allowed_hosts,
    maxArgumentSize: p.max_argument_size,
    requireApprovalForDelete: p.require_approval_for_delete,
    requireApprovalForNetwork: p.require_approval_for_network,
    allowPrivateNetworks: s.allow_private_networks,
  };
}
