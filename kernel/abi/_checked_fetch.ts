/**
 * Private: the fetch an allowed `http_request` receives — bound to the URL
 * and method that were decided, with the SSRF check of every address the
 * host name resolves to, and redirects returned instead of followed (each
 * hop would need its own decision).
 *
 * Known gap: Deno's `fetch` resolves the name again when it connects, and it
 * ignores a `Host` header, so the checked address cannot be pinned for the
 * connection from here; a DNS answer that changes between the check and the
 * connection (rebinding) is not caught. The daemon's `--allow-net` list (the
 * union of granted hosts) is the outer layer that still holds.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { classifyHost } from "../security/net_address.ts";
import type { HostDeps } from "./ports.ts";

async function checkDns(host: string, deps: HostDeps): Promise<void> {
  const resolve = deps.resolveDns;
  if (
    !resolve || classifyHost(host).kind !== "public" || /^[\d.]+$|:/.test(host)
  ) return;
  const addresses = await resolve(host);
  const bad = addresses.find((a) => classifyHost(a).kind !== "public");
  if (bad !== undefined || addresses.length === 0) {
    throw new KernelError(
      "POLICY_BLOCKED",
      `Host '${host}' resolved to ${
        bad ?? "no address"
      }, which is not a public address`,
    );
  }
}

/**
 * Checks the DNS answer of `url`'s host, then fetches exactly `url`.
 *
 * @param url The decided URL.
 * @param init The decided method, headers, body and signal.
 * @param deps `fetch` and `resolveDns`.
 * @returns The response (redirects not followed).
 * @throws {KernelError} `POLICY_BLOCKED` when the name resolves to a non-public address.
 */
export async function checkedFetch(
  url: URL,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal: AbortSignal;
  },
  deps: Pick<HostDeps, "fetch" | "resolveDns">,
): Promise<Response> {
  await checkDns(url.hostname.replace(/^\[|\]$/g, ""), deps as HostDeps);
  return await deps.fetch(url.href, { ...init, redirect: "manual" });
}
