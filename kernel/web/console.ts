/**
 * The web console: one fetch handler that serves the pages of the browser
 * console (sessions and their live turns, approvals, workspace review,
 * audit, budgets, capsules) and talks to the daemon only through the
 * {@linkcode ApiClient} it is given — the same API as the CLI.
 *
 * Security model:
 * - Nobody gets a page without logging in: a one-time login token (from
 *   `astrid web`'s printed URL, single use, 5 minutes) or, for the headless
 *   server, its bearer token entered in the login form, is exchanged for a
 *   random session cookie (`HttpOnly; SameSite=Strict; Path=/`, plus
 *   `Secure` and the `__Host-` prefix over https). The token never stays in
 *   the address bar: the exchange redirects.
 * - Every POST must carry the session's CSRF token (form field `csrf` or
 *   header `x-csrf-token`, compared in constant time), and must be
 *   same-origin by `Sec-Fetch-Site` and `Origin` when the browser sends
 *   them. The login form itself is checked for same-origin.
 * - With `allowedHosts`, a request naming another `Host` is refused (DNS
 *   rebinding against a loopback console).
 * - Every response carries a strict Content-Security-Policy without inline
 *   script (`http.ts`); every value in a page is escaped (`html.ts`); the
 *   one script inserts server data with `textContent` only.
 * - An approval answered here is relayed with `on_behalf_of: {via: "web",
 *   address}`, so its audit entry says who answered from where.
 *
 * @module
 */
import { KernelError, toWireError } from "../core/errors.ts";
import type { ApiClient } from "../api/client.ts";
import { matchSegments, statusOf } from "../api/router.ts";
import type { ConnectionInfo } from "../api/router.ts";
import { ConsoleAuth, type ConsoleSession } from "./auth.ts";
import { CONSOLE_CSS } from "./console_css.ts";
import { CONSOLE_JS } from "./console_js.ts";
import { html } from "./html.ts";
import {
  cookie,
  htmlResponse,
  readForm,
  redirect,
  sameOrigin,
  secured,
} from "./http.ts";
import { type Flash, layout, type Shell } from "./layout.ts";
import type { CommitJob, PageHandler } from "./page_context.ts";
import { loginPage } from "./page_login.ts";
import * as sessions from "./page_sessions.ts";
import * as approvals from "./page_approvals.ts";
import * as workspace from "./page_workspace.ts";
import * as audit from "./page_audit.ts";
import * as system from "./page_system.ts";

/** Options of {@linkcode createConsole}. */
export interface ConsoleOptions {
  /** The daemon's API. */
  readonly api: ApiClient;
  /** Where the console is mounted: `/` (astrid web) or `/console/` (headless). */
  readonly base?: string;
  /** A long-lived secret the login form accepts (the headless server's token). */
  readonly loginSecret?: () => string;
  /** `Secure` cookies: always, never, or `auto` (https or `X-Forwarded-Proto: https`). */
  readonly secureCookie?: boolean | "auto";
  /** The `Host` values accepted (`host:port`); absent = any. */
  readonly allowedHosts?: readonly string[];
  /** The clock (tests). */
  readonly now?: () => number;
}

/** The console. */
export interface WebConsole {
  /** The fetch handler (`Deno.serve`, or mounted by the headless server). */
  readonly handler: (
    request: Request,
    info?: ConnectionInfo,
  ) => Promise<Response>;
  /** Issues a one-time login token; the login URL is `<base>login?token=<it>`. */
  issueLoginToken(): string;
  /** Ends the open event streams (so that a server can shut down gracefully). */
  close(): void;
}

const COOKIE = "astrid_console";

type Route = readonly [
  method: string,
  segments: readonly string[],
  PageHandler,
];

const ROUTES: readonly Route[] = ([
  ["GET", "sessions", sessions.list],
  ["POST", "sessions", sessions.create],
  ["GET", "sessions/:id", sessions.show],
  ["POST", "sessions/:id/prompt", sessions.prompt],
  ["POST", "sessions/:id/cancel", sessions.cancel],
  ["GET", "sessions/:id/events", sessions.events],
  ["GET", "sessions/:id/workspace", workspace.show],
  ["POST", "sessions/:id/workspace/commit", workspace.commit],
  ["POST", "sessions/:id/workspace/discard", workspace.discard],
  ["GET", "approvals", approvals.list],
  ["POST", "approvals/:id", approvals.answer],
  ["GET", "audit", audit.list],
  ["GET", "audit/entries/:id", audit.show],
  ["POST", "audit/verify", audit.verify],
  ["GET", "audit/export", audit.exportLines],
  ["GET", "budgets", system.budgets],
  ["GET", "capsules", system.capsules],
  ["POST", "capsules/reload", system.reload],
] as const).map(([m, p, h]) => [m, p.split("/"), h] as const);

/**
 * Builds the console.
 *
 * @param options The API client, mount point, login secret, cookie and host policy.
 * @returns The handler and the login-token issuer.
 */
export function createConsole(options: ConsoleOptions): WebConsole {
  const base = options.base ?? "/";
  if (!base.startsWith("/") || !base.endsWith("/")) {
    throw new KernelError(
      "INVALID_INPUT",
      "The console's base path must start and end with '/'",
    );
  }
  const auth = new ConsoleAuth({
    ...(options.now ? { now: options.now } : {}),
    ...(options.loginSecret ? { secret: options.loginSecret } : {}),
  });
  const flashes = new Map<string, Flash>();
  const commits = new Map<string, CommitJob>();
  const closing = new AbortController();
  const allowed = options.allowedHosts ? new Set(options.allowedHosts) : null;

  const secure = (request: Request, url: URL): boolean =>
    options.secureCookie === "auto" || options.secureCookie === undefined
      ? url.protocol === "https:" ||
        request.headers.get("x-forwarded-proto") === "https"
      : options.secureCookie;
  const cookieName = (s: boolean) => s ? `__Host-${COOKIE}` : COOKIE;
  const setCookie = (s: boolean, value: string, maxAge?: number) =>
    `${cookieName(s)}=${value}; Path=/; HttpOnly; SameSite=Strict${
      s ? "; Secure" : ""
    }${maxAge === undefined ? "" : `; Max-Age=${maxAge}`}`;

  const errorPage = (shell: Shell, err: unknown, json: boolean): Response => {
    const wire = toWireError(err);
    const status = statusOf(wire.code);
    if (json) return Response.json({ error: wire }, { status });
    return htmlResponse(
      layout(shell, {
        title: "Something failed",
        content:
          html`<div class="flash error">error[${wire.code}]: ${wire.message}</div>
<p><a href="${shell.base}sessions">Back to the sessions</a></p>`,
      }),
      status,
    );
  };

  async function login(
    request: Request,
    url: URL,
    isSecure: boolean,
  ): Promise<Response> {
    const shell: Shell = { base };
    let given: string | null = null;
    if (request.method === "GET") {
      given = url.searchParams.get("token");
      if (given === null) return htmlResponse(loginPage(shell));
    } else if (request.method === "POST") {
      if (!sameOrigin(request, url)) {
        return htmlResponse(
          loginPage(
            shell,
            "The login form must be sent from this console's own page.",
          ),
          403,
        );
      }
      given = (await readForm(request)).get("token") ?? "";
    } else {
      return new Response(null, { status: 405 });
    }
    const session = auth.login(given.trim());
    if (session === null) {
      return htmlResponse(
        loginPage(
          shell,
          "This login token is invalid, already used or expired. Run 'astrid web' again for a new link.",
        ),
        401,
      );
    }
    return redirect(`${base}sessions`, {
      "set-cookie": setCookie(isSecure, session.id),
    });
  }

  async function handle(
    request: Request,
    info?: ConnectionInfo,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (allowed && !allowed.has(request.headers.get("host") ?? url.host)) {
      return new Response("This console answers only on its own address.\n", {
        status: 421,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    if (!url.pathname.startsWith(base)) {
      if (url.pathname === base.slice(0, -1)) return redirect(base);
      return new Response("Not found\n", { status: 404 });
    }
    const rest = url.pathname.slice(base.length);
    if (request.method === "GET" && rest === "static/console.js") {
      return new Response(CONSOLE_JS, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    }
    if (request.method === "GET" && rest === "static/console.css") {
      return new Response(CONSOLE_CSS, {
        headers: {
          "content-type": "text/css; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    }
    const isSecure = secure(request, url);
    if (rest === "login") return await login(request, url, isSecure);

    const session: ConsoleSession | null = auth.session(
      cookie(request, cookieName(isSecure)),
    );
    const wantsJson = (request.headers.get("accept") ?? "").startsWith(
      "application/json",
    );
    if (session === null) {
      if (request.method === "GET" && !wantsJson) {
        return redirect(`${base}login`);
      }
      return Response.json({
        error: {
          code: "API_UNAUTHORIZED",
          message: "Log in to the console first",
        },
      }, { status: 401 });
    }
    const shell: Shell = { base, csrf: session.csrf };
    try {
      let form = new URLSearchParams();
      if (request.method !== "GET" && request.method !== "HEAD") {
        if (!sameOrigin(request, url)) {
          return refused(shell, wantsJson, "Cross-site request refused");
        }
        form = await readForm(request);
        const token = request.headers.get("x-csrf-token") ?? form.get("csrf");
        if (!auth.checkCsrf(session, token)) {
          return refused(
            shell,
            wantsJson,
            "The form's CSRF token is missing or wrong: reload the page and try again",
          );
        }
        if (rest === "logout") {
          auth.logout(session.id);
          flashes.delete(session.id);
          return redirect(`${base}login`, {
            "set-cookie": setCookie(isSecure, "", 0),
          });
        }
      }
      if (rest === "") return redirect(`${base}sessions`);
      const path = rest.split("/");
      let methodMismatch = false;
      for (const [method, segments, page] of ROUTES) {
        const params = matchSegments(segments, path);
        if (params === null) continue;
        if (method !== request.method) {
          methodMismatch = true;
          continue;
        }
        const flash = flashes.get(session.id);
        flashes.delete(session.id);
        const address = info?.remoteAddr?.hostname;
        return await page({
          api: options.api,
          shell,
          request,
          url,
          params,
          form,
          flash,
          setFlash: (f) => flashes.set(session.id, f),
          origin: { via: "web", ...(address ? { address } : {}) },
          wantsJson,
          closing: closing.signal,
          commits,
        });
      }
      throw new KernelError(
        methodMismatch ? "API_METHOD_NOT_ALLOWED" : "API_NOT_FOUND",
        methodMismatch
          ? `${request.method} is not allowed here`
          : "No such page of the console",
      );
    } catch (err) {
      return errorPage(shell, err, wantsJson);
    }
  }

  return {
    handler: async (request, info) => secured(await handle(request, info)),
    issueLoginToken: () => auth.issueLoginToken(),
    close: () => closing.abort(),
  };
}

function refused(shell: Shell, json: boolean, message: string): Response {
  if (json) {
    return Response.json({ error: { code: "API_UNAUTHORIZED", message } }, {
      status: 403,
    });
  }
  return htmlResponse(
    layout(shell, {
      title: "Request refused",
      content: html`<div class="flash error">${message}</div>`,
    }),
    403,
  );
}
