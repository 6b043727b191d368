import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { A, B, fixture, msg } from "./_fixture_test.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e) && e.code === c;
}

Deno.test({
  name:
    "`Bus.publish()` past a capsule's rate limit is BUS_RATE_LIMITED until the Clock refills the bucket",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.registerCapsule(A, {
      publish: ["r.*"],
      subscribe: [],
      rateLimit: { perSecond: 10, burst: 3 },
    });
    for (let i = 0; i < 3; i++) await bus.publish(A, msg("r.x", i));
    await assert.rejects(bus.publish(A, msg("r.x")), (e: unknown) => {
      assert.ok(KernelError.is(e, "BUS_RATE_LIMITED"));
      assert.equal(
        e.message,
        "Capsule 'alpha' may not publish to 'r.x' now as it exceeded its rate limit",
      );
      return true;
    });
    await assert.rejects(bus.request(A, msg("r.x")), code("BUS_RATE_LIMITED"));
    await clock.advance(100);
    await bus.publish(A, msg("r.x"));
    await assert.rejects(bus.publish(A, msg("r.x")), code("BUS_RATE_LIMITED"));
  },
});

Deno.test({
  name:
    "`Bus.publish()` limits each capsule separately and never limits the kernel",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const limit = { perSecond: 1, burst: 1 };
    bus.registerCapsule(A, {
      publish: ["r.*"],
      subscribe: [],
      rateLimit: limit,
    });
    bus.registerCapsule(B, {
      publish: ["r.*"],
      subscribe: [],
      rateLimit: limit,
    });
    await bus.publish(A, msg("r.x"));
    await assert.rejects(bus.publish(A, msg("r.x")), code("BUS_RATE_LIMITED"));
    await bus.publish(B, msg("r.x"));
    for (let i = 0; i < 5_000; i++) await bus.publish("kernel", msg("r.x"));
  },
});

Deno.test({
  name:
    "`Bus.publish()` a denied publish takes no token; 'unlimited' capsules are never limited",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, {
      publish: ["r.*"],
      subscribe: [],
      rateLimit: { perSecond: 1, burst: 1 },
    });
    await assert.rejects(
      bus.publish(A, msg("denied.x")),
      code("BUS_ACL_DENIED"),
    );
    await bus.publish(A, msg("r.x"));
    bus.registerCapsule(B, {
      publish: ["r.*"],
      subscribe: [],
      rateLimit: "unlimited",
    });
    for (let i = 0; i < 5_000; i++) await bus.publish(B, msg("r.x"));
  },
});

Deno.test({
  name:
    "`Bus.publish()` applies the default limit (burst 2,000) when a capsule sets none",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["r.*"], subscribe: [] });
    let ok = 0;
    for (;;) {
      try {
        await bus.publish(A, msg("r.x"));
        ok++;
      } catch (e) {
        assert.ok(KernelError.is(e, "BUS_RATE_LIMITED"));
        break;
      }
    }
    assert.equal(ok, 2_000);
  },
});
