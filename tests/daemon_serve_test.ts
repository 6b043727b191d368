/**
 * The headless server under a real `deno serve`: bearer auth with the
 * operator's token, the MCP engine reported unavailable where subprocesses
 * are not permitted, and a refused start without a strong token.
 */
import assert from "node:assert/strict";
import { ApiClient, KernelError } from "../mod.ts";
import { connectDaemonWith, findDaemon } from "../cli/daemon_client.ts";
import { parseFlags } from "../cli/flags.ts";
import type { StatusInfo } from "../mod.ts";
import {
  freePort,
  spawnServe,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";

const TOKEN = "serve-test-token-0123456789abcdefghijklmnop";

Deno.test("deno serve kernel/serve.ts: status with the token answers (mcp unavailable without --allow-run), also through the CLI client's --url/ASTRID_URL; without or with a wrong token 401", async () => {
  await using h = await tempHome();
  const port = freePort();
  const child = spawnServe(h, port, { ASTRID_SERVE_TOKEN: TOKEN }, {
    perms: [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `--allow-net=127.0.0.1:${port}`,
    ],
  });
  const output = child.output();
  try {
    const baseUrl = `http://127.0.0.1:${port}`;
    using good = new ApiClient({ baseUrl }, TOKEN);
    let status: StatusInfo | undefined;
    await waitUntil(async () => {
      try {
        status = await good.call<StatusInfo>("status");
        return true;
      } catch {
        return false;
      }
    }, "the headless server to answer");
    assert.equal(status!.mode, "serve");
    assert.equal(status!.idle_timeout_ms, null);
    const mcp = status!.engines.find((e) => e.name === "mcp");
    assert.equal(mcp?.available, false);
    assert.match(mcp?.reason ?? "", /subprocess/);
    assert.ok(status!.engines.find((e) => e.name === "wasm")?.available);
    for (const bad of ["", "x", TOKEN.slice(1), `${TOKEN}x`]) {
      using client = new ApiClient({ baseUrl }, bad);
      await assert.rejects(
        client.call("status"),
        (e) => KernelError.is(e) && e.code === "API_UNAUTHORIZED",
      );
    }
    const none = await fetch(`${baseUrl}/v1/status`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, "API_UNAUTHORIZED");
    // A headless server is not stopped through the API.
    await assert.rejects(
      good.call("shutdown"),
      (e) => KernelError.is(e) && e.code === "API_METHOD_NOT_ALLOWED",
    );
    assert.equal((await good.call<StatusInfo>("status")).mode, "serve");
    // The CLI's client: --url or ASTRID_URL with ASTRID_TOKEN, never auto-started.
    const { flags } = parseFlags(["--url", baseUrl]);
    using viaFlag = await connectDaemonWith(flags, {
      ...h.env,
      ASTRID_TOKEN: TOKEN,
    });
    assert.equal((await viaFlag.call<StatusInfo>("status")).mode, "serve");
    using viaEnv = await findDaemon(parseFlags([]).flags, {
      ...h.env,
      ASTRID_URL: baseUrl,
      ASTRID_TOKEN: TOKEN,
    });
    assert.equal((await viaEnv!.call<StatusInfo>("status")).mode, "serve");
    await assert.rejects(
      connectDaemonWith(flags, h.env),
      (e) => KernelError.is(e) && e.code === "API_UNAUTHORIZED",
    );
  } finally {
    child.kill("SIGTERM");
    await output;
  }
});

Deno.test("deno serve kernel/serve.ts mounts the web console under /console/: its login form takes the server's token (a wrong one 401), the cookie is Secure behind https, the API still wants its bearer token", async () => {
  await using h = await tempHome();
  const port = freePort();
  const child = spawnServe(h, port, { ASTRID_SERVE_TOKEN: TOKEN }, {
    perms: [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `--allow-net=127.0.0.1:${port}`,
    ],
  });
  const output = child.output();
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => {
      try {
        return (await (await fetch(`${base}/console/login`)).text()) !== "";
      } catch {
        return false;
      }
    }, "the headless server to answer");
    const out = await fetch(`${base}/console/sessions`, { redirect: "manual" });
    await out.body?.cancel();
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/console/login");
    assert.match(
      out.headers.get("content-security-policy")!,
      /script-src 'self'/,
    );
    const login = (token: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/console/login`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "sec-fetch-site": "same-origin",
          ...headers,
        },
        body: new URLSearchParams({ token }),
      });
    const wrong = await login(TOKEN.slice(1));
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);
    const ok = await login(TOKEN);
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    const cookie = ok.headers.get("set-cookie")!;
    assert.match(
      cookie,
      /^astrid_console=\S+; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    const page = await fetch(`${base}/console/sessions`, {
      headers: { cookie: cookie.split(";")[0]! },
    });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<h1>Sessions<\/h1>/);
    const tls = await login(TOKEN, { "x-forwarded-proto": "https" });
    await tls.body?.cancel();
    assert.match(
      tls.headers.get("set-cookie")!,
      /^__Host-astrid_console=.*; Secure$/,
    );
    // The console's cookie is no key to the API.
    const api = await fetch(`${base}/v1/sessions`, {
      headers: { cookie: cookie.split(";")[0]! },
    });
    await api.body?.cancel();
    assert.equal(api.status, 401);
  } finally {
    child.kill("SIGTERM");
    await output;
  }
});

Deno.test("deno serve kernel/serve.ts refuses to start without ASTRID_SERVE_TOKEN or with one shorter than 32 characters", async () => {
  await using h = await tempHome();
  for (
    const env of [{}, { ASTRID_SERVE_TOKEN: "short-token-of-31-characters-xx" }]
  ) {
    const out = await spawnServe(h, freePort(), env, { perms: ["-A"] })
      .output();
    assert.notEqual(out.code, 0);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /error\[CONFIG_INVALID\]: .*ASTRID_SERVE_TOKEN/,
    );
  }
});
