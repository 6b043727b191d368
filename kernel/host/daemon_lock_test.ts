import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { acquireDaemonLock } from "./daemon_lock.ts";

Deno.test("acquireDaemonLock: a second holder is refused with DAEMON_RUNNING until the first releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = path.join(dir, "system.lock");
    const first = await acquireDaemonLock(file);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    await assert.rejects(
      acquireDaemonLock(file),
      (e) => KernelError.is(e) && e.code === "DAEMON_RUNNING",
    );
    await first.release();
    await first.release();
    assert.equal(await Deno.stat(file).catch(() => null), null, "removed");
    const second = await acquireDaemonLock(file);
    await second.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireDaemonLock: a lock file left by a dead process (no flock held) is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = path.join(dir, "system.lock");
    await Deno.writeTextFile(file, "99999999\n");
    const lock = await acquireDaemonLock(file);
    assert.equal(await Deno.readTextFile(file), `${Deno.pid}\n`);
    await lock.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
