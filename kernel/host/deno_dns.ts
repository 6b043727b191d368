/**
 * Resolves a host name to its A and AAAA addresses with Deno's resolver, for
 * the SSRF check of the `http_request` host call.
 *
 * Limitation: `Deno.resolveDns` asks DNS directly and ignores `/etc/hosts`,
 * while `fetch` honours it; a hosts-file entry is therefore not seen here.
 *
 * @module
 */

/**
 * The addresses of `host`; an empty list when it does not resolve.
 *
 * @param host A host name (not a literal IP).
 * @returns Its IPv4 and IPv6 addresses.
 */
export async function resolveHostAddresses(host: string): Promise<string[]> {
  const lookups = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  return lookups.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
}
