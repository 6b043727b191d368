import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import { entryKey, headKey } from "./_keys.ts";
import {
  ALICE,
  BOB,
  editStored,
  fill,
  openFixture,
  rawEntry,
  rec,
  resignStored,
} from "./_fixture_test.ts";
import { AUTO_POOL_MIN_ENTRIES, verifyChain } from "./verify_chain.ts";
import { AuditVerifyPool } from "./verify_pool.ts";
import type { AuditVerifyResult } from "./verify_result.ts";

function firstBad(r: AuditVerifyResult): [number, string] {
  assert.equal(r.valid, false);
  return [r.firstBad!.seq, r.firstBad!.code];
}

Deno.test({
  name: "`AuditLog.verify()` accepts an intact chain and counts its entries",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 25);
    const seen: number[] = [];
    const r = await f.log.verify(ALICE, { onProgress: (n) => seen.push(n) });
    assert.deepEqual(r, { valid: true, entriesVerified: 25 });
    assert.deepEqual(seen, [25]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` names an entry whose field was edited in the store",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    await editStored(f, { principal: ALICE, seq: 6 }, (b) => {
      b.decision = "denied";
    });
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [6, "HASH_MISMATCH"]);
    assert.equal(r.firstBad?.id, (await f.log.get(ALICE, 6))?.id);
    assert.equal(r.entriesVerified, 6);
  },
});

Deno.test({
  name: "`AuditLog.verify()` names the position of a deleted entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    await f.store.delete(entryKey(ALICE, 4));
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [4, "SEQ_GAP"]);
    assert.match(r.firstBad!.reason, /Entry 4 is missing/);
  },
});

Deno.test({
  name: "`AuditLog.verify()` names the first of two swapped entries",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    const a = await rawEntry(f, ALICE, 3);
    const b = await rawEntry(f, ALICE, 4);
    await f.store.set(entryKey(ALICE, 3), b);
    await f.store.set(entryKey(ALICE, 4), a);
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [3, "REORDERED"]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects an entry re-signed with a foreign key as untrusted",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    const attacker = generateKeyPair(new SeededRandom(666));
    await resignStored(f, { principal: ALICE, seq: 5 }, attacker, (b) => {
      b.decision = "allowed";
      b.key_id = attacker.keyId;
    });
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [5, "KEY_UNTRUSTED"]);
    assert.match(r.firstBad!.reason, new RegExp(attacker.keyId));
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects a foreign signature that claims the runtime key id",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    const attacker = generateKeyPair(new SeededRandom(666));
    await resignStored(f, { principal: ALICE, seq: 2 }, attacker, (b) => {
      b.outcome = { status: "success" };
    });
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE, { pool: "off" })),
      [2, "SIGNATURE_INVALID"],
    );
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects a validly signed entry that does not link to its predecessor",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 6);
    // Even the key holder cannot splice in an entry with a broken link.
    await resignStored(f, { principal: ALICE, seq: 3 }, f.keyPair, (b) => {
      b.prev_hash = "ab".repeat(32);
    });
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE)),
      [3, "PREV_HASH_MISMATCH"],
    );
  },
});

Deno.test({
  name: "`AuditLog.verify()` detects a truncated tail through the chain head",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 10);
    const head = await f.log.head(ALICE);
    await f.store.delete(entryKey(ALICE, 9));
    await f.store.delete(entryKey(ALICE, 8));
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [8, "TRUNCATED"]);
    assert.equal(r.entriesVerified, 8);
    await f.store.delete(entryKey(ALICE, 7));
    await f.store.set(headKey(ALICE), { ...head!, seq: 7 });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [7, "TRUNCATED"]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` flags a deleted head and an entry written beyond the head",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 4);
    const head = (await f.store.get(headKey(ALICE)))!.value;
    await f.store.delete(headKey(ALICE));
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [3, "HEAD_MISSING"]);
    await f.store.set(headKey(ALICE), head);
    await f.store.set(entryKey(ALICE, 4), await rawEntry(f, ALICE, 3));
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [4, "HEAD_MISMATCH"]);
  },
});

Deno.test({
  name: "`AuditLog.verify()` rejects an entry copied from another chain",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 3, ALICE);
    await fill(f, 3, BOB);
    await f.store.set(entryKey(ALICE, 1), await rawEntry(f, BOB, 1));
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE)),
      [1, "PRINCIPAL_MISMATCH"],
    );
  },
});

Deno.test({
  name: "`AuditLog.verify()` reports garbage in the store as MALFORMED",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 3);
    await f.store.set(entryKey(ALICE, 1), new Uint8Array([1, 2, 3]));
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [1, "MALFORMED"]);
    await f.store.set(entryKey(ALICE, 1), { seq: 1 });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [1, "MALFORMED"]);
  },
});

Deno.test({
  name: "`AuditLog.verify()` names the earliest of several tampered entries",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 300);
    const attacker = generateKeyPair(new SeededRandom(9));
    await resignStored(f, { principal: ALICE, seq: 250 }, attacker);
    await editStored(f, { principal: ALICE, seq: 270 }, (b) => {
      b.call_id = "x";
    });
    await resignStored(f, { principal: ALICE, seq: 40 }, attacker);
    using workers = new AuditVerifyPool({ workers: 2 });
    for (const pool of ["off", workers] as const) {
      const r = await f.log.verify(ALICE, { pool });
      assert.deepEqual(firstBad(r), [40, "SIGNATURE_INVALID"]);
      assert.equal(r.entriesVerified, 40);
    }
  },
});

Deno.test({
  name: "`verifyChain()` trusts only the pinned keys for the first entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    const other = generateKeyPair(new SeededRandom(5));
    const r = await verifyChain(f.store, ALICE, {
      pinnedKeys: [other.publicKey],
    });
    assert.deepEqual(firstBad(r), [0, "KEY_UNTRUSTED"]);
    const byId = new Map([[f.keyPair.keyId, f.keyPair.publicKey]]);
    assert.equal(
      (await verifyChain(f.store, ALICE, { pinnedKeys: byId })).valid,
      true,
    );
    const wrong = new Map([[other.keyId, f.keyPair.publicKey]]);
    await assert.rejects(
      verifyChain(f.store, ALICE, { pinnedKeys: wrong }),
      TypeError,
    );
  },
});

Deno.test({
  name: "`AuditLog.verify()` stops with ABORTED when its signal fires",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 5);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      f.log.verify(ALICE, { signal: ac.signal }),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` checks a long chain on temporary workers and still names the first bad entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const n = AUTO_POOL_MIN_ENTRIES;
    for (let i = 0; i < n; i += 256) {
      await Promise.all(
        Array.from({ length: 256 }, () => f.log.append(rec(ALICE))),
      );
    }
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: n,
    });
    const attacker = generateKeyPair(new SeededRandom(13));
    await resignStored(f, { principal: ALICE, seq: 3_001 }, attacker);
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE)),
      [3_001, "SIGNATURE_INVALID"],
    );
    const ac = new AbortController();
    await assert.rejects(
      f.log.verify(ALICE, {
        signal: ac.signal,
        onProgress: (seen) => seen === 2_000 && ac.abort(),
      }),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});
