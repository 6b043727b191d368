/**
 * Host rules of the security policy: `denied_hosts`, `allowed_hosts` and the
 * private-network switch `security.allow_private_networks`.
 *
 * Security model: every host is normalised by {@linkcode classifyHost} before
 * it is compared, and so is every config entry, so `2130706433`, `127.1` and
 * `::ffff:127.0.0.1` all hit an entry `127.0.0.1` (an IPv6 literal is also
 * compared by the IPv4 address it embeds). An entry is an exact host, or
 * `*.example.com`, which matches every name below `example.com` at any depth
 * but not `example.com` itself; any other `*` is a config error. Order: an
 * invalid host is blocked; then `denied_hosts` (deny beats allow); then cloud
 * metadata endpoints, blocked **always**, even with `allow_private_networks`
 * and even when listed in `allowed_hosts`; then loopback, private,
 * link-local, CGNAT, unspecified, multicast, broadcast and reserved
 * addresses, blocked unless `allow_private_networks`; then, when
 * `allowed_hosts` is non-empty, hosts not on it.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { classifyHost, type HostClass } from "./net_address.ts";

/** Options of {@linkcode HostRules}. */
export interface HostRulesOptions {
  /** Hosts never contacted. Empty or `undefined`: none. */
  readonly denied?: readonly string[];
  /** When non-empty, only these hosts; empty or `undefined`: no restriction. */
  readonly allowed?: readonly string[];
  /** Whether non-public, non-metadata addresses may be contacted; `undefined` means `false`. */
  readonly allowPrivateNetworks?: boolean;
  /** Config key prefix named in errors; defaults to `security.policy`. */
  readonly keyPrefix?: string;
}

/** A host refused by {@linkcode HostRules.check}. */
export interface HostBlock {
  /** Which rule refused it. */
  readonly rule:
    | "invalid_host"
    | "denied_hosts"
    | "cloud_metadata"
    | "allow_private_networks"
    | "allowed_hosts";
  /** Why, naming the host. */
  readonly reason: string;
  /** The config entry that matched, for `denied_hosts`. */
  readonly entry?: string;
}

interface HostList {
  readonly exact: ReadonlyMap<string, string>;
  readonly suffixes: ReadonlyArray<readonly [string, string]>;
}

/**
 * The compiled host lists.
 *
 * @example Literal IPs, metadata and wildcard entries
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostRules } from "./policy_hosts.ts";
 * const rules = new HostRules({ denied: ["evil.com"], allowed: ["*.example.com", "evil.com"] });
 * assert.equal(rules.check("api.example.com"), null);
 * assert.equal(rules.check("evil.com")?.rule, "denied_hosts");
 * assert.equal(rules.check("example.com")?.rule, "allowed_hosts");
 * assert.equal(rules.check("2130706433")?.rule, "allow_private_networks");
 * assert.equal(rules.check("169.254.169.254")?.rule, "cloud_metadata");
 * ```
 */
export class HostRules {
  #denied: HostList;
  #allowed: HostList;
  #allowPrivate: boolean;

  /**
   * Compiles both lists.
   *
   * @param options The lists and the private-network switch.
   * @throws {KernelError} `CONFIG_INVALID` naming the key and the entry when an
   * entry is not a host name, IP literal or `*.name` pattern.
   */
  constructor(options: HostRulesOptions = {}) {
    const prefix = options.keyPrefix ?? "security.policy";
    this.#denied = compileList(options.denied ?? [], `${prefix}.denied_hosts`);
    this.#allowed = compileList(
      options.allowed ?? [],
      `${prefix}.allowed_hosts`,
    );
    this.#allowPrivate = options.allowPrivateNetworks === true;
  }

  /**
   * Checks a destination that is not treated as a host (a single name such
   * as a channel, or an e-mail address): it is blocked when `denied_hosts`
   * has it as an exact entry (case-insensitively), or when `allowed_hosts` is
   * non-empty and does not.
   *
   * @param name The destination.
   * @returns `null` when allowed, else why not.
   */
  checkOpaque(name: string): HostBlock | null {
    const key = name.toLowerCase();
    const denied = this.#denied.exact.get(key);
    if (denied !== undefined) {
      return {
        rule: "denied_hosts",
        reason: `Destination '${name}' is denied by '${denied}'`,
        entry: denied,
      };
    }
    const allowed = this.#allowed;
    const restricted = allowed.exact.size > 0 || allowed.suffixes.length > 0;
    if (restricted && !allowed.exact.has(key)) {
      return {
        rule: "allowed_hosts",
        reason: `Destination '${name}' is not in allowed_hosts`,
      };
    }
    return null;
  }

  /**
   * Checks one host (name or IP literal, no port).
   *
   * @param host The host as the action named it.
   * @returns `null` when it may be contacted, else why not.
   */
  check(host: string): HostBlock | null {
    const c = classifyHost(host);
    if (c.kind === "invalid") {
      return { rule: "invalid_host", reason: c.reason ?? "Invalid host" };
    }
    const denied = lookup(this.#denied, c);
    if (denied !== null) {
      return {
        rule: "denied_hosts",
        reason: `Host '${c.normalized}' is denied by '${denied}'`,
        entry: denied,
      };
    }
    const seen = c.embeddedIpv4 === undefined
      ? `'${c.normalized}'`
      : `'${c.normalized}' (${c.embeddedIpv4})`;
    if (c.kind === "metadata") {
      return {
        rule: "cloud_metadata",
        reason: `Host ${seen} is a cloud metadata endpoint`,
      };
    }
    if (c.kind !== "public" && !this.#allowPrivate) {
      return {
        rule: "allow_private_networks",
        reason: `Host ${seen} is a ${
          c.kind.replace("_", "-")
        } address and private networks are not allowed`,
      };
    }
    const allowed = this.#allowed;
    if (
      (allowed.exact.size > 0 || allowed.suffixes.length > 0) &&
      lookup(allowed, c) === null
    ) {
      return {
        rule: "allowed_hosts",
        reason: `Host '${c.normalized}' is not in allowed_hosts`,
      };
    }
    return null;
  }
}

function lookup(list: HostList, c: HostClass): string | null {
  for (const name of [c.normalized, c.embeddedIpv4]) {
    if (name === undefined) continue;
    const hit = list.exact.get(name);
    if (hit !== undefined) return hit;
  }
  for (const [suffix, entry] of list.suffixes) {
    if (c.normalized.endsWith(suffix)) return entry;
  }
  return null;
}

function compileList(entries: readonly string[], key: string): HostList {
  const exact = new Map<string, string>();
  const suffixes: Array<readonly [string, string]> = [];
  for (const entry of entries) {
    const fail = (why: string): KernelError =>
      new KernelError(
        "CONFIG_INVALID",
        `Cannot use ${key} entry ${JSON.stringify(entry)}: ${why}`,
        { data: { key, entry } },
      );
    if (typeof entry !== "string") throw fail("it is not a string");
    const wildcard = entry.startsWith("*.");
    const rest = wildcard ? entry.slice(2) : entry;
    if (rest.includes("*")) {
      throw fail("only a leading '*.' wildcard is supported");
    }
    const c = classifyHost(rest);
    if (c.kind === "invalid") throw fail(c.reason ?? "invalid host");
    if (wildcard) {
      if (c.normalized.includes(":") || /^[0-9.]+$/.test(c.normalized)) {
        throw fail("a '*.' wildcard needs a host name, not an IP address");
      }
      suffixes.push([`.${c.normalized}`, entry]);
    } else {
      exact.set(c.normalized, entry);
      if (c.embeddedIpv4 !== undefined) exact.set(c.embeddedIpv4, entry);
    }
  }
  return { exact, suffixes };
}
