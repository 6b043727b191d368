import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { blake3Hex } from "../crypto/blake3.ts";
import { verify } from "../crypto/ed25519.ts";
import { AuditLog } from "./audit_log.ts";
import { ENTRY_NS, headKey } from "./_keys.ts";
import { entryHashInput, GENESIS_HASH } from "./audit_entry.ts";
import { ALICE, BOB, fill, openFixture, rec } from "./_fixture_test.ts";

Deno.test({
  name: "`AuditLog.append()` starts each chain at seq 0 with the genesis hash",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const e = await f.log.append(rec(ALICE));
    assert.equal(e.seq, 0);
    assert.equal(e.prev_hash, GENESIS_HASH);
    assert.equal(e.principal, ALICE);
    assert.equal(e.timestamp, f.clock.now());
    assert.equal(e.key_id, f.keyPair.keyId);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` hashes the canonical body with BLAKE3 and signs the 32 hash bytes",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const e = await f.log.append(rec(ALICE, { action: { z: 1, a: [true] } }));
    assert.equal(blake3Hex(entryHashInput(e)), e.hash);
    const ok = await verify(
      f.keyPair.publicKey,
      Uint8Array.fromHex(e.hash),
      Uint8Array.fromBase64(e.signature!),
    );
    assert.ok(ok);
  },
});

Deno.test({
  name: "`AuditLog.append()` links each entry to the hash of the one before",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const a = await f.log.append(rec(ALICE));
    const b = await f.log.append(rec(ALICE));
    assert.equal(b.seq, 1);
    assert.equal(b.prev_hash, a.hash);
    assert.deepEqual(await f.log.head(ALICE), {
      seq: 1,
      hash: b.hash,
      id: b.id,
      key_id: f.keyPair.keyId,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` keeps 1,000 concurrent appends on one chain as one linear chain",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const entries = await Promise.all(
      Array.from(
        { length: 1_000 },
        (_, i) => f.log.append(rec(ALICE, { call_id: `c${i}` })),
      ),
    );
    const bySeq = [...entries].sort((a, b) => a.seq - b.seq);
    assert.deepEqual(bySeq.map((e) => e.seq), [...Array(1_000).keys()]);
    bySeq.forEach((e, i) => {
      assert.equal(e.prev_hash, i === 0 ? GENESIS_HASH : bySeq[i - 1]!.hash);
    });
    assert.equal(new Set(entries.map((e) => e.call_id)).size, 1_000);
    assert.equal((await f.log.head(ALICE))?.seq, 999);
    assert.deepEqual(await f.log.verify(ALICE, { pool: "off" }), {
      valid: true,
      entriesVerified: 1_000,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` never forks a chain shared by two logs on one store",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const other = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: f.random,
      keyPair: f.keyPair,
    });
    await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) => (i % 2 ? f.log : other).append(rec(ALICE)),
      ),
    );
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 100,
    });
  },
});

Deno.test({
  name: "`AuditLog.append()` keeps one independent chain per principal",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 3, ALICE);
    const b = await f.log.append(rec(BOB));
    assert.equal(b.seq, 0);
    assert.equal(b.prev_hash, GENESIS_HASH);
    assert.deepEqual(await f.log.principals(), [ALICE, BOB]);
    assert.equal((await f.log.verify(ALICE)).entriesVerified, 3);
    assert.equal((await f.log.verify(BOB)).entriesVerified, 1);
  },
});

Deno.test({
  name: "`AuditLog.append()` throws AUDIT_FAILED when the store is closed",
  permissions: "none",
  async fn() {
    const f = await openFixture();
    await f.log.append(rec(ALICE));
    await f.store.close();
    await assert.rejects(
      f.log.append(rec(ALICE)),
      (e) => KernelError.is(e, "AUDIT_FAILED") && /closed/.test(e.message),
    );
  },
});

Deno.test({
  name:
    "`AuditLog.append()` throws AUDIT_FAILED and writes nothing for an entry over the value limit",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const big = { type: "file_write", path: "x".repeat(70_000) };
    await assert.rejects(
      f.log.append(rec(ALICE, { action: big })),
      (e) => KernelError.is(e, "AUDIT_FAILED"),
    );
    assert.equal(await f.log.head(ALICE), null);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` throws AUDIT_FAILED for a field JSON cannot represent",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const action = { type: "x", n: Number.NaN };
    await assert.rejects(
      f.log.append(rec(ALICE, { action })),
      (e) => KernelError.is(e, "AUDIT_FAILED") && /NaN/.test(e.message),
    );
  },
});

Deno.test({
  name: "`AuditLog.append()` rejects an unknown decision with a TypeError",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await assert.rejects(
      f.log.append(rec(ALICE, { decision: "maybe" as never })),
      TypeError,
    );
  },
});

Deno.test({
  name:
    "`AuditLog.append()` honours an aborted signal with ABORTED and writes nothing",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      f.log.append(rec(ALICE), { signal: ac.signal }),
      (e) => KernelError.is(e, "ABORTED"),
    );
    assert.equal(await f.log.head(ALICE), null);
  },
});

Deno.test({
  name: "`AuditLog.append()` records nullable session, capsule and call id",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const e = await f.log.append(
      rec(ALICE, {
        session: null,
        capsule: null,
        call_id: null,
        decision: "info",
        outcome: { status: "success" },
      }),
    );
    const back = await f.log.get(ALICE, e.seq);
    assert.deepEqual(back, e);
    assert.equal((await f.log.verify(ALICE)).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` refuses only the bad record among concurrent appends",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const results = await Promise.allSettled(
      Array.from({ length: 11 }, (_, i) =>
        f.log.append(
          rec(ALICE, { action: i === 5 ? { n: Infinity } : { n: i } }),
        )),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 10);
    const bad = results[5];
    assert.ok(
      bad?.status === "rejected" && KernelError.is(bad.reason, "AUDIT_FAILED"),
    );
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 10,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` drops a queued append whose signal fires before its commit",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const ac = new AbortController();
    const first = f.log.append(rec(ALICE));
    const second = f.log.append(rec(ALICE), { signal: ac.signal });
    ac.abort();
    await first;
    await assert.rejects(second, (e) => KernelError.is(e, "ABORTED"));
    assert.equal((await f.log.head(ALICE))?.seq, 0);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` fails closed on an unreadable chain head instead of restarting the chain at seq 0",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    await f.log.append(rec(ALICE));
    await f.store.set(headKey(ALICE), "garbage");
    const fresh = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: f.random,
      keyPair: f.keyPair,
    });
    for (const log of [fresh, f.log]) {
      await assert.rejects(
        log.append(rec(ALICE)),
        (e) => KernelError.is(e) && /head .*unreadable/.test(e.message),
      );
    }
    await assert.rejects(
      fresh.head(ALICE),
      (e) => KernelError.is(e, "AUDIT_CHAIN_BROKEN"),
    );
    // Nothing was written at seq 0 (no fork) or anywhere else.
    const entries = await Array.fromAsync(f.store.list([ENTRY_NS, ALICE]));
    assert.equal(entries.length, 2);
    const result = await fresh.verify(ALICE, {
      pinnedKeys: [f.keyPair.publicKey],
    });
    assert.equal(result.valid, false);
    assert.equal(result.firstBad?.code, "HEAD_MISMATCH");
  },
});
