import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "./kv_store.ts";

const fsPerms = { read: true, write: true } as const;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid_store_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function unavailable(pattern: RegExp): (e: unknown) => boolean {
  return (e) =>
    KernelError.is(e, "STORE_UNAVAILABLE") && pattern.test(e.message);
}

Deno.test({
  name:
    "`KvStore` on a file keeps entries, versionstamps and order after close and reopen",
  permissions: fsPerms,
  async fn() {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "state.kv");
      const first = new KvStore(await openKv(file));
      const vs = await first.set(["caps:tokens", "t1"], {
        scope: "fs",
        exp: 1,
      });
      await first.set(["blob", "b"], new Uint8Array([1, 2, 3]));
      for (let i = 3; i > 0; i--) await first.set(["log", i], `entry ${i}`);
      await first.close();

      const second = new KvStore(await openKv(file));
      try {
        assert.deepEqual(await second.get(["caps:tokens", "t1"]), {
          key: ["caps:tokens", "t1"],
          value: { exp: 1, scope: "fs" },
          versionstamp: vs,
        });
        assert.deepEqual(
          (await second.get(["blob", "b"]))?.value,
          new Uint8Array([1, 2, 3]),
        );
        const log = [];
        for await (const e of second.list(["log"])) log.push(e.value);
        assert.deepEqual(log, ["entry 1", "entry 2", "entry 3"]);
        // A stale versionstamp from before the restart still fails its check.
        await second.set(["caps:tokens", "t1"], { scope: "fs", exp: 2 });
        const stale = await second.atomic().check(["caps:tokens", "t1"], vs)
          .delete(["caps:tokens", "t1"]).commit();
        assert.equal(stale.ok, false);
      } finally {
        await second.close();
      }
    });
  },
});

Deno.test({
  name:
    "`openKv()` refuses a second opener of the same file while the first holds it",
  permissions: fsPerms,
  async fn() {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "state.kv");
      const owner = new KvStore(await openKv(file));
      await assert.rejects(
        () => openKv(file),
        unavailable(/another process holds it; only the daemon may open it/),
      );
      await owner.set(["ns", "k"], "still works");
      await owner.close();
      const next = new KvStore(await openKv(file));
      assert.equal((await next.get(["ns", "k"]))?.value, "still works");
      await next.close();
    });
  },
});

Deno.test({
  name: "`openKv()` refuses to open a file that another process holds",
  permissions: { ...fsPerms, run: true },
  async fn() {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "state.kv");
      const openKvUrl = new URL("../host/open_kv.ts", import.meta.url).href;
      const script = `
        const { openKv } = await import(${JSON.stringify(openKvUrl)});
        const kv = await openKv(${JSON.stringify(file)});
        console.log("ready");
        for await (const _ of Deno.stdin.readable) { /* hold until stdin closes */ }
        kv.close();
      `;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          "--unstable-kv",
          "--no-config",
          "--allow-read",
          "--allow-write",
          script,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      while (!out.includes("ready")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      try {
        assert.ok(out.includes("ready"), "child did not open the store");
        await assert.rejects(
          () => openKv(file),
          unavailable(/another process holds it/),
        );
      } finally {
        await child.stdin.close();
        await reader.cancel();
        await child.status;
      }
      const kv = await openKv(file);
      kv.close();
    });
  },
});

Deno.test({
  name: "`openKv()` creates the database file readable by its owner only",
  permissions: fsPerms,
  ignore: Deno.build.os === "windows",
  async fn() {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "state.kv");
      const store = new KvStore(await openKv(file));
      await store.set(["ns", "k"], 1);
      for (const f of [file, `${file}.lock`, `${file}-wal`, `${file}-shm`]) {
        assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600, f);
      }
      await store.close();
    });
  },
});

Deno.test({
  name: "`openKv()` tightens an existing database file that others can read",
  permissions: fsPerms,
  ignore: Deno.build.os === "windows",
  async fn() {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "state.kv");
      (await openKv(file)).close();
      await Deno.chmod(file, 0o644);
      const kv = await openKv(file);
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      kv.close();
    });
  },
});

Deno.test({
  name: "`openKv()` reports a missing directory as STORE_UNAVAILABLE",
  permissions: fsPerms,
  async fn() {
    await withTempDir(async (dir) => {
      await assert.rejects(
        () => openKv(path.join(dir, "missing", "state.kv")),
        unavailable(/directory does not exist/),
      );
    });
  },
});

Deno.test({
  name: "`openKv()` reports a denied path as HOST_PERMISSION_DENIED",
  permissions: "none",
  async fn() {
    await assert.rejects(
      () => openKv("/tmp/astrid-denied/state.kv"),
      (e: unknown) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
  },
});
