// Tests of the in-memory lookup index and verification cache of
// `TokenAuthority`: every mutation through the same instance takes effect at
// once, the store still decides every use, and a fresh instance (a restart)
// sees everything.
import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { revokedKey, tokenKey, usedKey } from "./_store_keys.ts";
import { type Fixture, fixture, tamper } from "./_fixture_test.ts";

const HOUR = 3_600_000;
const READ = { resource: "file:///ws/a.txt", permission: "read" } as const;

function grant(f: Fixture, extra: { singleUse?: boolean } = {}) {
  return f.caps.mint({
    principal: f.alice,
    resource: "file:///ws/**",
    permissions: ["read"],
    ttlMs: HOUR,
    scope: "persistent",
    maxDepth: 2,
    ...extra,
  });
}

function owner(f: Fixture) {
  return { principal: f.alice, session: f.session };
}

Deno.test({
  name:
    "`TokenAuthority.use()` refuses a token revoked through the same instance right after using it",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await grant(f);
    assert.equal((await f.caps.use(owner(f), READ))?.id, token.id);
    assert.equal((await f.caps.use(owner(f), READ))?.id, token.id);
    await f.caps.revoke(token.id, "compromised");
    assert.equal(await f.caps.use(owner(f), READ), null);
    assert.equal(await f.caps.find(owner(f), READ), null);
    const result = await f.caps.verify(token);
    assert.ok(!result.ok && result.code === "CAPABILITY_REVOKED");
  },
});

Deno.test({
  name:
    "`TokenAuthority.use()` refuses a child once its warm-cached parent is revoked",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const parent = await grant(f);
    const child = await f.caps.attenuate(parent);
    assert.ok((await f.caps.verify(child)).ok);
    assert.ok((await f.caps.verify(child)).ok);
    await f.caps.revoke(parent.id, "compromised");
    // Even with the child's own marker gone, its ancestor's is read.
    await f.store.delete(revokedKey(child.id));
    const result = await f.caps.verify(child);
    assert.ok(!result.ok && result.code === "CAPABILITY_REVOKED");
    assert.equal(await f.caps.use(owner(f), READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.use()` spends a single-use token once, then never again through the same instance",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await grant(f, { singleUse: true });
    assert.ok((await f.caps.verify(token)).ok);
    assert.equal((await f.caps.use(owner(f), READ))?.id, token.id);
    assert.equal(await f.caps.use(owner(f), READ), null);
    assert.ok((await f.store.get(usedKey(token.id))) !== null);
    await assert.rejects(
      f.caps.consume(token),
      (e) => KernelError.is(e, "CAPABILITY_USED"),
    );
  },
});

Deno.test({
  name:
    "`TokenAuthority.use()` honours markers and edits written to the store behind its back",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const single = await grant(f, { singleUse: true });
    assert.ok((await f.caps.verify(single)).ok);
    await f.store.set(usedKey(single.id), { at: 0 });
    assert.equal(await f.caps.use(owner(f), READ), null);

    const multi = await grant(f);
    assert.equal((await f.caps.use(owner(f), READ))?.id, multi.id);
    await f.store.set(revokedKey(multi.id), { at: 0, reason: "x", by: "x" });
    assert.equal(await f.caps.use(owner(f), READ), null);

    const other = await grant(f);
    assert.equal((await f.caps.use(owner(f), READ))?.id, other.id);
    // A record replaced by a widened copy no longer matches what was verified.
    const wide = tamper(other, { resource: "file:///**" });
    await f.store.set(tokenKey(other.id), JSON.parse(JSON.stringify(wide)));
    assert.equal(await f.caps.use(owner(f), READ), null);
    const result = await f.caps.verify(wide);
    assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");
  },
});

Deno.test({
  name:
    "`TokenAuthority.clearSession()` and `cleanupExpired()` take effect at once in the same instance",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const bound = await f.caps.mint({
      principal: f.alice,
      resource: "file:///ws/**",
      permissions: ["read"],
      ttlMs: HOUR,
      scope: "session",
      session: f.session,
    });
    assert.equal((await f.caps.use(owner(f), READ))?.id, bound.id);
    assert.equal(await f.caps.clearSession(f.session), 1);
    assert.equal(await f.caps.use(owner(f), READ), null);
    const result = await f.caps.verify(bound);
    assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");

    const short = await f.caps.mint({
      principal: f.alice,
      resource: "file:///ws/**",
      permissions: ["read"],
      ttlMs: 1_000,
      scope: "persistent",
    });
    assert.equal((await f.caps.use(owner(f), READ))?.id, short.id);
    f.clock.advance(60_000);
    assert.equal(await f.caps.cleanupExpired(), 1);
    assert.equal(await f.caps.use(owner(f), READ), null);
    assert.equal(await f.store.get(tokenKey(short.id)), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority` on the same store after a restart sees tokens, revocations and consumptions",
  permissions: "none",
  async fn() {
    await using first = await fixture();
    const kept = await grant(first);
    const revoked = await grant(first);
    const spent = await grant(first, { singleUse: true });
    const child = await first.caps.attenuate(kept);
    assert.ok(await first.caps.use(owner(first), READ)); // warm caches
    await first.caps.revoke(revoked.id, "gone");
    await first.caps.consume(spent);

    const second = await fixture({ store: first.store, seed: 7 });
    const found = await second.caps.find(owner(second), READ);
    assert.ok(found !== null && [kept.id, child.id].includes(found.id));
    assert.ok((await second.caps.verify(kept)).ok);
    assert.ok((await second.caps.verify(child)).ok);
    const r = await second.caps.verify(revoked);
    assert.ok(!r.ok && r.code === "CAPABILITY_REVOKED");
    const u = await second.caps.verify(spent);
    assert.ok(!u.ok && u.code === "CAPABILITY_USED");
    // Revoking through the second instance cascades to the child it loaded.
    await second.caps.revoke(kept.id, "rotated");
    const left = await second.caps.find(owner(second), READ);
    assert.equal(left, null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.find()` sees a token minted while its index is being loaded",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const before = await grant(f);
    const [found, minted] = await Promise.all([
      f.caps.find(owner(f), READ),
      grant(f),
    ]);
    assert.ok(found !== null && [before.id, minted.id].includes(found.id));
    await f.caps.revoke(before.id, "only the new one");
    assert.equal((await f.caps.find(owner(f), READ))?.id, minted.id);
  },
});
