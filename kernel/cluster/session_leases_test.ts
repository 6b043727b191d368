import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { fencedStore } from "./fenced_store.ts";
import { SessionLeases } from "./session_leases.ts";

const S = "00000000-0000-4000-8000-000000000001";
const TTL = 15_000;

function nodes(store: KvStore, clock: FakeClock) {
  const of = (node: string) =>
    new SessionLeases(store, clock, { node, principal: "default", ttlMs: TTL });
  return { a: of("node-a"), b: of("node-b") };
}

Deno.test("a session's lease: another node is refused (SESSION_ELSEWHERE, naming the holder) until it expires, then takes it over with the next epoch", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const { a, b } = nodes(store, clock);
  const first = await a.acquire(S);
  assert.equal(first.taken, true);
  assert.equal(first.lease.epoch, 1);
  assert.equal((await a.acquire(S)).taken, false);
  await assert.rejects(
    b.acquire(S),
    (e: unknown) =>
      KernelError.is(e, "SESSION_ELSEWHERE") && /node-a/.test(e.message),
  );
  assert.equal(await b.holder(S), "node-a");
  assert.equal(await a.holder(S), null);
  await clock.advance(TTL - 1);
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
  await clock.advance(2);
  const taken = await b.acquire(S);
  assert.equal(taken.taken, true);
  assert.equal(taken.lease.epoch, 2);
  assert.equal(first.lease.valid(), false);
});

Deno.test("fencing: once another node took the session over, the old holder's late writes through its fenced store are refused and change nothing", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const { a, b } = nodes(store, clock);
  const la = (await a.acquire(S)).lease;
  const fa = fencedStore(store, la);
  await fa.set(["history", S], "turn 1");
  await clock.advance(TTL + 1);
  const lb = (await b.acquire(S)).lease;
  const fb = fencedStore(store, lb);
  await fb.set(["history", S], "turn 2 on b");
  // The old holder still believes in its lease (a slow node whose clock
  // lags): the store refuses it anyway.
  const stale = { ...la, valid: () => true };
  const late = fencedStore(store, stale);
  for (
    const write of [
      () => late.set(["history", S], "late"),
      () => late.delete(["history", S]),
      () => late.atomic().set(["history", S], "late").commit(),
      () => late.transact((tx) => tx.set(["history", S], "late")),
    ]
  ) {
    await assert.rejects(write, { code: "SESSION_LEASE_LOST" });
  }
  assert.equal((await store.get(["history", S]))?.value, "turn 2 on b");
  await assert.rejects(fa.set(["t", "x"], 1), { code: "SESSION_LEASE_LOST" });
  // A conflicting check of the caller's own is still an ordinary conflict.
  const r = await fb.atomic().check(["history", S], null).set(["t", "y"], 1)
    .commit();
  assert.equal(r.ok, false);
});

Deno.test("renewal keeps a lease alive past its first expiry; a holder whose renewal is refused loses the session and is told (onLost)", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const { a, b } = nodes(store, clock);
  const lost: string[] = [];
  a.onLost((s) => lost.push(s));
  const la = (await a.acquire(S)).lease;
  for (let i = 0; i < 4; i++) {
    await clock.advance(TTL / 3);
    await a.renew();
  }
  assert.equal(la.valid(), true);
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
  // a stops renewing (a pause); b takes over; a's renewal is refused.
  await clock.advance(TTL + 1);
  await b.acquire(S);
  await a.renew();
  assert.deepEqual(lost, [S]);
  assert.equal(a.size, 0);
  await assert.rejects(a.acquire(S), { code: "SESSION_ELSEWHERE" });
});

Deno.test("a released lease (graceful stop) is taken by another node at once; the same node id takes its own lease back after a restart without waiting; a deleted session's keys are removed", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const { a, b } = nodes(store, clock);
  await a.acquire(S);
  await a.releaseAll();
  assert.equal((await b.acquire(S)).lease.epoch, 2);
  // b "restarts" (a new instance, same node id): no wait.
  const b2 = new SessionLeases(store, clock, {
    node: "node-b",
    principal: "default",
    ttlMs: TTL,
  });
  assert.equal((await b2.acquire(S)).lease.epoch, 3);
  // A deleted session leaves no key behind.
  await b2.release(S, { forget: true });
  assert.deepEqual(
    await Array.fromAsync(store.list(["cluster:session_owner"])),
    [],
  );
  assert.deepEqual(
    await Array.fromAsync(store.list(["cluster:session_lease"])),
    [],
  );
});

Deno.test("a holder that cannot reach the store gives the session up a renewal period before its lease runs out (before any other node may take it)", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  let down = false;
  const flaky = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "atomic" && down) {
        return () => {
          throw new KernelError("STORE_UNAVAILABLE", "the store is down");
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const a = new SessionLeases(flaky, clock, {
    node: "node-a",
    principal: "default",
    ttlMs: TTL,
  });
  const lost: string[] = [];
  a.onLost((s) => lost.push(s));
  const lease = (await a.acquire(S)).lease;
  down = true;
  await clock.advance(TTL / 3);
  await a.renew();
  assert.deepEqual(lost, []);
  await clock.advance(TTL / 3 + 1);
  await a.renew();
  assert.deepEqual(lost, [S]);
  assert.equal(lease.valid(), false);
  // The stored lease has not run out yet: no one else could have taken it.
  const { b } = nodes(store, clock);
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
});

Deno.test("a lease that ran out by the holder's clock but was taken by no one (a stalled event loop) is renewed in place: same epoch, same fence, writes go on", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const { a } = nodes(store, clock);
  const first = (await a.acquire(S)).lease;
  const fenced = fencedStore(store, first);
  await clock.advance(TTL * 3);
  assert.equal(first.valid(), false);
  await fenced.set(["t", "late-but-alone"], 1);
  const again = await a.acquire(S);
  assert.equal(again.taken, false);
  assert.equal(again.lease, first);
  assert.equal(first.valid(), true);
  await fenced.set(["t", "after"], 2);
});

Deno.test("idle handover: a session unused for the idle time and not busy is offered; another node takes it at once; the old holder's next use finds it elsewhere and its late writes are refused; a busy session is never offered", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000_000);
  const of = (node: string) =>
    new SessionLeases(store, clock, {
      node,
      principal: "default",
      ttlMs: TTL,
      idleMs: 60_000,
    });
  const a = of("node-a");
  const b = of("node-b");
  let busy = true;
  a.setBusyProbe(() => busy);
  const la = (await a.acquire(S)).lease;
  // Busy for two minutes: renewed, never offered.
  for (let i = 0; i < 24; i++) {
    await clock.advance(5_000);
    await a.renew();
  }
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
  busy = false;
  await clock.advance(5_000);
  await a.renew();
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
  // Unused for the idle time: offered on the next renewal.
  for (let i = 0; i < 12; i++) {
    await clock.advance(5_000);
    await a.renew();
  }
  // Nobody took it yet: a's own next use renews it in place.
  const again = await a.acquire(S);
  assert.equal(again.taken, false);
  assert.equal(again.lease, la);
  await assert.rejects(b.acquire(S), { code: "SESSION_ELSEWHERE" });
  for (let i = 0; i < 13; i++) {
    await clock.advance(5_000);
    await a.renew();
  }
  const lb = await b.acquire(S);
  assert.equal(lb.taken, true);
  assert.equal(lb.lease.epoch, 2);
  await assert.rejects(a.acquire(S), { code: "SESSION_ELSEWHERE" });
  await assert.rejects(
    fencedStore(store, la).set(["t", "late"], 1),
    { code: "SESSION_LEASE_LOST" },
  );
});
