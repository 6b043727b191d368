/**
 * {@linkcode describeGrants}: a capsule's manifest grants as plain sentences,
 * for people deciding about a capsule (`astrid capsule list`, the daemon
 * API's capsule list).
 *
 * @module
 */
import type { CapsuleGrants } from "./manifest_grant.ts";

function where(entry: string): string {
  if (entry === "*") return "the whole workspace";
  if (entry.startsWith("cwd://")) {
    const rest = entry.slice(6);
    return rest === "" ? "the whole workspace" : `workspace ${rest}`;
  }
  if (entry.startsWith("home://")) {
    const rest = entry.slice(7);
    return rest === "" ? "its home" : `home ${rest}`;
  }
  return entry;
}

function host(entry: string): string {
  return entry === "*" ? "any host" : entry;
}

function list(items: readonly string[]): string {
  return items.join(", ");
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string")
    : [];
}

/**
 * Describes grants in words, one sentence per kind of access; a capsule that
 * is granted nothing gets `["nothing (no access beyond its own state)"]`.
 * Accepts the grants of an install record (plain JSON): unknown fields are
 * ignored and malformed lists read as empty.
 *
 * @param grants The grants (`grantsFromManifest`, or `meta.json`'s `grants`).
 * @returns The sentences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeGrants } from "./describe_grants.ts";
 * assert.deepEqual(
 *   describeGrants({ fs_read: ["cwd://docs"], net: ["api.example.com"] }),
 *   ["read files: workspace docs", "connect to: api.example.com"],
 * );
 * ```
 */
export function describeGrants(
  grants: Partial<CapsuleGrants> | Readonly<Record<string, unknown>>,
): string[] {
  const g = grants as Record<string, unknown>;
  const out: string[] = [];
  const read = strings(g["fs_read"]);
  const write = strings(g["fs_write"]);
  const net = strings(g["net"]);
  const run = strings(g["host_process"]);
  const servers = strings(g["mcp_servers"]);
  const env = strings(g["env"]);
  const secrets = strings(g["secrets"]);
  const other = strings(g["other"]);
  if (read.length > 0) out.push(`read files: ${list(read.map(where))}`);
  if (write.length > 0) out.push(`write files: ${list(write.map(where))}`);
  if (net.length > 0) out.push(`connect to: ${list(net.map(host))}`);
  if (g["net_bind"] === true) out.push("accept network connections");
  if (run.length > 0) out.push(`run commands: ${list(run)}`);
  if (servers.length > 0) {
    out.push(
      `run MCP servers: ${
        servers.includes("*") ? "any of its own" : list(servers)
      }`,
    );
  }
  if (env.length > 0) out.push(`read settings: ${list(env)}`);
  if (secrets.length > 0) {
    out.push(`use secrets in requests to its hosts: ${list(secrets)}`);
  }
  if (other.includes("approval_request")) {
    out.push("ask the user for approvals");
  }
  const rest = other.filter((o) => o !== "approval_request");
  if (rest.length > 0) out.push(`other actions: ${list(rest)}`);
  return out.length > 0 ? out : ["nothing (no access beyond its own state)"];
}
