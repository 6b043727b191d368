import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { parseTokenId } from "../core/ids.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { revokedKey } from "./_store_keys.ts";
import { parseToken } from "./mint_token.ts";
import { type Fixture, fixture } from "./_fixture_test.ts";

const HOUR = 3_600_000;

function root(f: Fixture) {
  return f.caps.mint({
    principal: f.alice,
    resource: "file:///ws/**",
    permissions: ["read", "write"],
    ttlMs: HOUR,
    scope: "persistent",
    maxDepth: 3,
  });
}

function revoked(result: { ok: boolean; code?: string }): boolean {
  return !result.ok && result.code === "CAPABILITY_REVOKED";
}

Deno.test({
  name:
    "`TokenAuthority.revoke()` of a parent refuses its child and grandchild",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const parent = await root(f);
    const child = await f.caps.attenuate(parent, { permissions: ["read"] });
    const grandchild = await f.caps.attenuate(child, {
      resource: "file:///ws/docs/**",
    });
    const sibling = await root(f);
    const ids = await f.caps.revoke(parent.id, "compromised sub-agent");
    assert.deepEqual(ids, [parent.id, child.id, grandchild.id]);
    for (const token of [parent, child, grandchild]) {
      assert.ok(revoked(await f.caps.verify(token)), token.id);
    }
    assert.ok((await f.caps.verify(sibling)).ok);
    const marker = await f.store.get(revokedKey(grandchild.id));
    assert.deepEqual(marker?.value, {
      at: f.clock.now(),
      by: parent.id,
      reason: `its ancestor ${parent.id} was revoked: compromised sub-agent`,
    });
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` refuses a descendant whose ancestor is revoked even without its own marker",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const parent = await root(f);
    const child = await f.caps.attenuate(parent);
    const grandchild = await f.caps.attenuate(child);
    await f.caps.revoke(parent.id, "test");
    // As if the cascade had been interrupted before reaching them.
    await f.store.delete(revokedKey(child.id));
    await f.store.delete(revokedKey(grandchild.id));
    const result = await f.caps.verify(grandchild);
    assert.ok(revoked(result));
    assert.match(!result.ok ? result.reason : "", /ancestor/);
  },
});

Deno.test({
  name: "`TokenAuthority.revoke()` of a child leaves its parent valid",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const parent = await root(f);
    const child = await f.caps.attenuate(parent);
    assert.deepEqual(await f.caps.revoke(child.id, "done"), [child.id]);
    assert.ok(revoked(await f.caps.verify(child)));
    assert.ok((await f.caps.verify(parent)).ok);
  },
});

Deno.test({
  name:
    "`TokenAuthority.revoke()` racing `attenuate()` never leaves a usable child",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    for (let round = 0; round < 5; round++) {
      const parent = await root(f);
      const attempts = Array.from(
        { length: 10 },
        () => f.caps.attenuate(parent, { permissions: ["read"] }),
      );
      const revocation = f.caps.revoke(parent.id, "race");
      const settled = await Promise.allSettled(attempts);
      await revocation;
      for (const s of settled) {
        if (s.status === "fulfilled") {
          assert.ok(revoked(await f.caps.verify(s.value)));
          // The cascade reached it: no child slips past the listing.
          assert.notEqual(await f.store.get(revokedKey(s.value.id)), null);
        } else {
          assert.ok(KernelError.is(s.reason, "CAPABILITY_REVOKED"));
        }
      }
    }
  },
});

Deno.test({
  name:
    "`TokenAuthority.revoke()` keeps the first reason and refuses unknown ids and empty reasons",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await root(f);
    await f.caps.revoke(token.id, "first");
    await f.caps.revoke(token.id, "second");
    const marker = await f.store.get(revokedKey(token.id));
    assert.equal((marker?.value as { reason: string }).reason, "first");
    const unknown = parseTokenId("00000000-0000-4000-8000-0000000000ff");
    await assert.rejects(
      f.caps.revoke(unknown, "x"),
      (e) => KernelError.is(e, "NOT_FOUND"),
    );
    await assert.rejects(f.caps.revoke(token.id, ""), TypeError);
    await assert.rejects(f.caps.revoke(token.id, "x".repeat(1001)), RangeError);
  },
});

Deno.test({
  name: "`TokenAuthority.revoke()` survives a restart of a file-backed store",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_caps_" });
    try {
      const file = path.join(dir, "state.kv");
      let parentJson: string;
      let childJson: string;
      {
        await using f = await fixture({
          store: new KvStore(await openKv(file)),
        });
        const parent = await root(f);
        const child = await f.caps.attenuate(parent);
        parentJson = JSON.stringify(parent);
        childJson = JSON.stringify(child);
        await f.caps.revoke(parent.id, "before restart");
      }
      await using again = await fixture({
        store: new KvStore(await openKv(file)),
        seed: 99,
      });
      assert.ok(revoked(await again.caps.verify(parseToken(parentJson))));
      assert.ok(revoked(await again.caps.verify(parseToken(childJson))));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
