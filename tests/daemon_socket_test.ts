/**
 * The daemon through its real socket: auto-start by the CLI's client,
 * owner-only files, bearer auth, concurrent clients, one daemon per home.
 */
import assert from "node:assert/strict";
import { ApiClient, KernelError } from "../mod.ts";
import type { StatusInfo } from "../mod.ts";
import { connectDaemonWith } from "../cli/daemon_client.ts";
import { parseFlags } from "../cli/flags.ts";
import {
  clientOf,
  exists,
  modeOf,
  readyPid,
  spawnDaemonProcess,
  tempHome,
} from "./daemon_fixture_test.ts";

Deno.test("auto-start: connectDaemon starts an ephemeral daemon serving the workspace, and status answers", async () => {
  await using h = await tempHome();
  assert.equal(await exists(h.files.socket), false);
  const { flags } = parseFlags(["-w", h.workspace]);
  using client = await connectDaemonWith(flags, h.env);
  const status = await client.call<StatusInfo>("status");
  assert.equal(status.mode, "socket");
  assert.equal(status.pid, await readyPid(h.files));
  assert.notEqual(status.pid, Deno.pid);
  assert.equal(status.idle_timeout_ms, 3600 * 1000, "ephemeral: idle exit");
  assert.deepEqual(status.engines.map((e) => e.name), [
    "js",
    "wasm",
    "static",
    "mcp",
  ]);
  assert.deepEqual(status.sessions, { known: 0, live: 0 });
  // A second connect reuses the running daemon.
  using again = await connectDaemonWith(flags, h.env);
  assert.equal((await again.call<StatusInfo>("status")).pid, status.pid);
  // The daemon logs to log/daemon.log (its stdio is not the CLI's).
  assert.match(await Deno.readTextFile(h.log), /daemon serving/);
});

Deno.test("the socket, token and ready files are 0600 in a 0700 run/, and the token is 32 random bytes, new each boot", async () => {
  await using h = await tempHome();
  const first = await spawnDaemonProcess(h);
  assert.equal(await modeOf(h.files.socket), 0o600);
  assert.ok((await Deno.lstat(h.files.socket)).isSocket);
  assert.equal(await modeOf(h.files.token), 0o600);
  assert.equal(await modeOf(h.files.ready), 0o600);
  assert.equal(await modeOf(h.files.lock), 0o600);
  assert.equal(await modeOf(`${h.home}/run`), 0o700);
  const token1 = (await Deno.readTextFile(h.files.token)).trim();
  assert.match(token1, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await first.stop()).code, 0);
  await spawnDaemonProcess(h);
  const token2 = (await Deno.readTextFile(h.files.token)).trim();
  assert.notEqual(token2, token1);
});

Deno.test("a request with a wrong or missing token gets 401 API_UNAUTHORIZED, and the right one still works", async () => {
  await using h = await tempHome();
  await spawnDaemonProcess(h);
  const real = (await Deno.readTextFile(h.files.token)).trim();
  for (const bad of ["wrong", real.slice(0, -1), `${real}x`, " "]) {
    using client = new ApiClient({ socket: h.files.socket }, bad);
    await assert.rejects(
      client.call("status"),
      (e) => KernelError.is(e) && e.code === "API_UNAUTHORIZED",
    );
  }
  using http = Deno.createHttpClient({
    proxy: { transport: "unix", path: h.files.socket },
  });
  const none = await fetch("http://astrid/v1/status", { client: http });
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.code, "API_UNAUTHORIZED");
  const basic = await fetch("http://astrid/v1/status", {
    client: http,
    headers: { authorization: `Basic ${real}` },
  });
  assert.equal(basic.status, 401);
  await basic.body?.cancel();
  using good = await clientOf(h);
  assert.equal((await good.call<StatusInfo>("status")).mode, "socket");
});

Deno.test("two clients at once are both served", async () => {
  await using h = await tempHome();
  const daemon = await spawnDaemonProcess(h);
  using a = await clientOf(h);
  using b = await clientOf(h);
  const calls = [];
  for (let i = 0; i < 20; i++) {
    calls.push(a.call<StatusInfo>("status"), b.call<StatusInfo>("status"));
  }
  const all = await Promise.all(calls);
  assert.equal(all.length, 40);
  assert.ok(all.every((s) => s.pid === daemon.pid));
});

Deno.test("a second daemon on the same home exits with DAEMON_RUNNING and the first keeps serving", async () => {
  await using h = await tempHome();
  const first = await spawnDaemonProcess(h);
  const token = await Deno.readTextFile(h.files.token);
  const second = await spawnDaemonProcess(h, { wait: false });
  const end = await second.exit;
  assert.equal(end.code, 1);
  assert.match(end.stderr, /error\[DAEMON_RUNNING\]/);
  // The refused daemon touched nothing of the first.
  assert.equal(await Deno.readTextFile(h.files.token), token);
  assert.equal(await readyPid(h.files), first.pid);
  using client = await clientOf(h);
  assert.equal((await client.call<StatusInfo>("status")).pid, first.pid);
});

Deno.test("two CLIs auto-starting at once end up on one daemon (the loser of the lock race waits for the winner)", async () => {
  await using h = await tempHome();
  const { flags } = parseFlags(["-w", h.workspace]);
  const [a, b, c] = await Promise.all([
    connectDaemonWith(flags, h.env),
    connectDaemonWith(flags, h.env),
    connectDaemonWith(flags, h.env),
  ]);
  try {
    const pids = await Promise.all(
      [a, b, c].map(async (x) => (await x!.call<StatusInfo>("status")).pid),
    );
    assert.equal(new Set(pids).size, 1);
    assert.equal(pids[0], await readyPid(h.files));
  } finally {
    for (const x of [a, b, c]) x?.close();
  }
});
