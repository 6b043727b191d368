/**
 * The console's HTTP hygiene: the security headers every response carries
 * (a strict Content-Security-Policy without inline script, no sniffing, no
 * referrer, no framing), bounded form bodies, cookies, and the same-origin
 * check of state-changing requests.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Html } from "./html.ts";

/** The Content-Security-Policy of every response. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The largest form body read (64 KiB: a prompt, a list of paths). */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * Adds the security headers to a response (in place when its headers are
 * mutable, else on a copy).
 *
 * @param response The response.
 * @returns A response with the headers.
 */
export function secured(response: Response): Response {
  let r = response;
  try {
    r.headers.set("content-security-policy", CSP);
  } catch {
    r = new Response(r.body, r);
    r.headers.set("content-security-policy", CSP);
  }
  r.headers.set("x-content-type-options", "nosniff");
  r.headers.set("referrer-policy", "no-referrer");
  r.headers.set("x-frame-options", "DENY");
  r.headers.set("cross-origin-opener-policy", "same-origin");
  r.headers.set("cross-origin-resource-policy", "same-origin");
  if (!r.headers.has("cache-control")) {
    r.headers.set("cache-control", "no-store");
  }
  return r;
}

/**
 * An HTML page response.
 *
 * @param body The page.
 * @param status The status.
 * @param headers Extra headers.
 * @returns The response.
 */
export function htmlResponse(
  body: Html,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(`<!doctype html>\n${body}`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...headers },
  });
}

/**
 * A `303 See Other` to a path of the console.
 *
 * @param location Where to.
 * @param headers Extra headers (e.g. `set-cookie`).
 * @returns The response.
 */
export function redirect(
  location: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(null, { status: 303, headers: { location, ...headers } });
}

/**
 * Reads an `application/x-www-form-urlencoded` body of at most
 * {@linkcode MAX_FORM_BYTES}.
 *
 * @param request The request.
 * @returns Its fields.
 * @throws {KernelError} `API_BODY_TOO_LARGE`, `API_BAD_REQUEST`.
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (request.body === null) return new URLSearchParams();
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new KernelError(
      "API_BAD_REQUEST",
      "The console accepts form posts (application/x-www-form-urlencoded) only",
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_FORM_BYTES) {
      throw new KernelError(
        "API_BODY_TOO_LARGE",
        `The form exceeds ${MAX_FORM_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/**
 * One cookie of a request.
 *
 * @param request The request.
 * @param name The cookie's name.
 * @returns Its value.
 */
export function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      return part.slice(i + 1).trim();
    }
  }
  return undefined;
}

/**
 * Whether a state-changing request comes from the console's own pages. A
 * browser's `Sec-Fetch-Site` (which no page can forge) decides when sent:
 * it must be `same-origin`. Without it, `Origin` (when sent) must name the
 * host the request was made to. (Under `Referrer-Policy: no-referrer`,
 * Chromium sends `Origin: null` with a same-origin form post, so `null`
 * counts only when `Sec-Fetch-Site` vouches for the request.)
 *
 * @param request The request.
 * @param url Its URL.
 * @returns Whether it is same-origin.
 */
export function sameOrigin(request: Request, url: URL): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) return site === "same-origin";
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  try {
    return new URL(origin).host === url.host;
  } catch {
    return false;
  }
}

/**
 * Relays a stream (the daemon's SSE) to the browser and ends it when
 * `signal` aborts — also while a read is pending — so that closing the
 * console never waits for a stream that would run forever.
 *
 * @param source The upstream body.
 * @param signal Ends the relay.
 * @param onEnd Called once when the relay has ended, however it ended
 *   (the upstream finished or failed, the browser went away, `signal`).
 * @returns The body to send.
 */
export function relay(
  source: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
  onEnd: () => void = () => {},
): ReadableStream<Uint8Array> | null {
  if (source === null) {
    onEnd();
    return null;
  }
  const reader = source.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    signal.removeEventListener("abort", stop);
    onEnd();
  };
  let stop: () => void = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stop = () => {
        end();
        try {
          controller.close();
        } catch {
          // silent-ok: already closed
        }
        reader.cancel().catch(() => {});
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (signal.aborted) return;
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        if (!signal.aborted) {
          end();
          controller.error(err);
        }
      }
    },
    cancel() {
      end();
      return reader.cancel();
    },
  });
}
