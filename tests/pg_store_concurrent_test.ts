/**
 * The Store on PostgreSQL under concurrent writers in separate processes:
 * three `deno run` children race check-and-set increments of one counter and
 * transactional appends to one list. No update may be lost, and the list must
 * have one order that every writer's own sequence and the versionstamps agree with.
 */
import assert from "node:assert/strict";
import { openPg } from "../kernel/host/open_pg.ts";
import { KvStore } from "../kernel/store/kv_store.ts";
import type { StoreEntry } from "../kernel/store/store.ts";
import { pgTest, startPg } from "./pg_fixture_test.ts";

const WRITERS = 3;
const ROUNDS = 60;

pgTest(
  "three processes racing on one PostgreSQL store lose no update and agree on one order",
  async () => {
    await using pg = await startPg();
    const script = new URL("./fixtures/pg_store_writer.ts", import.meta.url);
    const children = Array.from(
      { length: WRITERS },
      (_, w) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", script.pathname],
          env: {
            ASTRID_TEST_PG_URL: pg.url,
            ASTRID_STORE_PASSWORD: pg.password,
            ASTRID_TEST_WRITER: `w${w}`,
            ASTRID_TEST_ROUNDS: String(ROUNDS),
          },
          stdout: "piped",
          stderr: "piped",
        }).output(),
    );
    const outs = await Promise.all(children);
    for (const out of outs) {
      const text = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const m = /^done (\d+)$/m.exec(text);
      assert.ok(m, text);
    }
    await using store = new KvStore(
      await openPg({ url: pg.url, password: pg.password }),
    );
    const total = WRITERS * ROUNDS;
    assert.equal((await store.get(["race", "counter"]))?.value, total);
    assert.equal((await store.get(["race", "head"]))?.value, total);
    const items: StoreEntry[] = [];
    for await (const e of store.list(["race", "item"])) items.push(e);
    assert.deepEqual(items.map((e) => e.key[2]), [...Array(total).keys()]);
    const stamps = items.map((e) => e.versionstamp);
    assert.deepEqual([...stamps].sort(), stamps);
    assert.equal(new Set(stamps).size, total);
    for (let w = 0; w < WRITERS; w++) {
      const own: number[] = items.map((e) =>
        e.value as { writer: string; i: number }
      )
        .filter((v) => v.writer === `w${w}`).map((v) => v.i);
      assert.deepEqual(own, [...Array(ROUNDS).keys()]);
    }
  },
);
