/**
 * The Store on PostgreSQL: the shared conformance suite on a real server,
 * then what only a network backend has — commit-ordered versionstamps,
 * reconnect after a restart, a commit cut off mid-flight, and secrets that
 * never reach an error.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { KernelError } from "../kernel/core/errors.ts";
import { openPg } from "../kernel/host/open_pg.ts";
import { STORE_CONFORMANCE } from "../kernel/store/_conformance_test_suite.ts";
import { KvStore } from "../kernel/store/kv_store.ts";
import type { Store } from "../kernel/store/store.ts";
import { type PgCluster, pgTest, startPg } from "./pg_fixture_test.ts";

let databases = 0;

/** A fresh database on the cluster; returns its password-free URL. */
async function freshDatabase(pg: PgCluster): Promise<string> {
  const name = `s${++databases}`;
  const admin = postgres(pg.client("postgres"));
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return pg.url.replace("/postgres?", `/${name}?`);
}

async function openStore(url: string, pg: PgCluster): Promise<Store> {
  return new KvStore(await openPg({ url, password: pg.password }));
}

function unavailable(pg: PgCluster, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(KernelError.is(e, "STORE_UNAVAILABLE"), String(e));
    assert.ok(!e.message.includes(pg.password), e.message);
    assert.ok(!e.message.includes(new URL(pg.url).searchParams.get("host")!));
    assert.equal(e.cause, undefined);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

pgTest("the PostgreSQL store passes the Store conformance suite", async (t) => {
  const pg = await startPg();
  try {
    for (const c of STORE_CONFORMANCE) {
      await t.step(c.name, async () => {
        const url = await freshDatabase(pg);
        await c.run(() => openStore(url, pg));
      });
    }
  } finally {
    await pg.destroy();
  }
});

pgTest(
  "PostgreSQL versionstamps have Deno KV's shape, rise with every commit and are shared by one commit's keys",
  async () => {
    await using pg = await startPg();
    await using store = await openStore(await freshDatabase(pg), pg);
    const stamps: string[] = [];
    for (let i = 0; i < 20; i++) stamps.push(await store.set(["ns", i], i));
    for (const s of stamps) assert.match(s, /^[0-9a-f]{20}$/);
    assert.deepEqual([...stamps].sort(), stamps);
    assert.equal(new Set(stamps).size, stamps.length);
    const r = await store.atomic().set(["ns", "a"], 1).set(["ns", "b"], 2)
      .delete(["ns", 0]).commit();
    assert.ok(r.ok);
    const [a, b] = await store.getMany([["ns", "a"], ["ns", "b"]]);
    assert.equal(a?.versionstamp, r.versionstamp);
    assert.equal(b?.versionstamp, r.versionstamp);
    assert.ok(r.versionstamp > stamps.at(-1)!);
    // A failed check writes nothing and does not advance the clock.
    const stale = await store.atomic().check(["ns", "a"], stamps[0]!)
      .set(["ns", "c"], 3).commit();
    assert.deepEqual(stale, { ok: false });
    assert.ok((await store.set(["ns", "d"], 4)) > r.versionstamp);
    assert.equal(await store.get(["ns", "c"]), null);
  },
);

pgTest(
  "the PostgreSQL store fails closed while the server is down and reconnects after it restarts",
  async () => {
    await using pg = await startPg();
    await using store = await openStore(await freshDatabase(pg), pg);
    const v1 = await store.set(["ns", "k"], 1);
    await pg.stop();
    await assert.rejects(() => store.set(["ns", "k"], 2), unavailable(pg));
    await assert.rejects(() => store.get(["ns", "k"]), unavailable(pg));
    await pg.start();
    const entry = await store.get(["ns", "k"]);
    assert.deepEqual(entry, { key: ["ns", "k"], value: 1, versionstamp: v1 });
    const v2 = await store.set(["ns", "k"], 2);
    assert.ok(v2 > v1);
  },
);

pgTest(
  "a PostgreSQL commit whose connection is cut mid-flight throws STORE_UNAVAILABLE (outcome unknown) and is never reported done",
  async () => {
    await using pg = await startPg();
    const url = await freshDatabase(pg);
    await using store = await openStore(url, pg);
    await store.set(["ns", "k"], 1);
    const admin = postgres(pg.client(new URL(url).pathname.slice(1)));
    try {
      await admin.begin(async (tx) => {
        // Hold the commit lock so the store's commit waits inside its transaction.
        await tx`UPDATE astrid_store_clock SET vs = vs WHERE id = 1`;
        const commit = store.atomic().set(["ns", "k"], 2).set(["ns", "j"], 2)
          .commit();
        const settled = commit.then(() => "resolved", (e) => e);
        for (let i = 0; i < 100; i++) {
          const [w] = await tx<{ n: number }[]>`SELECT count(*)::int AS n
          FROM pg_stat_activity WHERE wait_event_type = 'Lock'`;
          if (w!.n > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await tx`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`;
        // Its outcome cannot be proved, so it is an error, never `ok`.
        unavailable(pg, /outcome is unknown/)(await settled);
        throw new Error("roll back the lock holder");
      }).catch((e) => {
        if (
          !(e instanceof Error && e.message === "roll back the lock holder")
        ) {
          throw e;
        }
      });
    } finally {
      await admin.end();
    }
    assert.equal((await store.get(["ns", "k"]))?.value, 1);
    assert.equal(await store.get(["ns", "j"]), null);
  },
);

pgTest(
  "opening the PostgreSQL store never shows its password: a wrong one, or one put in the URL, is refused by code only",
  async () => {
    await using pg = await startPg();
    const wrong = "not-the-password-" + crypto.randomUUID();
    await assert.rejects(
      () => openPg({ url: pg.url, password: wrong, connectTimeoutSecs: 5 }),
      (e: unknown) => {
        assert.ok(KernelError.is(e, "STORE_UNAVAILABLE"), String(e));
        assert.ok(!e.message.includes(wrong));
        assert.match(e.message, /28P01/);
        return true;
      },
    );
    const withPassword = pg.url.replace("astrid@", `astrid:${pg.password}@`);
    await assert.rejects(
      () => openPg({ url: withPassword }),
      (e: unknown) =>
        KernelError.is(e, "CONFIG_INVALID") && !e.message.includes(pg.password),
    );
    await assert.rejects(
      () => openPg({ url: "mysql://x@y/z" }),
      (e: unknown) => KernelError.is(e, "CONFIG_INVALID"),
    );
  },
);

pgTest(
  "the PostgreSQL fixture starts a private cluster that only a password opens, and deletes it",
  async () => {
    const pg = await startPg();
    const dir = new URL(pg.url).searchParams.get("host")!;
    try {
      assert.ok(pg.url.startsWith("postgres://astrid@"));
      assert.ok(!pg.url.includes(pg.password));
      const psql = (password: string) =>
        new Deno.Command("psql", {
          args: [
            `host=${dir} port=${
              new URL(pg.url).port
            } user=astrid dbname=postgres`,
            "-Atc",
            "select 1",
          ],
          env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const ok = await psql(pg.password);
      assert.equal(
        new TextDecoder().decode(ok.stdout).trim(),
        "1",
        new TextDecoder().decode(ok.stderr),
      );
      assert.equal((await psql("wrong")).success, false);
    } finally {
      await pg.destroy();
    }
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  },
);

pgTest(
  "a PostgreSQL restart under load loses no acknowledged commit, and writes resume",
  async () => {
    await using pg = await startPg();
    await using store = await openStore(await freshDatabase(pg), pg);
    const acked = new Map<string, string>();
    let failed = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          acked.set(`${w}/${i}`, await store.set(["load", w, i], { w, i }));
        } catch (e) {
          unavailable(pg)(e);
          failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    const until = async (n: number) => {
      while (acked.size < n) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      await until(50);
      await pg.stop();
      await new Promise((r) => setTimeout(r, 300));
      const before = acked.size;
      await pg.start();
      await until(before + 50);
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    assert.ok(failed > 0, "the restart was felt");
    for (const [id, versionstamp] of acked) {
      const [w, i] = id.split("/").map(Number) as [number, number];
      const entry = await store.get(["load", w, i]);
      assert.deepEqual(entry?.value, { w, i });
      assert.equal(entry?.versionstamp, versionstamp);
    }
  },
);

pgTest(
  "keys and values that look like SQL are stored as data on PostgreSQL",
  async () => {
    await using pg = await startPg();
    await using store = await openStore(await freshDatabase(pg), pg);
    const evil = "x'); DROP TABLE astrid_store; --";
    const keys = [
      ["ns", evil],
      [evil, "k"],
      ["ns", "\\x00ff"],
      ["ns", "$fn$"],
    ] as const;
    for (const k of keys) await store.set(k, { evil, k: [...k] });
    const r = await store.atomic().check(["ns", evil], null).set(
      ["ns", evil],
      1,
    )
      .commit();
    assert.deepEqual(r, { ok: false });
    for (const k of keys) {
      assert.deepEqual((await store.get(k))?.value, { evil, k: [...k] });
    }
    const listed = [];
    for await (const e of store.list(["ns"])) listed.push(e.key[1]);
    assert.deepEqual(listed, ["$fn$", "\\x00ff", evil]);
  },
);
