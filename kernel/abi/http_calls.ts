/**
 * `http_request`: gated as `capsule_http_request` (manifest `net` incl. the
 * port, SSRF policy incl. literal-IP URLs), then a DNS check of the resolved
 * addresses (`_checked_fetch.ts`), secret
 * placeholders substituted only after their own `secret_use` gate decision,
 * redirects returned to the guest instead of followed (each hop would need its
 * own decision), and the response body capped.
 *
 * @module
 */
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import { KernelError } from "../core/errors.ts";
import { hostFromUrl } from "../security/net_address.ts";
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
const SECRET_IN_NAME = /\{\{\s*secret:/i;
const TIMEOUT_MS = 30_000;

/**
 * Substitutes `{{secret:X}}` in header values, each after its own `secret_use`
 * decision. (A placeholder in a header NAME was refused with `INVALID_INPUT`
 * while the payload was validated: a secret never becomes a header name.)
 */
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
      const plain = await call.gated(
        { kind: "secret_use", name: secret, host },
        (g) => g.value(),
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

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // silent-ok: malformed escapes; the raw text is checked too
  }
}

/**
 * Refuses (and audits) a secret placeholder in a request's URL or body. The
 * kernel substitutes secrets into header values only, so a placeholder
 * elsewhere never carries the secret out — but it is what a hijacked model
 * writes when it tries to smuggle one, so it is refused as an attempt, and
 * recorded.
 */
async function refuseMisplacedSecret(
  call: Parameters<HostCall>[1],
  req: { url: string; method: string; body: string | undefined },
): Promise<void> {
  const where = SECRET_IN_NAME.test(req.url) ||
      SECRET_IN_NAME.test(decoded(req.url))
    ? "URL"
    : req.body !== undefined && SECRET_IN_NAME.test(req.body)
    ? "body"
    : null;
  if (where === null) return;
  const reason =
    `a secret placeholder may appear only in a header value, not in the ${where}`;
  await call.pure.audit({
    action: {
      type: "http_request",
      url: req.url.slice(0, 2048),
      method: req.method,
    },
    decision: "denied",
    proof: { type: "policy", reason },
  });
  throw new KernelError("POLICY_BLOCKED", `http_request: ${reason}`);
}

/** `http_request`. */
export const httpRequest: HostCall = async (payload, call) => {
  const p = new Params("http_request", payload);
  const raw = p.string("url", 8192);
  const method = p.oneOf("method", METHODS, "GET");
  const headers = p.optRecord("headers") ?? {};
  if (Object.keys(headers).some((name) => SECRET_IN_NAME.test(name))) {
    throw new KernelError(
      "INVALID_INPUT",
      "http_request: a secret placeholder may appear only in a header value, not in a header name",
    );
  }
  const body = p.optString("body");
  await refuseMisplacedSecret(call, { url: raw, method, body });
  const host = hostFromUrl(raw);
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null; // silent-ok: refused just below
  }
  if (host === null || url === null || !/^https?:$/.test(url.protocol)) {
    throw new KernelError(
      "INVALID_INPUT",
      "http_request expects an absolute http(s) URL",
    );
  }
  const request = { kind: "http", url: url.href, method } as const;
  return await call.gated(request, async (granted) => {
    const sent = await substituteSecrets(headers, host, call);
    const signal = AbortSignal.any([
      call.signal,
      AbortSignal.timeout(TIMEOUT_MS),
    ]);
    const res = await granted.fetch({
      headers: sent,
      signal,
      ...(body === undefined ? {} : { body }),
    });
    const text = await readCapped(res, signal);
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: text,
    };
  });
};
