/**
 * `astrid web` as a process: usage errors, and the warning when it is told
 * to listen beyond loopback.
 */
import assert from "node:assert/strict";
import { CLI_MAIN, CLI_PERMS, runAstrid } from "./cli_fixture_test.ts";
import { tempHome } from "./daemon_fixture_test.ts";

Deno.test("astrid web refuses a bad port or extra arguments with a usage error (exit 2)", async () => {
  await using h = await tempHome();
  for (const args of [["--port", "70000"], ["--port", "x"], ["now"]]) {
    const r = await runAstrid(["web", ...args], {
      env: h.env,
      cwd: h.workspace,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /port|Expected: astrid web/);
  }
  const help = await runAstrid(["web", "--help"], { env: h.env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /one-time login URL/);
});

Deno.test("astrid web --host 0.0.0.0 warns that the console leaves loopback over plain HTTP, then serves", async () => {
  await using h = await tempHome();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...CLI_PERMS,
      CLI_MAIN,
      "web",
      "--host",
      "0.0.0.0",
      "--port",
      "0",
    ],
    env: h.env,
    clearEnv: true,
    cwd: h.workspace,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!text.includes("login?token=")) {
      const { value, done } = await stdout.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /http:\/\/0\.0\.0\.0:\d+\/login\?token=/);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // silent-ok: it already exited; the assertion above says why.
    }
    await stdout.cancel().catch(() => {});
    const err = await new Response(child.stderr).text();
    await child.status;
    assert.match(err, /warning: .*beyond this machine.*TLS/);
  }
});

Deno.test("astrid web starts the daemon when none runs, and reaches a new one after it stopped (an ephemeral daemon idles out)", async () => {
  await using h = await tempHome();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLI_PERMS, CLI_MAIN, "web", "--port", "0"],
    env: h.env,
    clearEnv: true,
    cwd: h.workspace,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!/login\?token=\S+\n/.test(text)) {
      const { value, done } = await stdout.read();
      if (done) throw new Error(`astrid web ended: ${text}`);
      text += value;
    }
    const login = text.match(/(http:\/\/\S+\/login\?token=\S+)/)![1]!;
    const origin = new URL(login).origin;
    const r = await fetch(login, { redirect: "manual" });
    await r.body?.cancel();
    const cookie = r.headers.get("set-cookie")!.split(";")[0]!;
    const sessions = async () => {
      const page = await fetch(`${origin}/sessions`, { headers: { cookie } });
      return [page.status, await page.text()] as const;
    };
    assert.equal((await sessions())[0], 200);
    const stop = await runAstrid(["stop"], { env: h.env, cwd: h.workspace });
    assert.equal(stop.code, 0, stop.stderr);
    const [status, page] = await sessions();
    assert.equal(status, 200, page);
    assert.match(page, /<h1>Sessions<\/h1>/);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // silent-ok: it already exited; the assertion above says why.
    }
    await stdout.cancel().catch(() => {});
    await child.status;
  }
});
