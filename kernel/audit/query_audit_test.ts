import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import { entryKey } from "./_keys.ts";
import type { AuditDecision } from "./audit_entry.ts";
import {
  ALICE,
  BOB,
  type Fixture,
  FS,
  openFixture,
  rec,
  S1,
  S2,
} from "./_fixture_test.ts";

const NET = "net" as CapsuleId;

/** 8 entries, 1 s apart: sessions S1/S2 alternate, capsules fs/net, decisions cycle. */
async function seed(f: Fixture): Promise<void> {
  const decisions: AuditDecision[] = ["allowed", "denied", "deferred", "info"];
  for (let i = 0; i < 8; i++) {
    await f.log.append(
      rec(ALICE, {
        session: i % 2 === 0 ? S1 : S2,
        capsule: i < 4 ? FS : NET,
        decision: decisions[i % 4]!,
        call_id: `c${i}`,
      }),
    );
    await f.clock.advance(1_000);
  }
  await f.log.append(rec(BOB, { call_id: "bob" }));
}

function calls(entries: readonly { call_id: string | null }[]): string[] {
  return entries.map((e) => e.call_id ?? "");
}

Deno.test({
  name: "`AuditLog.query()` finds a principal's entries of one session",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    const found = await f.log.query({ principal: ALICE, session: S2 });
    assert.deepEqual(calls(found), ["c1", "c3", "c5", "c7"]);
  },
});

Deno.test({
  name: "`AuditLog.query()` finds entries by capsule and by decision",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    const net = await f.log.query({ principal: ALICE, capsule: NET });
    assert.deepEqual(calls(net), ["c4", "c5", "c6", "c7"]);
    const denied = await f.log.query({ principal: ALICE, decision: "denied" });
    assert.deepEqual(calls(denied), ["c1", "c5"]);
  },
});

Deno.test({
  name: "`AuditLog.query()` combines criteria and a half-open time range",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const t0 = f.clock.now();
    await seed(f);
    const range = await f.log.query({
      principal: ALICE,
      from: t0 + 2_000,
      to: t0 + 5_000,
    });
    assert.deepEqual(calls(range), ["c2", "c3", "c4"]);
    const both = await f.log.query({
      principal: ALICE,
      session: S1,
      capsule: FS,
      from: t0 + 1_000,
    });
    assert.deepEqual(calls(both), ["c2"]);
  },
});

Deno.test({
  name: "`AuditLog.query()` honours limit and reverse",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    const newest = await f.log.query({
      principal: ALICE,
      limit: 3,
      reverse: true,
    });
    assert.deepEqual(calls(newest), ["c7", "c6", "c5"]);
    const first = await f.log.query({
      principal: ALICE,
      session: S1,
      limit: 1,
    });
    assert.deepEqual(calls(first), ["c0"]);
    await assert.rejects(
      f.log.query({ principal: ALICE, limit: 0 }),
      RangeError,
    );
  },
});

Deno.test({
  name: "`AuditLog.query()` never returns another principal's entries",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    assert.deepEqual(calls(await f.log.query({ principal: BOB })), ["bob"]);
    const none = await f.log.query({ principal: BOB, session: S2 });
    assert.deepEqual(none, []);
  },
});

Deno.test({
  name: "`AuditLog.query()` reports an indexed entry that was deleted",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    await f.store.delete(entryKey(ALICE, 3));
    await assert.rejects(
      f.log.query({ principal: ALICE, session: S2 }),
      (e) =>
        KernelError.is(e, "AUDIT_CHAIN_BROKEN") && /entry 3/.test(e.message),
    );
  },
});

Deno.test({
  name: "`AuditLog.get()` reads an entry by seq or by id",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    const e = await f.log.get(ALICE, 2);
    assert.equal(e?.call_id, "c2");
    assert.deepEqual(await f.log.get(ALICE, e!.id), e);
    assert.equal(await f.log.get(ALICE, 99), null);
    assert.equal(await f.log.get(ALICE, -1), null);
    assert.equal(await f.log.get(BOB, e!.id), null);
    assert.equal(await f.log.get(ALICE, "not\0an id"), null);
  },
});

Deno.test({
  name:
    "`AuditLog.get()` throws AUDIT_CHAIN_BROKEN for a value that is not an entry",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await seed(f);
    await f.store.set(entryKey(ALICE, 1), { not: "an entry" });
    await assert.rejects(
      f.log.get(ALICE, 1),
      (e) => KernelError.is(e, "AUDIT_CHAIN_BROKEN"),
    );
  },
});

Deno.test({
  name: "`AuditLog.head()` and `principals()` describe the chains",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    assert.equal(await f.log.head(ALICE), null);
    assert.deepEqual(await f.log.principals(), []);
    await seed(f);
    const last = await f.log.get(ALICE, 7);
    assert.deepEqual(await f.log.head(ALICE), {
      seq: 7,
      hash: last!.hash,
      id: last!.id,
      key_id: f.keyPair.keyId,
    });
    assert.deepEqual(await f.log.principals(), [ALICE, BOB]);
  },
});
