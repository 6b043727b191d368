import assert from "node:assert/strict";
import { SeededRandom } from "../testing/mod.ts";
import {
  ALICE,
  type Fixture,
  openFixture,
  rec,
  S1,
  S2,
} from "./_fixture_test.ts";
import { headKey, INDEX_NS } from "./_keys.ts";
import { AuditLog } from "./audit_log.ts";

/** The session and capsule index keys of ALICE's chain, as `[kind, value, seq, stored]`. */
async function exactKeys(f: Fixture): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const e of f.store.list([INDEX_NS, ALICE])) {
    const kind = e.key[2];
    if (kind === "session" || kind === "capsule") {
      out.push([...e.key.slice(2), e.value]);
    }
  }
  return out;
}

async function sessionSeqs(log: AuditLog, reverse = false): Promise<number[]> {
  return (await log.query({ principal: ALICE, session: S2, reverse }))
    .map((e) => e.seq);
}

Deno.test({
  name:
    "`AuditLog.append()` from a log that does not remember a block's earlier entries reads them from the store to index the block it completes",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    for (let i = 0; i < 40; i++) {
      await f.log.append(rec(ALICE, { session: i % 10 === 0 ? S2 : S1 }));
    }
    // A second kernel on the same store (nothing remembered) finishes the block.
    const other = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: new SeededRandom(9),
      keyPair: f.keyPair,
    });
    for (let i = 40; i < 64; i++) {
      await other.append(rec(ALICE, { session: i % 10 === 0 ? S2 : S1 }));
    }
    const s2 = [0, 10, 20, 30, 40, 50, 60];
    const s1 = Array.from({ length: 64 }, (_, i) => i).filter((i) =>
      !s2.includes(i)
    );
    assert.deepEqual(await exactKeys(f), [
      ["capsule", "fs", 0, Array.from({ length: 64 }, (_, i) => i)],
      ["session", S1, 1, s1],
      ["session", S2, 0, s2],
    ]);
    assert.deepEqual(await sessionSeqs(f.log), s2);
    assert.equal((await f.log.verify(ALICE)).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` on a chain of the per-commit index layout keeps one key per commit up to the next block boundary, and queries stay exact across the switch",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    for (let i = 0; i < 10; i++) {
      await f.log.append(rec(ALICE, { session: i % 2 === 0 ? S2 : S1 }));
    }
    // The older layout: a head without `index_from`, one key per entry.
    const head = (await f.store.get(headKey(ALICE)))!.value as Record<
      string,
      unknown
    >;
    const { index_from: _, ...old } = head;
    await f.store.set(headKey(ALICE), old as never);
    for (let seq = 0; seq < 10; seq++) {
      const session = seq % 2 === 0 ? S2 : S1;
      await f.store.set([INDEX_NS, ALICE, "session", session, seq], null);
      await f.store.set([INDEX_NS, ALICE, "capsule", "fs", seq], null);
    }
    const log = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: new SeededRandom(5),
      keyPair: f.keyPair,
    });
    for (let i = 10; i < 70; i++) {
      await log.append(rec(ALICE, { session: i % 2 === 0 ? S2 : S1 }));
    }
    const even = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => from + i).filter((i) =>
        i % 2 === 0
      );
    const keys = await exactKeys(f);
    // Below 64: one null key per entry (per commit); 64..69: not yet indexed.
    assert.equal(keys.filter((k) => k[0] === "session").length, 64);
    assert.ok(keys.every((k) => k[3] === null && (k[2] as number) < 64));
    assert.deepEqual(await sessionSeqs(log), even(0, 70));
    assert.deepEqual(await sessionSeqs(log, true), even(0, 70).reverse());
    for (let i = 70; i < 128; i++) {
      await log.append(rec(ALICE, { session: i % 2 === 0 ? S2 : S1 }));
    }
    const block = (await exactKeys(f)).filter((k) => (k[2] as number) >= 64);
    assert.deepEqual(block, [
      ["capsule", "fs", 64, Array.from({ length: 64 }, (_, i) => 64 + i)],
      ["session", S1, 65, even(64, 128).map((s) => s + 1)],
      ["session", S2, 64, even(64, 128)],
    ]);
    assert.deepEqual(await sessionSeqs(log), even(0, 128));
    assert.deepEqual(await sessionSeqs(log, true), even(0, 128).reverse());
    assert.equal((await log.verify(ALICE)).valid, true);
  },
});
