import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import { AuditLog } from "./audit_log.ts";
import {
  ALICE,
  BOB,
  fill,
  openFixture,
  rec,
  resignStored,
} from "./_fixture_test.ts";
import type { AuditVerifyResult } from "./verify_result.ts";

const NEW = generateKeyPair(new SeededRandom(1001));

function firstBad(r: AuditVerifyResult): [number, string] {
  assert.equal(r.valid, false);
  return [r.firstBad!.seq, r.firstBad!.code];
}

Deno.test({
  name:
    "`AuditLog.rotateKey()` announces the new key in every chain, signed by the old key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 3, ALICE);
    await fill(f, 1, BOB);
    const rotations = await f.log.rotateKey(NEW);
    assert.deepEqual(rotations.map((e) => [e.principal, e.seq]), [
      [ALICE, 3],
      [BOB, 1],
    ]);
    const r = rotations[0]!;
    assert.equal(r.key_id, f.keyPair.keyId);
    assert.equal(r.decision, "info");
    assert.deepEqual(r.action, {
      type: "key_rotated",
      new_key_id: NEW.keyId,
      new_public_key: publicKeyToBase64(NEW.publicKey),
    });
    const next = await f.log.append(rec(ALICE));
    assert.equal(next.key_id, NEW.keyId);
    assert.equal((await f.log.head(ALICE))?.key_id, NEW.keyId);
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 5,
    });
    assert.deepEqual(await f.log.rotateKey(NEW), []);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` accepts a rotated chain with only the original key pinned",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    await f.log.rotateKey(NEW);
    await fill(f, 2);
    const oldOnly = await f.log.verify(ALICE, {
      pinnedKeys: [f.keyPair.publicKey],
    });
    assert.deepEqual(oldOnly, { valid: true, entriesVerified: 5 });
    const newOnly = await f.log.verify(ALICE, { pinnedKeys: [NEW.publicKey] });
    assert.deepEqual(firstBad(newOnly), [0, "KEY_UNTRUSTED"]);
  },
});

Deno.test({
  name:
    "`AuditLog` restarted with the new key and the old key pinned verifies and appends",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    await f.log.rotateKey(NEW);
    const restarted = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: f.random,
      keyPair: NEW,
      trustedPublicKeys: [f.keyPair.publicKey],
    });
    const e = await restarted.append(rec(ALICE));
    assert.equal(e.seq, 3);
    assert.equal((await restarted.verify(ALICE)).valid, true);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects a chain that switches to an unannounced key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 6);
    await resignStored(f, { principal: ALICE, seq: 4 }, NEW, (b) => {
      b.key_id = NEW.keyId;
    });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [4, "KEY_UNTRUSTED"]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects a switch between two pinned keys without a rotation entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 6);
    await resignStored(f, { principal: ALICE, seq: 2 }, NEW, (b) => {
      b.key_id = NEW.keyId;
    });
    const r = await f.log.verify(ALICE, {
      pinnedKeys: [f.keyPair.publicKey, NEW.publicKey],
    });
    assert.deepEqual(firstBad(r), [2, "KEY_NOT_CURRENT"]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects an entry signed by the old key after a rotation",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    await f.log.rotateKey(NEW);
    await fill(f, 3);
    await resignStored(f, { principal: ALICE, seq: 4 }, f.keyPair, (b) => {
      b.key_id = f.keyPair.keyId;
    });
    assert.deepEqual(firstBad(await f.log.verify(ALICE)), [
      4,
      "KEY_NOT_CURRENT",
    ]);
  },
});

Deno.test({
  name:
    "`AuditLog.verify()` rejects a rotation entry whose key does not match its key id",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    await f.log.rotateKey(NEW);
    const other = generateKeyPair(new SeededRandom(77));
    await resignStored(f, { principal: ALICE, seq: 2 }, f.keyPair, (b) => {
      b.action = {
        type: "key_rotated",
        new_key_id: NEW.keyId,
        new_public_key: publicKeyToBase64(other.publicKey),
      };
    });
    assert.deepEqual(
      firstBad(await f.log.verify(ALICE)),
      [2, "ROTATION_INVALID"],
    );
  },
});

Deno.test({
  name:
    "`AuditLog.append()` fails with AUDIT_FAILED on a chain whose current key it does not hold",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 1);
    const stranger = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: f.random,
      keyPair: NEW,
    });
    await assert.rejects(
      stranger.append(rec(ALICE)),
      (e) =>
        KernelError.is(e, "AUDIT_FAILED") &&
        e.message.includes(f.keyPair.keyId),
    );
    assert.equal((await f.log.head(ALICE))?.seq, 0);
  },
});

Deno.test({
  name:
    "`AuditLog.append()` rotates a chain that the rotation missed before appending to it",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const stale = new AuditLog({
      store: f.store,
      clock: f.clock,
      random: f.random,
      keyPair: f.keyPair,
    });
    await fill(f, 1, ALICE);
    await f.log.rotateKey(NEW);
    const carol = "carol" as PrincipalId;
    await stale.append(rec(carol));
    const e = await f.log.append(rec(carol));
    assert.equal(e.seq, 2);
    assert.deepEqual((await f.log.get(carol, 1))?.action, {
      type: "key_rotated",
      new_key_id: NEW.keyId,
      new_public_key: publicKeyToBase64(NEW.publicKey),
    });
    assert.deepEqual(await f.log.verify(carol), {
      valid: true,
      entriesVerified: 3,
    });
  },
});
