/**
 * Private: the fetch an allowed `http_request` receives — bound to the URL
 * and method that were decided. A host NAME is resolved once, every address
 * it resolves to must be public (SSRF), and the connection goes to the
 * checked address itself (`pinnedFetch`, kernel/host/pinned_fetch.ts), so a
 * DNS answer that changes between the check and the connection (rebinding)
 * cannot redirect it. TLS keeps the name for SNI and certificates. Literal
 * IPs were judged by the gate's policy and need no resolution. Redirects are
 * returned to the guest, never followed (each hop needs its own decision).
 *
 * Without a resolver (`resolveDns` absent) or a pinned fetch (an embedder's
 * own `fetch`), the request goes to `fetch` by name: the policy's lexical
 * checks still hold, rebinding is not caught.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { classifyHost } from "../security/net_address.ts";
import type { HostDeps } from "./ports.ts";

/**
 * Resolves and checks `url`'s host name, then fetches exactly `url` from
 * the checked address.
 *
 * @param url The decided URL.
 * @param init The decided method, headers, body and signal.
 * @param deps `fetch`, `pinnedFetch` and `resolveDns`.
 * @returns The response (redirects not followed).
 * @throws {KernelError} `POLICY_BLOCKED` when the name resolves to a
 *   non-public address or to none.
 */
export async function checkedFetch(
  url: URL,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal: AbortSignal;
  },
  deps: Pick<HostDeps, "fetch" | "resolveDns" | "pinnedFetch">,
): Promise<Response> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const isName = classifyHost(host).kind === "public" &&
    !/^[\d.]+$|:/.test(host);
  if (!isName || !deps.resolveDns) {
    return await deps.fetch(url.href, { ...init, redirect: "manual" });
  }
  const addresses = await deps.resolveDns(host);
  const bad = addresses.find((a) => classifyHost(a).kind !== "public");
  if (bad !== undefined || addresses.length === 0) {
    throw new KernelError(
      "POLICY_BLOCKED",
      `Host '${host}' resolved to ${
        bad ?? "no address"
      }, which is not a public address`,
    );
  }
  if (!deps.pinnedFetch) {
    return await deps.fetch(url.href, { ...init, redirect: "manual" });
  }
  return await deps.pinnedFetch(url, init, { address: addresses[0]! });
}
