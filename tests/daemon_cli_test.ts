/**
 * `astrid start | status | stop` as a user runs them (real CLI
 * subprocesses on a throwaway home).
 */
import assert from "node:assert/strict";
import { CLI_MAIN, CLI_PERMS, runAstrid } from "./cli_fixture_test.ts";
import {
  exists,
  readyPid,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";

Deno.test("astrid status exits 1 when no daemon runs and does not start one", async () => {
  await using h = await tempHome();
  const r = await runAstrid(["status"], { env: h.env, cwd: h.workspace });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /not running/);
  assert.equal(await exists(h.files.socket), false);
  const j = await runAstrid(["status", "--json"], { env: h.env });
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stdout), { running: false });
});

Deno.test("astrid start starts a daemon that stays, status shows it, stop stops it and waits until its socket is gone", async () => {
  await using h = await tempHome();
  const start = await runAstrid(["start", "-w", h.workspace], { env: h.env });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /daemon: started \(pid \d+\)/);
  const pid = await readyPid(h.files);
  assert.ok(pid !== null);
  const again = await runAstrid(["start"], { env: h.env, cwd: h.workspace });
  assert.equal(again.code, 0);
  assert.match(again.stdout, new RegExp(`already running \\(pid ${pid}\\)`));
  const status = await runAstrid(["status", "--json"], { env: h.env });
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  assert.equal(s.running, true);
  assert.equal(s.pid, pid);
  assert.equal(s.idle_timeout_ms, null, "astrid start: not ephemeral");
  const text = await runAstrid(["status"], { env: h.env });
  assert.match(text.stdout, /daemon: +running \(socket, pid \d+/);
  const stop = await runAstrid(["stop"], { env: h.env });
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /daemon: stopped/);
  assert.equal(await exists(h.files.socket), false);
  assert.equal(await exists(h.files.ready), false);
  const none = await runAstrid(["stop"], { env: h.env });
  assert.equal(none.code, 0);
  assert.match(none.stdout, /not running/);
});

Deno.test("astrid start --foreground runs the daemon attached and stops it gracefully on SIGTERM", async () => {
  await using h = await tempHome();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...CLI_PERMS,
      CLI_MAIN,
      "start",
      "--foreground",
      "-w",
      h.workspace,
    ],
    env: h.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  await waitUntil(async () => (await readyPid(h.files)) !== null, "ready");
  assert.notEqual(await readyPid(h.files), child.pid, "the daemon is a child");
  child.kill("SIGTERM");
  const out = await output;
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.match(stderr, /daemon stopped/, "its log went to this terminal");
  assert.equal(await exists(h.files.socket), false);
});

Deno.test("start, status and stop each have --help", async () => {
  for (const cmd of ["start", "status", "stop"]) {
    const r = await runAstrid([cmd, "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^astrid ${cmd} — `));
    assert.match(r.stdout, new RegExp(`Usage: astrid ${cmd}`));
  }
});
