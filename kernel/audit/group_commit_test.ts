import assert from "node:assert/strict";
import type { CapsuleId, SessionId } from "../core/ids.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import { decodeEntry, FORMAT_V1, FORMAT_V2_UNSIGNED } from "./_entry_codec.ts";
import {
  ALICE,
  editStored,
  type Fixture,
  openFixture,
  rawEntry,
  rec,
  resignStored,
  S1,
  S2,
} from "./_fixture_test.ts";
import { entryKey, headKey } from "./_keys.ts";
import { verifyExportLines } from "./standalone_verify.ts";
import type { AuditVerifyResult } from "./verify_result.ts";

/** Appends `n` entries at once: one group commit. */
async function batch(f: Fixture, n: number, from = 0): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) => f.log.append(rec(ALICE, { call_id: `call-${from + i}` })),
    ),
  );
}

/** Format byte per stored entry. */
async function formats(f: Fixture, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await rawEntry(f, ALICE, i))[0]!);
  return out;
}

function firstBad(r: AuditVerifyResult): [number, string] | undefined {
  return r.firstBad && [r.firstBad.seq, r.firstBad.code];
}

async function exported(f: Fixture): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of f.log.exportJsonl(ALICE)) lines.push(line);
  return lines;
}

const U = FORMAT_V2_UNSIGNED;
const S = FORMAT_V1;

Deno.test({
  name:
    "`AuditLog.append()` commits concurrent appends of one chain under one signature on the batch's last entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE)); // a batch of one, to have a commit in flight next
    const first = f.log.append(rec(ALICE));
    await batch(f, 4);
    await first;
    // seq 1 went alone (the queue was idle); 2..5 queued behind it: one commit.
    assert.deepEqual(await formats(f, 6), [S, S, U, U, U, S]);
    const entries = await f.log.query({ principal: ALICE });
    assert.deepEqual(
      entries.map((e) => e.signature === null),
      [false, false, true, true, true, false],
    );
    for (let i = 1; i < entries.length; i++) {
      assert.equal(entries[i]!.prev_hash, entries[i - 1]!.hash);
    }
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 6,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` with `gatherBursts` commits a burst on an idle chain as one commit (default: the first goes alone), each append resolving once durable",
  permissions: "none",
  async fn() {
    for (const gatherBursts of [false, true]) {
      await using f = await openFixture({ gatherBursts });
      await batch(f, 4);
      // A burst on an idle chain: with gathering, one commit, one signature.
      assert.deepEqual(
        await formats(f, 4),
        gatherBursts ? [U, U, U, S] : [S, U, U, S],
      );
      // Each append resolved with its durable entry, in order.
      const [a, b] = await Promise.all([
        f.log.append(rec(ALICE, { call_id: "x" })),
        f.log.append(rec(ALICE, { call_id: "y" })),
      ]);
      assert.deepEqual([a.seq, b.seq], [4, 5]);
      assert.equal((await f.log.get(ALICE, a.id))?.call_id, "x");
      assert.deepEqual(await f.log.verify(ALICE), {
        valid: true,
        entriesVerified: 6,
      });
    }
    // An append cancelled before the gathered commit starts is not written.
    await using f = await openFixture({ gatherBursts: true });
    const ac = new AbortController();
    const kept = f.log.append(rec(ALICE, { call_id: "kept" }));
    const dropped = f.log.append(rec(ALICE, { call_id: "dropped" }), {
      signal: ac.signal,
    });
    const refused = assert.rejects(dropped, { code: "ABORTED" });
    ac.abort();
    await kept;
    await refused;
    const entries = await f.log.query({ principal: ALICE });
    assert.deepEqual(entries.map((e) => e.call_id), ["kept"]);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` with `lazy` starts no commit: the entry joins the next eager append's commit",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    let done = false;
    const outcome = f.log.append(rec(ALICE, { decision: "info" }), {
      lazy: true,
    }).then((e) => (done = true, e));
    await Promise.resolve();
    assert.equal(await f.store.get(headKey(ALICE)), null, "nothing committed");
    assert.equal(done, false);
    const decision = await f.log.append(rec(ALICE));
    const lazy = await outcome;
    assert.deepEqual([lazy.seq, lazy.signature], [0, null]);
    assert.equal(decision.seq, 1);
    assert.notEqual(decision.signature, null);
    assert.deepEqual(await formats(f, 2), [U, S]);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 2,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` with `lazy` starts no commit while one is running either: the entry waits for the next eager append, and a flush sends it",
  permissions: "none",
  async fn() {
    await using f = await openFixture({ lingerMs: 5 });
    const first = f.log.append(rec(ALICE)); // a commit in flight
    let done = false;
    const outcome = f.log.append(rec(ALICE, { decision: "info" }), {
      lazy: true,
    }).then((e) => (done = true, e));
    assert.equal((await first).seq, 0);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(done, false, "not committed alone after the running commit");
    const decision = await f.log.append(rec(ALICE));
    assert.deepEqual([(await outcome).seq, decision.seq], [1, 2]);
    assert.deepEqual(await formats(f, 3), [S, U, S]);
    // Left behind a running commit, a flush still sends it.
    const running = f.log.append(rec(ALICE));
    const late = f.log.append(rec(ALICE), { lazy: true });
    await running;
    await f.log.flush(ALICE);
    assert.equal((await late).seq, 4);
    assert.equal(f.clock.pendingSleeps, 0);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 5,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` with `lazy` commits alone after the linger time, or at once on `flush()`",
  permissions: "none",
  async fn() {
    await using f = await openFixture({ lingerMs: 5 });
    const a = f.log.append(rec(ALICE), { lazy: true });
    await f.clock.advance(5);
    assert.equal((await a).seq, 0);
    assert.notEqual((await a).signature, null);
    const b = f.log.append(rec(ALICE), { lazy: true });
    await f.log.flush();
    assert.equal((await b).seq, 1);
    assert.deepEqual(await formats(f, 2), [S, S]);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` with `lazy` keeps one linger timer per chain: a lazy entry queued after the earlier ones left commits alone within two linger times",
  permissions: "none",
  async fn() {
    await using f = await openFixture({ lingerMs: 5 });
    const a = f.log.append(rec(ALICE), { lazy: true }); // timer due at 5
    await f.log.append(rec(ALICE)); // `a` leaves with this commit
    assert.equal((await a).seq, 0);
    await f.clock.advance(2);
    let done = false;
    const b = f.log.append(rec(ALICE), { lazy: true }).then((e) => {
      done = true;
      return e;
    });
    assert.equal(f.clock.pendingSleeps, 1); // no second timer
    await f.clock.advance(3); // fires at 5: `b` came later, set again (10)
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(done, false);
    await f.clock.advance(5);
    assert.equal((await b).seq, 2);
    assert.notEqual((await b).signature, null);
    // A flush cancels the chain's timer: nothing outlives it.
    const c = f.log.append(rec(ALICE), { lazy: true });
    assert.equal(f.clock.pendingSleeps, 1);
    await f.log.flush(ALICE);
    assert.equal((await c).seq, 3);
    assert.equal(f.clock.pendingSleeps, 0);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` names an edited entry inside a batch, and the entry after one re-hashed in place",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    const first = f.log.append(rec(ALICE));
    await batch(f, 5);
    await first;
    assert.equal((await rawEntry(f, ALICE, 3))[0], U);
    await editStored(f, { principal: ALICE, seq: 3 }, (b) => {
      b.decision = "denied";
    });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [3, "HASH_MISMATCH"]);
    // Re-hash it (the attacker cannot sign: the entry stays unsigned).
    const decoded = decodeEntry(await rawEntry(f, ALICE, 3));
    assert.ok(decoded.ok);
    const { hash: _h, signature: _s, ...body } = decoded.value.entry;
    const { entryHashInput } = await import("./audit_entry.ts");
    const { encodeEntry } = await import("./_entry_codec.ts");
    const { createBlake3Hasher } = await import("../crypto/blake3.ts");
    const bytes = entryHashInput(body);
    const digest = (await createBlake3Hasher()).hash(bytes);
    await f.store.set(entryKey(ALICE, 3), encodeEntry(bytes, digest, null));
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE)),
      [4, "PREV_HASH_MISMATCH"],
    );
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` names the batch's first entry when the signed end of the last batch is dropped, head rewritten or not",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    const first = f.log.append(rec(ALICE));
    await batch(f, 4); // seq 2..5, signed on 5
    await first;
    const kept = await f.log.get(ALICE, 4);
    await f.store.delete(entryKey(ALICE, 5));
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [2, "UNSIGNED"]);
    assert.equal(r.entriesVerified, 2);
    // The attacker also moves the head back to the last kept entry.
    const head = (await f.store.get(headKey(ALICE)))!.value as Record<
      string,
      unknown
    >;
    await f.store.set(headKey(ALICE), {
      ...head,
      seq: 4,
      hash: kept!.hash,
      id: kept!.id,
    });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [2, "UNSIGNED"]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` names reordered entries of a batch and a batch end signed with a foreign key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    const first = f.log.append(rec(ALICE));
    await batch(f, 4);
    await first;
    const two = await rawEntry(f, ALICE, 2);
    const three = await rawEntry(f, ALICE, 3);
    await f.store.set(entryKey(ALICE, 2), three);
    await f.store.set(entryKey(ALICE, 3), two);
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [2, "REORDERED"]);
    await f.store.set(entryKey(ALICE, 2), two);
    await f.store.set(entryKey(ALICE, 3), three);
    const attacker = generateKeyPair(new SeededRandom(13));
    await resignStored(f, { principal: ALICE, seq: 5 }, attacker, (b) => {
      b.key_id = attacker.keyId;
    });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [5, "KEY_UNTRUSTED"]);
    await resignStored(f, { principal: ALICE, seq: 5 }, attacker, (b) => {
      b.key_id = f.keyPair.keyId;
    });
    const r = await f.log.verify(ALICE);
    assert.deepEqual(firstBad(r), [5, "SIGNATURE_INVALID"]);
    assert.equal(r.entriesVerified, 2, "entries 2..4 hang on that signature");
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` accepts a chain mixing one-signature-per-entry and batch-signed entries, across a key rotation",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    await f.log.append(rec(ALICE)); // format 1 entries, as before group commit
    const first = f.log.append(rec(ALICE));
    await batch(f, 3);
    await first;
    const next = generateKeyPair(new SeededRandom(99));
    const lazy = f.log.append(rec(ALICE), { lazy: true });
    await f.log.rotateKey(next); // flushes the lazy entry, then rotates
    await lazy;
    const after = f.log.append(rec(ALICE));
    await batch(f, 2);
    await after;
    const n = (await f.log.head(ALICE))!.seq + 1;
    const r = await f.log.verify(ALICE);
    assert.deepEqual(r, { valid: true, entriesVerified: n });
    const rotation = (await f.log.query({ principal: ALICE })).find((e) =>
      (e.action as Record<string, unknown>).type === "key_rotated"
    );
    assert.notEqual(rotation?.signature, null, "a rotation is signed itself");
  },
});

Deno.test({
  name:
    "`verifyExportLines()` verifies a batch-signed export with the public key alone and names a dropped batch end",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE));
    const first = f.log.append(rec(ALICE));
    await batch(f, 4);
    await first;
    const lines = await exported(f);
    const key = publicKeyToBase64(f.keyPair.publicKey);
    assert.ok(lines[3]!.includes('"signature":null'));
    assert.deepEqual(verifyExportLines(lines, [key]), {
      valid: true,
      entriesVerified: 6,
    });
    const cut = verifyExportLines(lines.slice(0, 5), [key]);
    assert.deepEqual(
      [cut.firstBad?.seq, cut.firstBad?.line, cut.firstBad?.code],
      [2, 3, "UNSIGNED"],
    );
    assert.equal(cut.entriesVerified, 2);
    const edited = lines.slice();
    edited[3] = edited[3]!.replace(
      '"decision":"allowed"',
      '"decision":"denied"',
    );
    const r = verifyExportLines(edited, [key]);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.code], [3, "HASH_MISMATCH"]);
  },
});

Deno.test({
  name:
    "`AuditLog.query()` finds entries through one index key per value and block of 64 seqs, and walks the block not yet indexed, in order and reversed",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE, { session: S2, decision: "denied" })); // alone
    const first = f.log.append(rec(ALICE));
    const records = [
      rec(ALICE, { session: S1 }),
      rec(ALICE, { session: S2, decision: "denied" }),
      rec(ALICE, { session: S1, capsule: null }),
      rec(ALICE, { session: S2, decision: "deferred" }),
      rec(ALICE, { session: S1, decision: "denied" }),
    ];
    await Promise.all(records.map((r) => f.log.append(r)));
    await first;
    const index = async () => {
      const out: unknown[][] = [];
      for await (const e of f.store.list(["audit_idx", ALICE])) {
        if (e.key[2] !== "time_mark") out.push([...e.key.slice(2), e.value]);
      }
      return out;
    };
    const seqs = async (q: Record<string, unknown>) =>
      (await f.log.query({ principal: ALICE, ...q })).map((e) => e.seq);
    const check = async () => {
      assert.deepEqual(await seqs({ session: S1 }), [1, 2, 4, 6]);
      assert.deepEqual(await seqs({ session: S2 }), [0, 3, 5]);
      assert.deepEqual(await seqs({ session: S2, reverse: true }), [5, 3, 0]);
      assert.deepEqual(await seqs({ capsule: "fs", limit: 3 }), [0, 1, 2]);
      assert.deepEqual(await seqs({ decision: "denied" }), [0, 3, 6]);
      assert.deepEqual(await seqs({ decision: "denied", reverse: true }), [
        6,
        3,
        0,
      ]);
      assert.deepEqual(await seqs({ decision: "deferred" }), [5]);
    };
    // The block 0..63 is not complete: only the rare decisions have keys
    // (one per value and commit); session and capsule queries walk it.
    assert.deepEqual(await index(), [
      ["decision", "deferred", 5, null],
      ["decision", "denied", 0, null],
      ["decision", "denied", 3, [3, 6]],
    ]);
    await check();
    await Promise.all(
      Array.from(
        { length: 57 },
        () => f.log.append(rec(ALICE, { session: null, capsule: null })),
      ),
    );
    // Entry 63 completed the block: one key per session and capsule value.
    assert.deepEqual(await index(), [
      ["capsule", "fs", 0, [0, 1, 2, 3, 5, 6]],
      ["decision", "deferred", 5, null],
      ["decision", "denied", 0, null],
      ["decision", "denied", 3, [3, 6]],
      ["session", S1, 1, [1, 2, 4, 6]],
      ["session", S2, 0, [0, 3, 5]],
    ]);
    await check();
    await f.log.append(rec(ALICE, { session: S2 })); // 64, walked
    assert.deepEqual(await seqs({ session: S2 }), [0, 3, 5, 64]);
    assert.deepEqual(await seqs({ session: S2, reverse: true }), [64, 5, 3, 0]);
    assert.deepEqual(await seqs({ from: 0, limit: 8 }), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
    ]);
  },
});

Deno.test({
  name:
    "`AuditLog.flush()` waits only for the appends queued before it, so a read under sustained load ends",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    let stop = false;
    const writer = (async () => {
      let n = 0;
      while (!stop) {
        const batch = Array.from({ length: 4 }, () => f.log.append(rec(ALICE)));
        n += (await Promise.all(batch)).length;
      }
      return n;
    })();
    await f.log.append(rec(ALICE));
    const lazy = f.log.append(rec(ALICE), { lazy: true });
    await f.log.flush(ALICE);
    const entry = await lazy;
    const head = await f.log.head(ALICE);
    assert.ok(head !== null && head.seq >= entry.seq);
    stop = true;
    assert.ok((await writer) > 0);
    await f.log.flush();
    assert.equal((await f.log.verify(ALICE)).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` splits a burst of worst-case entries (distinct session, capsule, denied) into commits within Deno KV's limits",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const n = 600;
    const entries = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        f.log.append(rec(ALICE, {
          session: `6f1c9a3e-0000-4000-8000-${
            String(i).padStart(12, "0")
          }` as SessionId,
          capsule: `capsule-${i}` as CapsuleId,
          decision: "denied",
          action: { type: "file_read", path: `/ws/${"x".repeat(6_000)}/${i}` },
        }))),
    );
    assert.deepEqual(entries.map((e) => e.seq), [...Array(n).keys()]);
    const signed = entries.filter((e) => e.signature !== null).length;
    assert.ok(signed >= 5 && signed < 20, `${signed} commits`);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: n,
    });
    const found = await f.log.query({
      principal: ALICE,
      capsule: "capsule-77" as CapsuleId,
    });
    assert.deepEqual(found.map((e) => e.seq), [77]);
  },
});

Deno.test({
  name:
    "`AuditLog.get()` finds an entry by an id that carries its seq (no id key written), and still by an old random id through its id key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await batch(f, 3);
    const e = (await f.log.get(ALICE, 2))!;
    assert.equal(Number.parseInt(e.id.slice(0, 8) + e.id.slice(9, 13), 16), 2);
    assert.deepEqual(await f.log.get(ALICE, e.id), e);
    const other = `${e.id.slice(0, 24)}${e.id.endsWith("0") ? "1" : "0"}${
      e.id.slice(25)
    }`;
    assert.equal(await f.log.get(ALICE, other), null, "same seq, other id");
    for await (const k of f.store.list(["audit_id"])) {
      assert.fail(`an id key was written: ${JSON.stringify(k.key)}`);
    }
    // A chain written before ids carried their seq: a random (v4) id and
    // its id key. Rewrite the last entry that way, re-signed, head moved.
    const old = "3f2b8c1e-9d4a-4b7e-8c2f-0a1b2c3d4e5f";
    const last = await f.log.get(ALICE, 2);
    await resignStored(f, { principal: ALICE, seq: 2 }, f.keyPair, (b) => {
      b.id = old;
    });
    const moved = (await f.log.get(ALICE, 2))!;
    await f.store.set(["audit_id", ALICE, old], 2);
    const head = (await f.store.get(headKey(ALICE)))!.value as object;
    await f.store.set(headKey(ALICE), {
      ...head,
      hash: moved.hash,
      id: old,
    });
    assert.notEqual(last?.hash, moved.hash);
    assert.equal((await f.log.get(ALICE, old))?.seq, 2);
    const next = await f.log.append(rec(ALICE)); // continues on the moved head
    assert.equal((await f.log.get(ALICE, next.id))?.seq, 3);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 4,
    });
  },
});
