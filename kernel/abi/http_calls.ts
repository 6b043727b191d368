/**
 * `http_request`: gated as `capsule_http_request` (manifest `net`, SSRF policy
 * incl. literal-IP URLs), then a DNS check of the resolved addresses, secret
 * placeholders substituted only after their own `secret_use` gate decision,
 * redirects returned to the guest instead of followed (each hop would need its
 * own decision), and the response body capped.
 *
 * @module
 */
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import { KernelError } from "../core/errors.ts";
import { classifyHost, hostFromUrl } from "../security/net_address.ts";
import type { Action } from "../security/action.ts";
import { Params } from "./_params.ts";
import type { CallState, HostCall } from "./host_call.ts";

const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
] as const;
const SECRET = /\{\{secret:([A-Za-z_][A-Za-z0-9_]{0,63})\}\}/g;
const TIMEOUT_MS = 30_000;

async function checkDns(host: string, call: CallState): Promise<void> {
  const resolve = call.deps.resolveDns;
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

async function substituteSecrets(
  headers: Record<string, string>,
  host: string,
  call: CallState,
) {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    let result = value;
    for (const m of [...value.matchAll(SECRET)]) {
      const secret = m[1]!;
      const action: Action = {
        type: "secret_use",
        capsule_id: call.caller.capsule,
        name: secret,
        host,
      };
      const plain = await call.gated(
        action,
        () => call.deps.secrets.get(call.caller.capsule, secret),
        "secret_use",
      );
      if (plain === null) {
        throw new KernelError(
          "NOT_FOUND",
          `Secret '${secret}' is not set for capsule '${call.caller.capsule}'`,
        );
      }
      result = result.replaceAll(m[0], plain);
    }
    out[name] = result;
  }
  return out;
}

async function readCapped(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > HOST_LIMITS.payload) {
        throw new KernelError(
          "ABI_PAYLOAD_TOO_LARGE",
          `Response body exceeds ${HOST_LIMITS.payload} bytes`,
        );
      }
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(
      () => {/* silent-ok: already finished or failed */},
    );
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}

/** `http_request`. */
export const httpRequest: HostCall = async (payload, call) => {
  const p = new Params("http_request", payload);
  const url = p.string("url", 8192);
  const method = p.oneOf("method", METHODS, "GET");
  const headers = p.optRecord("headers") ?? {};
  const body = p.optString("body");
  const host = hostFromUrl(url);
  if (host === null || !/^https?:\/\//i.test(url)) {
    throw new KernelError(
      "INVALID_INPUT",
      "http_request expects an absolute http(s) URL",
    );
  }
  const action: Action = {
    type: "capsule_http_request",
    capsule_id: call.caller.capsule,
    url,
    method,
  };
  return await call.gated(action, async () => {
    await checkDns(host, call);
    const sent = await substituteSecrets(headers, host, call);
    const signal = AbortSignal.any([
      call.signal,
      AbortSignal.timeout(TIMEOUT_MS),
    ]);
    const res = await call.deps.fetch(url, {
      method,
      headers: sent,
      redirect: "manual",
      signal,
      ...(body === undefined ? {} : { body }),
    });
    const text = await readCapped(res, signal);
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: text,
    };
  }, "http_request");
};
