import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { Store } from "../store/store.ts";
import { AuditLog } from "./audit_log.ts";
import { GENESIS_HASH } from "./audit_entry.ts";
import type { AuditEntry } from "./audit_entry.ts";
import { headKey } from "./_keys.ts";
import { ALICE, type Fixture, openFixture, rec } from "./_fixture_test.ts";

/** The store of `f`, counting the calls that read the chain head. */
function counting(f: Fixture): { store: Store; reads: () => number } {
  let reads = 0;
  const store = new Proxy(f.store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "get" || prop === "getMany" || prop === "transact") {
        return (...args: unknown[]) => {
          reads++;
          return v.apply(target, args);
        };
      }
      return v.bind(target);
    },
  });
  return { store, reads: () => reads };
}

function second(f: Fixture, store: Store = f.store): AuditLog {
  return new AuditLog({
    store,
    clock: f.clock,
    random: f.random,
    keyPair: f.keyPair,
  });
}

function assertLinear(entries: readonly AuditEntry[]): void {
  entries.forEach((e, i) => {
    assert.equal(e.seq, i);
    assert.equal(e.prev_hash, i === 0 ? GENESIS_HASH : entries[i - 1]!.hash);
  });
}

Deno.test({
  name:
    "`AuditLog.append()` commits on the remembered head without reading the store",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const c = counting(f);
    const log = second(f, c.store);
    await log.append(rec(ALICE));
    const afterFirst = c.reads();
    assert.ok(afterFirst >= 1);
    const more = [];
    for (let i = 0; i < 5; i++) more.push(await log.append(rec(ALICE)));
    assert.equal(c.reads(), afterFirst);
    assert.deepEqual(more.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 6,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` drops a remembered head that another writer moved and appends after the new head",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const c = counting(f);
    const mine = second(f, c.store);
    const a = await mine.append(rec(ALICE, { call_id: "mine-0" }));
    const reads = c.reads();
    const b = await f.log.append(rec(ALICE, { call_id: "other-1" }));
    assert.equal(b.prev_hash, a.hash);
    const next = await mine.append(rec(ALICE, { call_id: "mine-2" }));
    assert.ok(c.reads() > reads, "the moved head was read again");
    assert.equal(next.seq, 2);
    assert.equal(next.prev_hash, b.hash);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 3,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` re-reads the head after a raw rewrite of the head key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const a = await f.log.append(rec(ALICE));
    const raw = await f.store.get(headKey(ALICE));
    // Same value, new versionstamp: a writer touched the head.
    await f.store.set(headKey(ALICE), raw!.value);
    const b = await f.log.append(rec(ALICE));
    assert.equal(b.seq, 1);
    assert.equal(b.prev_hash, a.hash);
    assert.equal((await f.log.verify(ALICE)).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` from two logs taking turns on one chain forms one linear valid chain",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const other = second(f);
    const entries: AuditEntry[] = [];
    for (let i = 0; i < 40; i++) {
      const log = i % 3 === 0 ? other : f.log;
      entries.push(await log.append(rec(ALICE, { call_id: `c${i}` })));
    }
    assertLinear(entries);
    assert.equal((await other.head(ALICE))?.seq, 39);
    assert.deepEqual(await other.verify(ALICE, { pool: "off" }), {
      valid: true,
      entriesVerified: 40,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` from two logs concurrently on one chain never forks it",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const other = second(f);
    await f.log.append(rec(ALICE));
    await other.append(rec(ALICE));
    const all = await Promise.all(
      Array.from(
        { length: 400 },
        (_, i) => (i % 2 ? f.log : other).append(rec(ALICE)),
      ),
    );
    const bySeq = all.toSorted((x, y) => x.seq - y.seq);
    assert.deepEqual(
      bySeq.map((e) => e.seq),
      [...Array(400).keys()].map((i) => i + 2),
    );
    assert.deepEqual(await f.log.verify(ALICE, { pool: "off" }), {
      valid: true,
      entriesVerified: 402,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` fails closed with AUDIT_FAILED on a closed store even with a remembered head",
  permissions: "none",
  async fn() {
    const f = await openFixture();
    const c = counting(f);
    const log = second(f, c.store);
    await log.append(rec(ALICE));
    await log.append(rec(ALICE));
    await f.store.close();
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        log.append(rec(ALICE)),
        (e) => KernelError.is(e, "AUDIT_FAILED") && /closed/.test(e.message),
      );
    }
  },
});
