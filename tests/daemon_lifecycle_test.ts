/**
 * The daemon's life: graceful stop on signals and through the API, recovery
 * from the files of a killed daemon, the idle exit of an ephemeral daemon.
 */
import assert from "node:assert/strict";
import { KernelError } from "../mod.ts";
import type { StatusInfo } from "../mod.ts";
import { connectDaemonWith, findDaemon } from "../cli/daemon_client.ts";
import { parseFlags } from "../cli/flags.ts";
import {
  clientOf,
  exists,
  readyPid,
  spawnDaemonProcess,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";
import type { TempHome } from "./daemon_fixture_test.ts";
import { acquireDaemonLock } from "../kernel/host/daemon_lock.ts";

async function assertNoRunFiles(h: TempHome): Promise<void> {
  for (
    const f of [h.files.socket, h.files.token, h.files.ready, h.files.lock]
  ) {
    assert.equal(await exists(f), false, `${f} removed`);
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} stops the daemon cleanly: exit 0, its files removed, and the home boots again`, async () => {
    await using h = await tempHome();
    const daemon = await spawnDaemonProcess(h);
    const end = await daemon.stop(signal);
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stderr, new RegExp(`daemon stopped.*reason=${signal}`));
    await assertNoRunFiles(h);
    // The next daemon boots on the same home (the store was closed cleanly).
    const next = await spawnDaemonProcess(h);
    using client = await clientOf(h);
    assert.equal((await client.call<StatusInfo>("status")).pid, next.pid);
  });
}

Deno.test("POST /v1/shutdown answers, then the daemon stops cleanly", async () => {
  await using h = await tempHome();
  const daemon = await spawnDaemonProcess(h);
  {
    using client = await clientOf(h);
    assert.deepEqual(await client.call("shutdown"), { stopping: true });
  }
  const end = await daemon.exit;
  assert.equal(end.code, 0, end.stderr);
  assert.match(end.stderr, /reason=api/);
  await assertNoRunFiles(h);
});

Deno.test("after kill -9 the stale socket and files are recovered: connectDaemon starts a new daemon", async () => {
  await using h = await tempHome();
  const old = await spawnDaemonProcess(h);
  const oldToken = await Deno.readTextFile(h.files.token);
  const end = await old.stop("SIGKILL");
  assert.equal(end.signal, "SIGKILL");
  // The dead daemon's files are all still there.
  for (const f of [h.files.socket, h.files.token, h.files.ready]) {
    assert.ok(await exists(f), `${f} left behind`);
  }
  const { flags } = parseFlags(["-w", h.workspace]);
  // Nobody answers on the stale socket: not running (and not started).
  assert.equal(await findDaemon(flags, h.env), null);
  using client = await connectDaemonWith(flags, h.env);
  const status = await client.call<StatusInfo>("status");
  assert.notEqual(status.pid, old.pid);
  assert.equal(await readyPid(h.files), status.pid);
  assert.notEqual(await Deno.readTextFile(h.files.token), oldToken);
  assert.match(await Deno.readTextFile(h.log), /daemon that died/);
});

Deno.test("an ephemeral daemon exits by itself after timeouts.idle_secs without requests", async () => {
  await using h = await tempHome("[timeouts]\nidle_secs = 1\n");
  const daemon = await spawnDaemonProcess(h, { ephemeral: true });
  {
    using client = await clientOf(h);
    assert.equal(
      (await client.call<StatusInfo>("status")).idle_timeout_ms,
      1000,
    );
  }
  const end = await daemon.exit;
  assert.equal(end.code, 0, end.stderr);
  assert.match(end.stderr, /reason=idle/);
  await assertNoRunFiles(h);
});

Deno.test("a daemon started without --ephemeral does not exit when idle", async () => {
  await using h = await tempHome("[timeouts]\nidle_secs = 1\n");
  const daemon = await spawnDaemonProcess(h);
  using client = await clientOf(h);
  assert.equal((await client.call<StatusInfo>("status")).idle_timeout_ms, null);
  let exited = false;
  daemon.exit.then(() => (exited = true));
  // Longer than the idle timeout of an ephemeral one.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(exited, false);
  await waitUntil(() => exists(h.files.ready), "still ready");
});

Deno.test("an invalid config: auto-start refuses before starting anything (the flags come from the config), and a daemon started anyway exits 1 with the code and leaves no files", async () => {
  await using h = await tempHome("[timeouts]\nidle_secs = 0\n");
  const { flags } = parseFlags(["-w", h.workspace]);
  await assert.rejects(
    connectDaemonWith(flags, h.env),
    (e) =>
      KernelError.is(e) && e.code === "CONFIG_INVALID" &&
      /idle_secs/.test(e.message),
  );
  await assertNoRunFiles(h);
  const direct = await spawnDaemonProcess(h, {
    wait: false,
    flags: [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-run",
    ],
  });
  const end = await direct.exit;
  assert.equal(end.code, 1);
  assert.match(end.stderr, /error\[CONFIG_INVALID\]/);
  await assertNoRunFiles(h);
});

Deno.test("auto-start that loses the lock to a daemon which then goes away (an idle exit) starts again and connects", async () => {
  await using h = await tempHome();
  await Deno.mkdir(`${h.home}/run`, { recursive: true, mode: 0o700 });
  // This test process plays the daemon that is just stopping.
  const lock = await acquireDaemonLock(h.files.lock);
  const { flags } = parseFlags(["-w", h.workspace]);
  const connecting = connectDaemonWith(flags, h.env);
  await waitUntil(
    async () =>
      (await Deno.readTextFile(h.log).catch(() => "")).includes(
        "DAEMON_RUNNING",
      ),
    "the first daemon to be refused",
  );
  await lock.release();
  using client = await connecting;
  const status = await client.call<StatusInfo>("status");
  assert.equal(status.pid, await readyPid(h.files));
});
