/**
 * The web console's handler through `{handler}` against the real session
 * API (real hub, real kernel, replayed turns): login by one-time token and
 * its cookie, CSRF and cross-site refusals, the security headers on every
 * response, escaping of hostile tool output and file names, and the audit
 * of an approval answered from the console.
 */
import assert from "node:assert/strict";
import type {
  ApprovalInfo,
  SessionBudget,
  SessionInfo,
} from "../kernel/api/contract.ts";
import { createConsole, type WebConsole } from "../kernel/web/console.ts";
import { CSP } from "../kernel/web/http.ts";
import {
  AGENT,
  apiTest,
  code,
  newSession,
  PROBE,
  startApi,
} from "./api_fixture_test.ts";

const ORIGIN = "http://127.0.0.1:8789";

/** A browser: keeps the cookie, sends same-origin headers like Chromium. */
class Browser {
  cookie = "";
  constructor(readonly web: WebConsole, readonly address = "127.0.0.1") {}
  async fetch(
    path: string,
    init: RequestInit & { crossSite?: boolean } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set("cookie", this.cookie);
    if (init.method === "POST") {
      headers.set(
        "sec-fetch-site",
        init.crossSite ? "cross-site" : "same-origin",
      );
      headers.set("origin", init.crossSite ? "https://evil.example" : ORIGIN);
    }
    const r = await this.web.handler(
      new Request(`${ORIGIN}${path}`, { ...init, headers, redirect: "manual" }),
      { remoteAddr: { transport: "tcp", hostname: this.address } },
    );
    const set = r.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0]!;
    return r;
  }
  async login(): Promise<void> {
    const r = await this.fetch(`/login?token=${this.web.issueLoginToken()}`);
    assert.equal(r.status, 303);
  }
  async csrf(path = "/sessions"): Promise<string> {
    const page = await (await this.fetch(path)).text();
    return page.match(/name="csrf-token" content="([^"]+)"/)![1]!;
  }
  post(path: string, fields: Record<string, string>, crossSite = false) {
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      crossSite,
    });
  }
}

function assertSecured(r: Response, what: string): void {
  assert.equal(r.headers.get("content-security-policy"), CSP, what);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(r.headers.get("referrer-policy"), "no-referrer", what);
}

apiTest(
  "web console login: a one-time token sets an HttpOnly SameSite=Strict cookie and redirects without the token; it works once; a made-up or expired token is refused",
  async () => {
    await using fx = await startApi({
      prefix: "web-login-",
      capsules: [PROBE],
    });
    let now = 1_000_000;
    const web = createConsole({ api: fx.client(), now: () => now });
    const b = new Browser(web);
    const logged = await b.fetch("/sessions");
    assert.equal(logged.status, 303);
    assert.equal(logged.headers.get("location"), "/login");
    const token = web.issueLoginToken();
    const r = await b.fetch(`/login?token=${token}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/sessions");
    const set = r.headers.get("set-cookie")!;
    assert.match(
      set,
      /^astrid_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    assert.equal((await b.fetch("/sessions")).status, 200);
    const again = new Browser(web);
    assert.equal(
      (await again.fetch(`/login?token=${token}`)).status,
      401,
      "single use",
    );
    assert.equal(again.cookie, "");
    assert.equal((await again.fetch("/login?token=made-up")).status, 401);
    const late = web.issueLoginToken();
    now += 5 * 60_000 + 1;
    assert.equal(
      (await again.fetch(`/login?token=${late}`)).status,
      401,
      "expired",
    );
    // The login form: same token model by POST; cross-site login refused.
    const form = await again.post(
      "/login",
      { token: web.issueLoginToken() },
      true,
    );
    assert.equal(form.status, 403);
    assert.equal(
      (await again.post("/login", { token: web.issueLoginToken() })).status,
      303,
    );
    // Over https the cookie is Secure and __Host- prefixed.
    const tls = await web.handler(
      new Request(`https://x.example/login?token=${web.issueLoginToken()}`),
    );
    assert.match(
      tls.headers.get("set-cookie")!,
      /^__Host-astrid_console=.*; HttpOnly; SameSite=Strict; Secure$/,
    );
    // Logging out ends the session.
    const csrf = await b.csrf();
    assert.equal((await b.post("/logout", { csrf })).status, 303);
    assert.equal((await b.fetch("/sessions")).status, 303);
  },
);

apiTest(
  "web console: every state-changing request needs the session's CSRF token and same-origin headers; a POST without them changes nothing",
  async () => {
    await using fx = await startApi({ prefix: "web-csrf-", capsules: [PROBE] });
    const web = createConsole({ api: fx.client() });
    const b = new Browser(web);
    await b.login();
    const csrf = await b.csrf();
    const ws = { workspace: fx.tk.workspace };
    assert.equal((await b.post("/sessions", ws)).status, 403, "no token");
    assert.equal(
      (await b.post("/sessions", { ...ws, csrf: csrf.slice(1) + "x" })).status,
      403,
    );
    assert.equal(
      (await b.post("/sessions", { ...ws, csrf }, true)).status,
      403,
      "cross-site",
    );
    assert.deepEqual(await fx.client().call("sessionsList"), []);
    const ok = await b.post("/sessions", { ...ws, csrf });
    assert.equal(ok.status, 303);
    const list = await fx.client().call<SessionInfo[]>("sessionsList");
    assert.equal(list.length, 1);
    assert.equal(
      ok.headers.get("location"),
      `/sessions/${encodeURIComponent(list[0]!.id)}`,
    );
    // Another browser's token does not work for this one.
    const other = new Browser(web);
    await other.login();
    const theirs = await other.csrf();
    assert.equal(
      (await b.post("/sessions", { ...ws, csrf: theirs })).status,
      403,
    );
  },
);

apiTest(
  "web console: every page, asset, redirect and refusal carries the CSP, nosniff and no-referrer; a foreign Host is refused",
  async () => {
    await using fx = await startApi({ prefix: "web-csp-", capsules: [PROBE] });
    const web = createConsole({
      api: fx.client(),
      allowedHosts: ["127.0.0.1:8789"],
    });
    const b = new Browser(web);
    assertSecured(await b.fetch("/login"), "login");
    assertSecured(await b.fetch("/sessions"), "redirect to login");
    const js = await b.fetch("/static/console.js");
    assert.match(js.headers.get("content-type")!, /^text\/javascript/);
    assertSecured(js, "script");
    await b.login();
    const s = await newSession(fx.client(), fx.tk.workspace);
    for (
      const path of [
        "/sessions",
        `/sessions/${s.id}`,
        `/sessions/${s.id}/workspace`,
        "/approvals",
        "/nope",
      ]
    ) {
      const r = await b.fetch(path);
      assertSecured(r, path);
      const text = await r.text();
      assert.doesNotMatch(
        text,
        /<script>|<script [^>]*>[^<]/,
        `${path}: no inline script`,
      );
    }
    assertSecured(await b.post("/sessions", {}), "csrf refusal");
    const rebound = await web.handler(
      new Request("http://evil.example:8789/sessions", {
        headers: { cookie: b.cookie },
      }),
    );
    assert.equal(rebound.status, 421);
  },
);

apiTest(
  "web console: a hostile file name, diff and tool result render as text, never as markup",
  async () => {
    const evil = "<script>alert(1)</script>";
    await using fx = await startApi({
      prefix: "web-escape-",
      capsules: AGENT,
      replay: {
        turns: [
          {
            text: `Writing ${evil}`,
            tool_calls: [{
              name: "write_file",
              arguments: {
                path: `<img src=x onerror=alert(1)>.txt`,
                content: `${evil}\n`,
              },
            }],
          },
          { text: `Done ${evil}` },
        ],
      },
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    for await (
      const _ of c.stream("sessionPrompt", {
        params: { id: s.id },
        body: { text: evil },
      })
    ) { /* the whole turn */ }
    const b = new Browser(createConsole({ api: c }));
    await b.login();
    const page = await (await b.fetch(`/sessions/${s.id}`)).text();
    const review = await (await b.fetch(`/sessions/${s.id}/workspace`)).text();
    for (
      const [name, text] of [["session", page], ["review", review]] as const
    ) {
      assert.ok(!text.includes("<script>alert"), `${name}: ${text}`);
      assert.ok(!text.includes("<img src=x"), name);
    }
    assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(review.includes("&lt;img src=x onerror=alert(1)&gt;.txt"));
    assert.ok(review.includes("+&lt;script&gt;alert(1)&lt;/script&gt;"));
  },
);

apiTest(
  "web console: an approval answered in the browser resumes the turn and is audited with via web and the browser's address",
  async () => {
    await using fx = await startApi({
      prefix: "web-answer-",
      capsules: [PROBE],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const events: { type: string; text?: string }[] = [];
    const turn = (async () => {
      for await (
        const e of c.stream<{ type: string }>("sessionPrompt", {
          params: { id: s.id },
          body: { text: "approve" },
        })
      ) events.push(e);
    })();
    let asked: ApprovalInfo | undefined;
    for (let i = 0; i < 500 && !asked; i++) {
      asked = (await c.call<ApprovalInfo[]>("approvalsList"))[0];
      if (!asked) await new Promise((r) => setTimeout(r, 20));
    }
    const b = new Browser(createConsole({ api: c }), "192.0.2.9");
    await b.login();
    const list = await (await b.fetch("/approvals")).text();
    assert.ok(list.includes(asked!.request_id));
    assert.ok(list.includes("Allow for this session"));
    const csrf = await b.csrf("/approvals");
    const r = await b.post(`/approvals/${asked!.request_id}`, {
      csrf,
      decision: "allow_once",
    });
    assert.equal(r.status, 303);
    await turn;
    assert.equal(events.at(-1)?.text, "decision=allow_once");
    await fx.kernel.security.audit.flush();
    let proof: unknown;
    for await (
      const line of fx.kernel.security.audit.exportJsonl(fx.kernel.principal)
    ) {
      const e = JSON.parse(line);
      if (e.action.type === "approval_answer") proof = e.proof;
    }
    assert.deepEqual(proof, {
      type: "api",
      via: "socket",
      on_behalf_of: { via: "web", address: "192.0.2.9" },
    });
  },
);

apiTest(
  "web console under /console/ (headless server): its login form takes the server's token, a wrong one is refused, pages and links stay under the base",
  async () => {
    await using fx = await startApi({ prefix: "web-base-", capsules: [PROBE] });
    const secret = "s".repeat(40);
    const web = createConsole({
      api: fx.client(),
      base: "/console/",
      loginSecret: () => secret,
    });
    const b = new Browser(web);
    const out = await b.fetch("/console/approvals");
    assert.equal(out.headers.get("location"), "/console/login");
    assert.equal((await b.fetch("/elsewhere")).status, 404);
    assert.equal(
      (await b.post("/console/login", { token: "wrong" })).status,
      401,
    );
    const ok = await b.post("/console/login", { token: secret });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/console/sessions");
    const page = await (await b.fetch("/console/sessions")).text();
    assert.match(page, /href="\/console\/static\/console\.css"/);
    assert.match(page, /action="\/console\/sessions"/);
    assert.ok(
      !/href="\/(?!console\/)/.test(page),
      "every link under /console/",
    );
  },
);

apiTest(
  "the API refuses a malformed on_behalf_of (bad via, extra keys, overlong address) before touching the request",
  async () => {
    await using fx = await startApi({
      prefix: "web-origin-",
      capsules: [PROBE],
    });
    const c = fx.client();
    for (
      const on_behalf_of of [
        "web",
        { via: "Web UI" },
        { via: "web", who: "admin" },
        { via: "web", address: "x".repeat(257) },
      ]
    ) {
      assert.equal(
        await code(c.call("approvalsAnswer", {
          params: { id: "nope" },
          body: { decision: "deny", on_behalf_of },
        })),
        "API_BAD_REQUEST",
        JSON.stringify(on_behalf_of),
      );
    }
    assert.equal(
      await code(c.call("approvalsAnswer", {
        params: { id: "nope" },
        body: { decision: "deny", on_behalf_of: { via: "web" } },
      })),
      "NOT_FOUND",
    );
  },
);

apiTest(
  "GET /v1/sessions/:id/budget reports what a replayed turn spent in the session and its workspace, and the limits; the budgets page shows it",
  async () => {
    await using fx = await startApi({
      prefix: "web-budget-",
      capsules: AGENT,
      replay: { turns: [{ text: "Hello." }] },
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const before = await c.call<SessionBudget>("sessionBudget", {
      params: { id: s.id },
    });
    assert.equal(before.session_spent_usd, 0);
    for await (
      const _ of c.stream("sessionPrompt", {
        params: { id: s.id },
        body: { text: "hi" },
      })
    ) { /* the whole turn */ }
    const after = await c.call<SessionBudget>("sessionBudget", {
      params: { id: s.id },
    });
    assert.ok(after.session_spent_usd > 0, JSON.stringify(after));
    assert.equal(after.workspace_spent_usd, after.session_spent_usd);
    assert.equal(after.workspace, s.workspace);
    assert.equal(after.limits.session_max_usd, 100);
    assert.equal(after.limits.workspace_max_usd, null);
    assert.equal(
      await code(c.call("sessionBudget", { params: { id: "nope" } })),
      "NOT_FOUND",
    );
    const b = new Browser(createConsole({ api: c }));
    await b.login();
    const page = await (await b.fetch("/budgets")).text();
    assert.ok(page.includes(`$${after.session_spent_usd.toFixed(4)}`), page);
  },
);
