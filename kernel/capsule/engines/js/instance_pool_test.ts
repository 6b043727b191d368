import assert from "node:assert/strict";
import { InstancePool } from "./_instance_pool.ts";

interface Item {
  readonly n: number;
  disposed: boolean;
}

function pool(max: number, make: () => Promise<Item>) {
  const failures: number[] = [];
  const p = new InstancePool<Item>({ n: 0, disposed: false }, {
    max,
    make,
    dispose: (item) => item.disposed = true,
    onMakeFailed: (_err, live) => failures.push(live),
    unavailable: () => new Error("unavailable"),
  });
  return { p, failures };
}

function counter(): () => Promise<Item> {
  let n = 0;
  return () => Promise.resolve({ n: ++n, disposed: false });
}

const never = new AbortController().signal;
const aborted = () => new Error("aborted");

Deno.test({
  name:
    "InstancePool lends free instances first, grows up to max, then queues in arrival order",
  permissions: "none",
  async fn() {
    const { p } = pool(2, counter());
    const a = await p.acquire(never, aborted);
    const b = await p.acquire(never, aborted);
    assert.deepEqual([a.n, b.n], [0, 1]);
    const order: number[] = [];
    const c = p.acquire(never, aborted).then((i) => (order.push(1), i));
    const d = p.acquire(never, aborted).then((i) => (order.push(2), i));
    assert.equal(p.queued, 2);
    p.release(b);
    p.release(a);
    assert.deepEqual([(await c).n, (await d).n], [1, 0]);
    assert.deepEqual(order, [1, 2]);
    assert.equal(p.made, 2);
  },
});

Deno.test({
  name:
    "InstancePool stops growing after a failed make and serves with the instances left",
  permissions: "none",
  async fn() {
    let fail = true;
    const next = counter();
    const { p, failures } = pool(
      3,
      () => fail ? Promise.reject(new Error("no")) : next(),
    );
    const a = await p.acquire(never, aborted);
    // Growth fails: the call waits for the instance alive instead.
    const b = p.acquire(never, aborted);
    await Promise.resolve();
    assert.deepEqual(failures, [1]);
    fail = false;
    p.release(a);
    assert.equal(await b, a);
    p.release(a);
    assert.equal(p.made, 1, "no growth after a failed make");
  },
});

Deno.test({
  name:
    "InstancePool fails every acquire once a failed recycle left no instance",
  permissions: "none",
  async fn() {
    const { p, failures } = pool(1, () => Promise.reject(new Error("no")));
    const a = await p.acquire(never, aborted);
    const queued = p.acquire(never, aborted);
    await p.recycle(a);
    assert.ok(a.disposed);
    assert.deepEqual(failures, [0]);
    await assert.rejects(queued, /unavailable/);
    await assert.rejects(p.acquire(never, aborted), /unavailable/);
  },
});

Deno.test({
  name:
    "InstancePool recycles an instance into a fresh one handed to the first waiter",
  permissions: "none",
  async fn() {
    const { p } = pool(1, counter());
    const a = await p.acquire(never, aborted);
    const waiting = p.acquire(never, aborted);
    await p.recycle(a);
    assert.ok(a.disposed);
    assert.equal((await waiting).n, 1);
    assert.equal(p.made, 2);
    assert.equal(p.live.length, 1);
  },
});

Deno.test({
  name:
    "InstancePool drops a waiter whose signal fires, and close() rejects waiters and disposes all",
  permissions: "none",
  async fn() {
    const { p } = pool(1, counter());
    const a = await p.acquire(never, aborted);
    const cancel = new AbortController();
    const gone = p.acquire(cancel.signal, aborted);
    const kept = p.acquire(never, aborted);
    cancel.abort();
    await assert.rejects(gone, /aborted/);
    assert.equal(p.queued, 1);
    p.close(new Error("closed"));
    await assert.rejects(kept, /closed/);
    assert.ok(a.disposed);
    assert.equal(p.live.length, 0);
    await assert.rejects(p.acquire(never, aborted), /aborted/);
  },
});

Deno.test({
  name:
    "InstancePool rejects a caller cancelled while its instance is made; the instance joins the pool",
  permissions: "none",
  async fn() {
    let finish!: (item: Item) => void;
    const { p } = pool(2, () => new Promise<Item>((r) => finish = r));
    await p.acquire(never, aborted);
    const cancel = new AbortController();
    const growing = p.acquire(cancel.signal, aborted);
    cancel.abort();
    await assert.rejects(growing, /aborted/);
    finish({ n: 1, disposed: false });
    await Promise.resolve();
    assert.equal(p.live.length, 2);
    assert.equal((await p.acquire(never, aborted)).n, 1);
  },
});
