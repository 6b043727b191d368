import assert from "node:assert/strict";
import type { Clock } from "../core/ports.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import { AuditLog } from "./audit_log.ts";
import type { AuditEntry } from "./audit_entry.ts";
import { headKey, INDEX_NS, LATE_KIND, MARK_KIND } from "./_keys.ts";
import { ALICE, type Fixture, openFixture, rec } from "./_fixture_test.ts";

/** A clock the test sets, forwards and backwards. */
class SetClock implements Clock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Appends `n` entries, one by one and in concurrent groups, while the clock
 * mostly moves forward and sometimes jumps back (up to a minute) or repeats.
 */
async function appendWandering(
  log: AuditLog,
  clock: SetClock,
  rng: () => number,
  n: number,
): Promise<void> {
  let i = 0;
  while (i < n) {
    const r = rng();
    clock.t += r < 0.15
      ? -Math.floor(rng() * 60_000)
      : r < 0.3
      ? 0
      : 1 + Math.floor(rng() * 5_000);
    const group = rng() < 0.2 ? Math.min(n - i, 1 + Math.floor(rng() * 8)) : 1;
    await Promise.all(
      Array.from(
        { length: group },
        () => log.append(rec(ALICE, { call_id: `c${i++}` })),
      ),
    );
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Compares time queries against a brute-force filter over every entry. */
async function checkRanges(
  f: { log: AuditLog },
  all: readonly AuditEntry[],
  rng: () => number,
  rounds: number,
): Promise<void> {
  const times = all.map((e) => e.timestamp);
  const lo = Math.min(...times) - 1_000;
  const hi = Math.max(...times) + 1_000;
  for (let k = 0; k < rounds; k++) {
    const a = lo + Math.floor(rng() * (hi - lo));
    const b = a + Math.floor(rng() * (hi - lo) / (1 + Math.floor(rng() * 20)));
    const from = rng() < 0.1 ? undefined : a;
    const to = rng() < 0.1 ? undefined : b;
    const reverse = rng() < 0.5;
    const limit = rng() < 0.3 ? 1 + Math.floor(rng() * 10) : undefined;
    let want = all.filter((e) =>
      (from === undefined || e.timestamp >= from) &&
      (to === undefined || e.timestamp < to)
    );
    if (reverse) want = want.toReversed();
    if (limit !== undefined) want = want.slice(0, limit);
    const got = await f.log.query({
      principal: ALICE,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(limit === undefined ? {} : { limit }),
      reverse,
    });
    assert.deepEqual(
      got.map((e) => e.seq),
      want.map((e) => e.seq),
      `from ${from} to ${to} reverse ${reverse} limit ${limit}`,
    );
  }
}

async function wanderingFixture(): Promise<Fixture & { clock2: SetClock }> {
  const clock2 = new SetClock();
  const f = await openFixture({ clock: clock2 });
  return Object.assign(f, { clock2 });
}

Deno.test({
  name:
    "`AuditLog.query()` returns exactly the entries of a time range while the clock goes backwards",
  permissions: "none",
  async fn() {
    await using f = await wanderingFixture();
    const rng = lcg(7);
    await appendWandering(f.log, f.clock2, rng, 400);
    const all = await f.log.query({ principal: ALICE, limit: 10_000 });
    assert.equal(all.length, 400);
    let late = 0;
    for await (const _ of f.store.list([INDEX_NS, ALICE, LATE_KIND])) late++;
    assert.ok(late > 10 && late < 400, `${late} late entries`);
    await checkRanges(f, all, rng, 300);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` writes a time mark every 64 entries and a time key only for late entries",
  permissions: "none",
  async fn() {
    await using f = await wanderingFixture();
    for (let i = 0; i < 130; i++) {
      f.clock2.t += i === 100 ? -10 : 1;
      await f.log.append(rec(ALICE));
    }
    const keys = async (kind: string) => {
      const out = [];
      for await (const e of f.store.list([INDEX_NS, ALICE, kind])) {
        out.push(e.key.slice(3));
      }
      return out;
    };
    const t0 = 1_700_000_000_000;
    assert.deepEqual(await keys(MARK_KIND), [
      [t0 + 1, 0],
      [t0 + 65, 64],
      [t0 + 118, 128],
    ]);
    // Entries 100..109 (t0+90..t0+99) are below the max t0+100 of entry 99.
    assert.deepEqual(
      await keys(LATE_KIND),
      Array.from({ length: 10 }, (_, j) => [t0 + 90 + j, 100 + j]),
    );
    assert.deepEqual(await keys("decision"), []);
  },
});

Deno.test({
  name:
    "`AuditLog.query()` stays exact on a chain whose head has no max timestamp (older layout)",
  permissions: "none",
  async fn() {
    await using f = await wanderingFixture();
    const rng = lcg(11);
    await appendWandering(f.log, f.clock2, rng, 150);
    // The older layout: a time key for every entry, no marks, no max in the head.
    for await (const m of f.store.list([INDEX_NS, ALICE, MARK_KIND])) {
      await f.store.delete(m.key);
    }
    for (const e of await f.log.query({ principal: ALICE, limit: 10_000 })) {
      await f.store.set([INDEX_NS, ALICE, LATE_KIND, e.timestamp, e.seq], null);
    }
    await f.store.set(headKey(ALICE), { ...(await f.log.head(ALICE))! });
    const all0 = await f.log.query({ principal: ALICE, limit: 10_000 });
    await checkRanges(f, all0, rng, 100);
    // A fresh log (nothing remembered) recovers the max and keeps appending.
    const log = new AuditLog({
      store: f.store,
      clock: f.clock2,
      random: new SeededRandom(5),
      keyPair: f.keyPair,
    });
    f.clock2.t = Math.min(...all0.map((e) => e.timestamp)) + 1;
    await appendWandering(log, f.clock2, rng, 150);
    const all = await f.log.query({ principal: ALICE, limit: 10_000 });
    assert.equal(all.length, 300);
    await checkRanges(f, all, rng, 200);
    assert.equal((await f.log.verify(ALICE, { pool: "off" })).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.query()` finds allowed and info entries by walking the chain",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const decisions = ["allowed", "denied", "info", "allowed", "deferred"];
    for (const [i, decision] of decisions.entries()) {
      await f.log.append(
        rec(ALICE, { decision: decision as never, call_id: `c${i}` }),
      );
    }
    const calls = async (decision: string, reverse = false) =>
      (await f.log.query({
        principal: ALICE,
        decision: decision as never,
        reverse,
      })).map((e) => e.call_id);
    assert.deepEqual(await calls("allowed"), ["c0", "c3"]);
    assert.deepEqual(await calls("allowed", true), ["c3", "c0"]);
    assert.deepEqual(await calls("info"), ["c2"]);
    assert.deepEqual(await calls("denied"), ["c1"]);
    assert.deepEqual(await calls("deferred"), ["c4"]);
  },
});

Deno.test({
  name:
    "`AuditLog.query()` returns nothing for an empty or inverted time range",
  permissions: "none",
  async fn() {
    await using f = await openFixture({
      keyPair: generateKeyPair(new SeededRandom(3)),
    });
    const e = await f.log.append(rec(ALICE));
    const q = (from: number, to: number) =>
      f.log.query({ principal: ALICE, from, to });
    assert.deepEqual(await q(e.timestamp, e.timestamp), []);
    assert.deepEqual(await q(e.timestamp + 1, e.timestamp), []);
    assert.deepEqual(
      (await q(e.timestamp, e.timestamp + 1)).map((x) => x.seq),
      [0],
    );
  },
});
