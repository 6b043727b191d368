/**
 * Turns one capsule `net` grant (or a provider URL's host) into the
 * `--allow-net` values the daemon needs to serve it.
 *
 * Why addresses: the kernel's HTTP host call resolves a name, checks the
 * addresses (the SSRF check) and then connects to the checked address
 * itself (`kernel/host/pinned_fetch.ts`), so Deno sees a connection to an IP
 * address, not to the name. The name is listed too (for Deno's own `fetch`
 * and TLS); the addresses are those the name resolved to when the flags
 * were computed. A name that moves to a new address needs a daemon restart.
 *
 * @module
 */

/** A parsed grant: `*`, or a host (name or IP) with an optional port. */
export type NetGrant =
  | { readonly kind: "any" }
  | {
    readonly kind: "name" | "ip";
    readonly host: string;
    readonly port: string | undefined;
  };

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Parses a manifest `net` entry (`*`, `host`, `host:port`, `1.2.3.4[:port]`,
 * `[v6][:port]`, bare `v6`).
 *
 * @param entry The entry as the manifest parser accepted it.
 * @returns The grant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNetGrant } from "./net_flag_entries.ts";
 * assert.deepEqual(parseNetGrant("api.example.com:8443"), { kind: "name", host: "api.example.com", port: "8443" });
 * assert.deepEqual(parseNetGrant("[::1]"), { kind: "ip", host: "::1", port: undefined });
 * ```
 */
export function parseNetGrant(entry: string): NetGrant {
  if (entry === "*") return { kind: "any" };
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracket) return { kind: "ip", host: bracket[1]!, port: bracket[2] };
  const colons = entry.split(":").length - 1;
  if (colons > 1) return { kind: "ip", host: entry, port: undefined };
  const [host, port] = colons === 1
    ? entry.split(":") as [string, string]
    : [entry, undefined];
  return { kind: IPV4.test(host) ? "ip" : "name", host, port };
}

/**
 * Formats `host[:port]` as Deno's `--allow-net` reads it (IPv6 in brackets).
 *
 * @param host A name or an address.
 * @param port A port, or `undefined` for every port.
 * @returns The value.
 */
export function netValue(host: string, port: string | undefined): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/** One `--allow-net` value and why. */
export interface NetValue {
  readonly value: string;
  readonly reason: string;
}

/**
 * The `--allow-net` values of a named or literal grant: the name, its
 * subdomains (`*.name`; a capsule grant covers them), and the addresses
 * the name resolves to now.
 *
 * @param grant A parsed grant (not `any`).
 * @param why Who grants it (e.g. `capsule 'weather' grants net 'api.x.com'`).
 * @param resolve Resolves a name to its addresses (empty when it does not resolve).
 * @param subdomains Also allow `*.name` (a capsule grant covers subdomains; a provider URL does not).
 * @returns The values.
 */
export async function netValues(
  grant: Exclude<NetGrant, { kind: "any" }>,
  why: string,
  resolve: (host: string) => Promise<readonly string[]>,
  subdomains: boolean,
): Promise<NetValue[]> {
  if (grant.kind === "ip") {
    return [{ value: netValue(grant.host, grant.port), reason: why }];
  }
  const out: NetValue[] = [
    { value: netValue(grant.host, grant.port), reason: why },
  ];
  if (subdomains) {
    out.push({
      value: netValue(`*.${grant.host}`, grant.port),
      reason: `${why} (its subdomains too)`,
    });
  }
  for (const address of await resolve(grant.host)) {
    out.push({
      value: netValue(address, grant.port),
      reason:
        `${why}: an address of ${grant.host} when the flags were computed (the kernel connects to the checked address; restart the daemon when it moves)`,
    });
  }
  return out;
}
