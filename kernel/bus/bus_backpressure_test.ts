import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { A, B, C, fixture, Gate, msg } from "./_fixture_test.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e) && e.code === c;
}

Deno.test({
  name:
    "`Bus.publish()` to a full queue is BUS_BACKPRESSURE; after draining it accepts again and nothing is lost",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, {
      publish: ["work.v1.item"],
      subscribe: [],
      rateLimit: "unlimited",
    });
    bus.registerCapsule(B, {
      publish: [],
      subscribe: ["work.v1.*"],
      queueSize: 8,
    });
    const gate = new Gate();
    const seen: number[] = [];
    bus.subscribe(B, {
      pattern: "work.v1.item",
      handler: async (e) => {
        await gate.wait();
        seen.push(e.payload as number);
      },
    });
    const accepted: number[] = [];
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await bus.publish(A, msg("work.v1.item", i));
        accepted.push(i);
      } catch (e) {
        assert.ok(KernelError.is(e, "BUS_BACKPRESSURE"), String(e));
        assert.match(
          e.message,
          /Cannot deliver 'work.v1.item' to 'beta' as its queue is full \(8 messages waiting\)/,
        );
        assert.deepEqual(e.data, {
          topic: "work.v1.item",
          capsule: B,
          capacity: 8,
        });
        refused++;
      }
    }
    // One in flight (blocked on the gate) plus eight waiting.
    assert.deepEqual(accepted, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(refused, 11);
    gate.open();
    await bus.whenIdle();
    await bus.publish(A, msg("work.v1.item", 99));
    await bus.whenIdle();
    assert.deepEqual(seen, [...accepted, 99]);
  },
});

Deno.test({
  name:
    "`Bus.publish()` delivery is all or nothing: one full receiver means no receiver gets the message",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(B, { publish: [], subscribe: ["t.*"], queueSize: 1 });
    bus.registerCapsule(C, { publish: [], subscribe: ["t.*"] });
    const gate = new Gate();
    const b: number[] = [];
    const c: number[] = [];
    bus.subscribe(B, {
      pattern: "t.x",
      handler: async (e) => {
        await gate.wait();
        b.push(e.payload as number);
      },
    });
    bus.subscribe(C, {
      pattern: "t.x",
      handler: (e) => void c.push(e.payload as number),
    });
    await bus.publish("kernel", msg("t.x", 1)); // B in flight
    await bus.publish("kernel", msg("t.x", 2)); // B waiting (full)
    await assert.rejects(
      bus.publish("kernel", msg("t.x", 3)),
      code("BUS_BACKPRESSURE"),
    );
    gate.open();
    await bus.whenIdle();
    assert.deepEqual(b, [1, 2]);
    assert.deepEqual(c, [1, 2]);
  },
});

Deno.test({
  name:
    "`Bus.subscribe()` a kernel subscription has its own bounded queue; capsules size theirs at registration",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const gate = new Gate();
    bus.subscribe("kernel", {
      pattern: "k.x",
      handler: () => gate.wait(),
      queueSize: 1,
    });
    let other = 0;
    bus.subscribe("kernel", { pattern: "k.y", handler: () => void other++ });
    await bus.publish("kernel", msg("k.x"));
    await bus.publish("kernel", msg("k.x"));
    await assert.rejects(
      bus.publish("kernel", msg("k.x")),
      code("BUS_BACKPRESSURE"),
    );
    await bus.publish("kernel", msg("k.y")); // a different kernel queue is unaffected
    bus.registerCapsule(A, { publish: [], subscribe: ["**"] });
    assert.throws(
      () =>
        bus.subscribe(A, { pattern: "k.x", handler: () => {}, queueSize: 5 }),
      TypeError,
    );
    gate.open();
    await bus.whenIdle();
    assert.equal(other, 1);
  },
});

Deno.test({
  name:
    "`Bus.request()` to a full queue is BUS_BACKPRESSURE and leaves no open request behind",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.registerCapsule(B, { publish: [], subscribe: ["q.*"], queueSize: 1 });
    const gate = new Gate();
    bus.subscribe(B, {
      pattern: "q.ask",
      handler: async () => {
        await gate.wait();
        return "ok";
      },
    });
    const first = bus.request("kernel", msg("q.ask"));
    await Promise.resolve(); // B takes the first and blocks on the gate
    const second = bus.request("kernel", msg("q.ask"));
    await assert.rejects(
      bus.request("kernel", msg("q.ask")),
      code("BUS_BACKPRESSURE"),
    );
    assert.equal(bus.stats().pendingRequests, 2);
    gate.open();
    assert.deepEqual(await Promise.all([first, second]), ["ok", "ok"]);
    assert.equal(clock.pendingSleeps, 0);
  },
});

Deno.test({
  name: "`Bus` a rejected invalid queue size is a RangeError at registration",
  permissions: "none",
  fn() {
    const { bus } = fixture();
    assert.throws(
      () =>
        bus.registerCapsule(A, { publish: [], subscribe: [], queueSize: 0 }),
      RangeError,
    );
    assert.throws(
      () =>
        bus.registerCapsule(A, {
          publish: [],
          subscribe: [],
          rateLimit: { perSecond: -1, burst: 1 },
        }),
      RangeError,
    );
    assert.equal(bus.stats().capsules, 0);
  },
});
