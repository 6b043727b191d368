// The cached "principal holds no token" answer of `TokenAuthority`: it costs
// no store read, every mutation through the same instance invalidates it, and
// with several authorities on one store a stale "no token" only ever sends
// the call to approval — it never allows what the store refuses.
import assert from "node:assert/strict";
import { openKv } from "../host/open_kv.ts";
import type { Store } from "../store/store.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/mod.ts";
import { type Fixture, fixture, T0 } from "./_fixture_test.ts";

const HOUR = 3_600_000;
const READ = { resource: "file:///ws/a.txt", permission: "read" } as const;

/** The store, with a count of its read calls. */
function counted(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (key === "get" || key === "getMany" || key === "list") reads++;
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, reads: () => reads };
}

function grant(f: Fixture, extra: { singleUse?: boolean } = {}) {
  return f.caps.mint({
    principal: f.alice,
    resource: "file:///ws/**",
    permissions: ["read"],
    ttlMs: HOUR,
    scope: "persistent",
    ...extra,
  });
}

function owner(f: Fixture) {
  return { principal: f.alice, session: f.session };
}

Deno.test({
  name:
    "`TokenAuthority.find()` answers 'no token' from its cache without a store read, and sees a mint made after the cache filled",
  permissions: "none",
  async fn() {
    const c = counted(new KvStore(await openKv(":memory:")));
    await using f = await fixture({ store: c.store });
    assert.equal(await f.caps.find(owner(f), READ), null); // loads alice
    const before = c.reads();
    assert.equal(await f.caps.find(owner(f), READ), null);
    assert.equal(await f.caps.use(owner(f), READ), null);
    assert.equal(c.reads(), before, "a cached 'no token' reads nothing");
    const token = await grant(f);
    assert.equal((await f.caps.find(owner(f), READ))?.id, token.id);
    await f.caps.revoke(token.id, "done");
    assert.equal(await f.caps.find(owner(f), READ), null);
    const once = await grant(f, { singleUse: true });
    assert.equal((await f.caps.use(owner(f), READ))?.id, once.id);
    const after = c.reads();
    assert.equal(await f.caps.use(owner(f), READ), null);
    assert.equal(c.reads(), after, "consumed: 'no token' again, from cache");
  },
});

Deno.test({
  name:
    "`TokenAuthority` sharing a store with another: a stale cached 'no token' never allows, and the store refuses what the other revoked",
  permissions: "none",
  async fn() {
    const store = new KvStore(await openKv(":memory:"));
    const clock = new FakeClock(T0);
    await using a = await fixture({ store, clock, seed: 1 });
    const b = await fixture({ store, clock, seed: 2 });
    assert.equal(await a.caps.find(owner(a), READ), null); // A caches "none"
    const token = await grant(b); // B mints behind A's back
    // A's stale answer is "no token": the gate goes on to approval, no allow.
    assert.equal(await a.caps.find(owner(a), READ), null);
    assert.equal(await a.caps.use(owner(a), READ), null);
    // A fresh authority (a restart) reads the store and finds it.
    const fresh = await fixture({ store, clock, seed: 3 });
    assert.equal((await fresh.caps.find(owner(fresh), READ))?.id, token.id);
    // The other way round: a token A knows, revoked by B, is refused by A
    // because every use is verified against the store's markers.
    await b.caps.revoke(token.id, "revoked elsewhere");
    assert.equal(await fresh.caps.use(owner(fresh), READ), null);
    assert.equal(await fresh.caps.find(owner(fresh), READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.use({ fresh: true })` finds a token another authority on the same store minted after the cache filled, with one epoch read",
  permissions: "none",
  async fn() {
    const c = counted(new KvStore(await openKv(":memory:")));
    const clock = new FakeClock(T0);
    await using a = await fixture({ store: c.store, clock, seed: 1 });
    const b = await fixture({ store: c.store, clock, seed: 2 });
    assert.equal(await a.caps.find(owner(a), READ), null); // A caches "none"
    let before = c.reads();
    assert.equal(await a.caps.use(owner(a), READ, { fresh: true }), null);
    assert.equal(c.reads(), before + 1, "an unmoved epoch costs one read");
    const token = await grant(b); // B mints behind A's back
    assert.equal(await a.caps.find(owner(a), READ), null); // still cached
    assert.equal(
      (await a.caps.use(owner(a), READ, { fresh: true }))?.id,
      token.id,
    );
    // A's own mint moves the epoch as well: the next fresh lookup reloads.
    const own = await grant(a);
    before = c.reads();
    assert.ok(await a.caps.use(owner(a), READ, { fresh: true }));
    assert.ok(c.reads() > before + 1, "reloaded after the epoch moved");
    assert.ok(own.id);
  },
});
