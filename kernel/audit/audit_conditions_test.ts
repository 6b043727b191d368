// `AuditLog.append()` with conditions: an entry lands only while the store
// keys that allowed its decision still hold; a broken condition refuses that
// entry alone (STORE_CONFLICT), on the remembered-head fast path and on the
// transactional path alike, and the chain stays linear and valid.
import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { ALICE, openFixture, rec } from "./_fixture_test.ts";

Deno.test({
  name:
    "`AuditLog.append()` writes an entry whose conditions hold and refuses one whose condition broke, with STORE_CONFLICT",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.store.set(["grant", "a"], 1);
    const stamp = (await f.store.get(["grant", "a"]))!.versionstamp;
    const ok = await f.log.append(rec(ALICE), {
      conditions: [
        { key: ["grant", "a"], versionstamp: stamp },
        { key: ["revoked", "a"], versionstamp: null },
      ],
    });
    assert.equal(ok.seq, 0);
    await f.store.set(["revoked", "a"], true); // revoked after the read
    await assert.rejects(
      f.log.append(rec(ALICE), {
        conditions: [{ key: ["revoked", "a"], versionstamp: null }],
      }),
      (e) => KernelError.is(e, "STORE_CONFLICT"),
    );
    const next = await f.log.append(rec(ALICE));
    assert.equal(next.seq, 1, "the refused entry took no seq");
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 2,
    });
  },
});

Deno.test({
  name:
    "`AuditLog.append()` refuses only the entry whose condition broke when it shares a group commit with others",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE)); // remember the head: the fast path
    await f.store.set(["grant", "b"], 1);
    const stamp = (await f.store.get(["grant", "b"]))!.versionstamp;
    await f.store.set(["grant", "b"], 2); // changed after the read
    const results = await Promise.allSettled([
      f.log.append(rec(ALICE)),
      f.log.append(rec(ALICE), {
        conditions: [{ key: ["grant", "b"], versionstamp: stamp }],
      }),
      f.log.append(rec(ALICE)),
    ]);
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[2].status, "fulfilled");
    assert.ok(
      results[1].status === "rejected" &&
        KernelError.is(results[1].reason, "STORE_CONFLICT"),
    );
    assert.deepEqual(await f.log.verify(ALICE), {
      valid: true,
      entriesVerified: 3,
    });
  },
});
