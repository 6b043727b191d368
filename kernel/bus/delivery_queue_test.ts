import assert from "node:assert/strict";
import {
  DeliveryQueue,
  type QueueHooks,
  type QueueTarget,
} from "./delivery_queue.ts";
import type { BusEnvelope } from "./envelope.ts";
import { Gate } from "./_fixture_test.ts";

interface Recorder {
  hooks: QueueHooks<QueueTarget>;
  results: unknown[];
  errors: unknown[];
  idle: () => Promise<void>;
}

function recorder(): Recorder {
  const results: unknown[] = [];
  const errors: unknown[] = [];
  let busy = 0;
  const waiters: (() => void)[] = [];
  return {
    results,
    errors,
    hooks: {
      onResult: (_t, _e, v) => void results.push(v),
      onError: (_t, _e, err) => void errors.push(err),
      onBusy: () => void busy++,
      onIdle: () => {
        busy--;
        if (busy === 0) { for (const w of waiters.splice(0)) w(); }
      },
    },
    idle: () =>
      busy === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r)),
  };
}

const env = (seq: number): BusEnvelope => ({ seq } as BusEnvelope);

Deno.test({
  name:
    "`DeliveryQueue` delivers in push order and never runs two handlers at once",
  permissions: "none",
  async fn() {
    const rec = recorder();
    const seen: number[] = [];
    let running = 0;
    let overlap = false;
    const target = {
      active: true,
      handler: async (e: BusEnvelope) => {
        if (++running > 1) overlap = true;
        await Promise.resolve();
        seen.push(e.seq);
        running--;
        return e.seq * 10;
      },
    };
    const q = new DeliveryQueue(100, rec.hooks);
    for (let i = 1; i <= 100; i++) q.push(target, env(i));
    await rec.idle();
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(overlap, false);
    assert.deepEqual(rec.results.slice(0, 3), [10, 20, 30]);
  },
});

Deno.test({
  name:
    "`DeliveryQueue.push()` refuses when full instead of dropping, and accepts after draining",
  permissions: "none",
  async fn() {
    const rec = recorder();
    const gate = new Gate();
    const seen: number[] = [];
    const target = {
      active: true,
      handler: async (e: BusEnvelope) => {
        await gate.wait();
        seen.push(e.seq);
      },
    };
    const q = new DeliveryQueue(2, rec.hooks);
    q.push(target, env(1));
    await Promise.resolve(); // the drain loop takes #1 and blocks on the gate
    q.push(target, env(2));
    q.push(target, env(3));
    assert.equal(q.free, 0);
    assert.throws(() => q.push(target, env(4)), RangeError);
    gate.open();
    await rec.idle();
    q.push(target, env(4));
    await rec.idle();
    assert.deepEqual(seen, [1, 2, 3, 4]);
  },
});

Deno.test({
  name: "`DeliveryQueue` reports a failing handler and keeps draining",
  permissions: "none",
  async fn() {
    const rec = recorder();
    const seen: number[] = [];
    const target = {
      active: true,
      handler: (e: BusEnvelope) => {
        if (e.seq === 2) throw new Error("boom");
        seen.push(e.seq);
      },
    };
    const q = new DeliveryQueue(4, rec.hooks);
    for (const i of [1, 2, 3]) q.push(target, env(i));
    await rec.idle();
    assert.deepEqual(seen, [1, 3]);
    assert.equal((rec.errors[0] as Error).message, "boom");
  },
});

Deno.test({
  name:
    "`DeliveryQueue.close()` discards waiting deliveries, reports how many, and refuses pushes",
  permissions: "none",
  async fn() {
    const rec = recorder();
    const seen: number[] = [];
    const target = {
      active: true,
      handler: (e: BusEnvelope) => void seen.push(e.seq),
    };
    const q = new DeliveryQueue(4, rec.hooks);
    q.push(target, env(1));
    q.push(target, env(2));
    assert.equal(q.close(), 2);
    assert.equal(q.close(), 0);
    assert.equal(q.free, 0);
    assert.throws(() => q.push(target, env(3)), RangeError);
    await rec.idle();
    assert.deepEqual(seen, []);
  },
});

Deno.test({
  name: "`DeliveryQueue` skips deliveries to a target that became inactive",
  permissions: "none",
  async fn() {
    const rec = recorder();
    const seen: number[] = [];
    const target = {
      active: true,
      handler: (e: BusEnvelope) => void seen.push(e.seq),
    };
    const q = new DeliveryQueue(4, rec.hooks);
    q.push(target, env(1));
    target.active = false;
    await rec.idle();
    assert.deepEqual(seen, []);
    assert.throws(() => new DeliveryQueue(0, rec.hooks), RangeError);
  },
});
