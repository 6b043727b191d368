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
import { type LinkedSignal, linkSignals } from "../core/linked_signal.ts";
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
  call: CallState,
  req: GuestHttpRequest,
): Promise<void> {
  const url = req.url.href;
  const where = SECRET_IN_NAME.test(url) || SECRET_IN_NAME.test(decoded(url))
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
      url: url.slice(0, 2048),
      method: req.method,
    },
    decision: "denied",
    proof: { type: "policy", reason },
  });
  throw new KernelError("POLICY_BLOCKED", `HTTP: ${reason}`);
}

/** A validated HTTP request of a guest, not yet decided. */
export interface GuestHttpRequest {
  /** The absolute http(s) URL. */
  readonly url: URL;
  /** Its host (what `secret_use` is decided for). */
  readonly host: string;
  readonly method: (typeof METHODS)[number];
  /** Header values may hold `{{secret:NAME}}` placeholders. */
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Validates the request fields every HTTP host call shares (`url`,
 * `method`, `headers`, `body`).
 *
 * @param fn The host function (for messages).
 * @param p Its payload.
 * @returns The request.
 * @throws {KernelError} `INVALID_INPUT` on a non-http(s) URL, an unknown
 *   method or a secret placeholder in a header name.
 */
export function readHttpRequest(fn: string, p: Params): GuestHttpRequest {
  const raw = p.string("url", 8192);
  const method = p.oneOf("method", METHODS, "GET");
  const headers = p.optRecord("headers") ?? {};
  if (Object.keys(headers).some((name) => SECRET_IN_NAME.test(name))) {
    throw new KernelError(
      "INVALID_INPUT",
      `${fn}: a secret placeholder may appear only in a header value, not in a header name`,
    );
  }
  const body = p.optString("body");
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
      `${fn} expects an absolute http(s) URL`,
    );
  }
  return { url, host, method, headers, body };
}

/**
 * The one door of every HTTP host call: decides the request as
 * `capsule_http_request` (manifest `net`, SSRF policy), substitutes secret
 * placeholders (each after its own `secret_use` decision), fetches through
 * the port bound to the decision (`_checked_fetch.ts`: DNS check, pinned
 * address, redirects not followed), and hands the response to `use` — still
 * inside the decision, so its outcome is what the audit entry records.
 *
 * @param request The validated request.
 * @param call The call state.
 * @param o `signal` is called once the request is allowed (so a wait for
 *   approval does not count against a deadline); the signal it returns
 *   cancels the fetch and is handed to `use`.
 * @param use What to do with the response (read it whole, or keep it open).
 * @returns What `use` returns.
 * @throws {KernelError} The refusal's code, `NOT_FOUND` for an unset secret,
 *   or what the fetch or `use` throws.
 */
export async function gatedHttp<T>(
  request: GuestHttpRequest,
  call: CallState,
  o: { signal: () => AbortSignal },
  use: (res: Response, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  await refuseMisplacedSecret(call, request);
  const decided = {
    kind: "http",
    url: request.url.href,
    method: request.method,
  } as const;
  return await call.gated(decided, async (granted) => {
    const sent = await substituteSecrets(request.headers, request.host, call);
    const signal = o.signal();
    let res: Response;
    try {
      res = await granted.fetch({
        headers: sent,
        signal,
        ...(request.body === undefined ? {} : { body: request.body }),
      });
    } catch (err) {
      throw fetchFailure(err, signal, request.host);
    }
    return await use(res, signal);
  });
}

/**
 * A failed fetch as a kernel error: the abort's own reason (a cap, the end
 * of the call) or `ABORTED`; a refused or broken connection `HOST_IO`.
 */
function fetchFailure(
  err: unknown,
  signal: AbortSignal,
  host: string,
): KernelError {
  if (KernelError.is(err)) return err;
  if (signal.aborted) {
    return KernelError.is(signal.reason)
      ? signal.reason
      : new KernelError("ABORTED", `The request to ${host} was cancelled`, {
        cause: err,
      });
  }
  return new KernelError(
    "HOST_IO",
    `Cannot reach ${host}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}

/** `http_request`. */
export const httpRequest: HostCall = async (payload, call) => {
  const request = readHttpRequest(
    "http_request",
    new Params("http_request", payload),
  );
  // The deadline starts once the request is allowed, and ends with it.
  let deadline: LinkedSignal | undefined;
  const signal = () =>
    (deadline = linkSignals([call.signal], { timeoutMs: TIMEOUT_MS })).signal;
  try {
    return await gatedHttp(request, call, { signal }, async (res, signal) => ({
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: await readCapped(res, signal),
    }));
  } finally {
    deadline?.unlink();
  }
};
