import assert from "node:assert/strict";
import type { CapsuleId } from "../core/ids.ts";
import { KernelError } from "../core/errors.ts";
import { A, B, C, CTX, fixture, Gate, msg, T0 } from "./_fixture_test.ts";
import type { BusEnvelope } from "./envelope.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e) && e.code === c;
}

Deno.test({
  name:
    "`Bus.publish()` delivers a frozen envelope carrying principal, session, source, id, seq and time",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["agent.v1.response"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: ["agent.v1.*"] });
    const got: BusEnvelope[] = [];
    bus.subscribe(B, {
      pattern: "agent.v1.response",
      handler: (e) => void got.push(e),
    });
    assert.equal(
      await bus.publish(A, msg("agent.v1.response", { text: "hi" })),
      undefined,
    );
    await bus.whenIdle();
    assert.equal(got.length, 1);
    const e = got[0]!;
    assert.match(e.id, /^[0-9a-f]{8}-1$/);
    assert.deepEqual({ ...e, id: "x" }, {
      id: "x",
      seq: 1,
      topic: "agent.v1.response",
      payload: { text: "hi" },
      source: A,
      principal: CTX.principal,
      session: CTX.session,
      correlation_id: null,
      timestamp: T0,
    });
    assert.ok(Object.isFrozen(e));
  },
});

Deno.test({
  name:
    "`Bus.publish()` a subscriber cannot change the envelope the next subscriber sees",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const seen: string[] = [];
    bus.subscribe("kernel", {
      pattern: "x.y",
      handler: (e) => {
        assert.throws(() => {
          (e as { principal: string }).principal = "root";
        }, TypeError);
      },
    });
    bus.subscribe("kernel", {
      pattern: "x.y",
      handler: (e) => void seen.push(e.principal),
    });
    await bus.publish("kernel", msg("x.y"));
    await bus.whenIdle();
    assert.deepEqual(seen, ["alice"]);
  },
});

Deno.test({
  name:
    "`Bus.publish()` from the kernel needs no registration or ACL; from an unknown capsule it fails",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    let n = 0;
    bus.subscribe("kernel", {
      pattern: "astrid.v1.**",
      handler: () => void n++,
    });
    await bus.publish(
      "kernel",
      msg("astrid.v1.capsules_loaded", { status: "ready" }),
    );
    await bus.whenIdle();
    assert.equal(n, 1);
    await assert.rejects(
      bus.publish("ghost" as CapsuleId, msg("a.b")),
      code("CAPSULE_NOT_FOUND"),
    );
  },
});

Deno.test({
  name:
    "`Bus.publish()` outside the ACL is BUS_ACL_DENIED, reported to onDenied first, and delivers nothing",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    bus.registerCapsule(A, {
      publish: ["tool.v1.execute.*.result"],
      subscribe: [],
    });
    let delivered = 0;
    bus.subscribe("kernel", { pattern: "**", handler: () => void delivered++ });
    await assert.rejects(
      bus.publish(A, msg("tool.v1.execute.read_file")),
      (e: unknown) => {
        assert.ok(KernelError.is(e, "BUS_ACL_DENIED"));
        assert.match(
          e.message,
          /Capsule 'alpha' may not publish to 'tool.v1.execute.read_file'/,
        );
        return true;
      },
    );
    assert.deepEqual(denials, [{
      kind: "publish_acl",
      capsule: A,
      topic: "tool.v1.execute.read_file",
      principal: CTX.principal,
      session: CTX.session,
      reason:
        "no ipc_publish pattern matches it (granted: tool.v1.execute.*.result)",
      interceptor: null,
      message_id: null,
    }]);
    await bus.whenIdle();
    assert.equal(delivered, 0);
  },
});

Deno.test({
  name:
    "`Bus.publish()` a capsule cannot publish kernel topics (fake capsules_loaded, self-approval) whatever its grants",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    bus.registerCapsule(A, { publish: ["**"], subscribe: [] });
    for (
      const t of ["astrid.v1.capsules_loaded", "astrid.v1.approval.response.r1"]
    ) {
      await assert.rejects(
        bus.publish(A, msg(t, { decision: "allow" })),
        code("BUS_ACL_DENIED"),
      );
    }
    assert.equal(denials.length, 2);
  },
});

Deno.test({
  name:
    "`Bus.registerCapsule()` refuses the name 'kernel' so no capsule can pose as the kernel",
  permissions: "none",
  fn() {
    const { bus } = fixture();
    assert.throws(
      () =>
        bus.registerCapsule("kernel" as CapsuleId, {
          publish: ["**"],
          subscribe: [],
        }),
      code("INVALID_ID"),
    );
    bus.registerCapsule(A, { publish: [], subscribe: [] });
    assert.throws(
      () => bus.registerCapsule(A, { publish: [], subscribe: [] }),
      TypeError,
    );
  },
});

Deno.test({
  name:
    "`Bus.publish()` rejects a malformed topic with BUS_TOPIC_INVALID, from capsules and the kernel",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["**"], subscribe: [] });
    await assert.rejects(
      bus.publish(A, msg("a..b")),
      code("BUS_TOPIC_INVALID"),
    );
    await assert.rejects(
      bus.publish("kernel", msg("a.*")),
      code("BUS_TOPIC_INVALID"),
    );
    await assert.rejects(
      bus.publish("kernel", msg("")),
      code("BUS_TOPIC_INVALID"),
    );
  },
});

Deno.test({
  name:
    "`Bus.subscribe()` outside the ACL is BUS_ACL_DENIED and reported; a grant of `foo.*` never yields `foo.**`",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    bus.registerCapsule(A, { publish: [], subscribe: ["llm.v1.stream.*"] });
    bus.subscribe(A, { pattern: "llm.v1.stream.openai", handler: () => {} });
    assert.throws(
      () =>
        bus.subscribe(A, {
          pattern: "llm.v1.stream.**",
          handler: () => {},
          context: CTX,
        }),
      code("BUS_ACL_DENIED"),
    );
    assert.throws(
      () => bus.subscribe(A, { pattern: "llm.v1.*", handler: () => {} }),
      code("BUS_ACL_DENIED"),
    );
    await bus.whenIdle();
    assert.deepEqual(denials.map((d) => [d.kind, d.topic, d.principal]), [
      ["subscribe_acl", "llm.v1.stream.**", "alice"],
      ["subscribe_acl", "llm.v1.*", null],
    ]);
    assert.equal(bus.stats().subscriptions, 1);
  },
});

Deno.test({
  name:
    "`Bus.subscribe()` caps a capsule at 128 subscriptions and frees a slot on unsubscribe",
  permissions: "none",
  fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: [], subscribe: ["**"] });
    const offs = Array.from(
      { length: 128 },
      (_, i) => bus.subscribe(A, { pattern: `t.n${i}`, handler: () => {} }),
    );
    assert.throws(
      () => bus.subscribe(A, { pattern: "t.more", handler: () => {} }),
      code("INVALID_INPUT"),
    );
    offs[0]!();
    offs[0]!(); // idempotent: frees one slot only
    bus.subscribe(A, { pattern: "t.more", handler: () => {} });
    assert.throws(
      () => bus.subscribe(A, { pattern: "t.more2", handler: () => {} }),
      code("INVALID_INPUT"),
    );
  },
});

Deno.test({
  name:
    "`Bus.publish()` keeps publish order per capsule, across its subscriptions, with async handlers",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["s.*"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: ["s.*"] });
    const seen: string[] = [];
    const handler = async (e: BusEnvelope) => {
      if ((e.payload as number) % 7 === 0) {
        await new Promise<void>((r) => queueMicrotask(r));
      }
      seen.push(`${e.topic}:${e.payload}`);
    };
    bus.subscribe(B, { pattern: "s.even", handler });
    bus.subscribe(B, { pattern: "s.odd", handler });
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      const t = i % 2 === 0 ? "s.even" : "s.odd";
      expected.push(`${t}:${i}`);
      await bus.publish(A, msg(t, i));
    }
    await bus.whenIdle();
    assert.deepEqual(seen, expected);
  },
});

Deno.test({
  name:
    "`Bus.publish()` a slow subscriber does not hold up another capsule's subscriber",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: [], subscribe: ["e.*"] });
    bus.registerCapsule(B, { publish: [], subscribe: ["e.*"] });
    const gate = new Gate();
    const fast: number[] = [];
    bus.subscribe(A, { pattern: "e.x", handler: () => gate.wait() });
    bus.subscribe(B, {
      pattern: "e.x",
      handler: (e) => void fast.push(e.payload as number),
    });
    for (let i = 0; i < 5; i++) await bus.publish("kernel", msg("e.x", i));
    await new Promise<void>((r) => setTimeout(r, 0));
    assert.deepEqual(fast, [0, 1, 2, 3, 4]);
    assert.equal(bus.stats().busyQueues, 1);
    gate.open();
    await bus.whenIdle();
  },
});

Deno.test({
  name:
    "`Bus.publish()` a failing subscriber is logged and the next message still arrives",
  permissions: "none",
  async fn() {
    const { bus, logger } = fixture();
    const seen: number[] = [];
    bus.subscribe("kernel", {
      pattern: "f.x",
      handler: (e) => {
        if (e.payload === 1) throw new Error("bad input");
        seen.push(e.payload as number);
      },
    });
    for (const i of [0, 1, 2]) await bus.publish("kernel", msg("f.x", i));
    await bus.whenIdle();
    assert.deepEqual(seen, [0, 2]);
    const warn = logger.records.find((r) => r.level === "warn");
    assert.equal(warn?.fields.error, "bad input");
    assert.equal(warn?.fields.component, "bus");
  },
});

Deno.test({
  name:
    "`Bus.subscribe()` ending a subscription stops delivery, including messages already queued",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const seen: number[] = [];
    const off = bus.subscribe("kernel", {
      pattern: "u.x",
      handler: (e) => void seen.push(e.payload as number),
    });
    const queued = bus.publish("kernel", msg("u.x", 1)); // queued, not yet handled
    off();
    await queued;
    await bus.publish("kernel", msg("u.x", 2));
    await bus.whenIdle();
    assert.deepEqual(seen, []);
    assert.equal(bus.stats().subscriptions, 0);
  },
});

Deno.test({
  name:
    "`Bus.publish()` with no subscriber resolves; a capsule subscribed twice gets the message twice, in order",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    assert.equal(await bus.publish("kernel", msg("nobody.listens")), undefined);
    bus.registerCapsule(C, { publish: [], subscribe: ["d.**"] });
    const seen: string[] = [];
    bus.subscribe(C, {
      pattern: "d.x",
      handler: () => void seen.push("exact"),
    });
    bus.subscribe(C, {
      pattern: "d.**",
      handler: () => void seen.push("deep"),
    });
    await bus.publish("kernel", msg("d.x"));
    await bus.whenIdle();
    assert.deepEqual(seen, ["exact", "deep"]);
  },
});

Deno.test({
  name:
    "`Bus.unregisterCapsule()` removes its subscriptions and discards its waiting deliveries",
  permissions: "none",
  async fn() {
    const { bus, logger } = fixture();
    bus.registerCapsule(A, { publish: [], subscribe: ["g.*"] });
    const gate = new Gate();
    const seen: number[] = [];
    bus.subscribe(A, {
      pattern: "g.x",
      handler: async (e) => {
        await gate.wait();
        seen.push(e.payload as number);
      },
    });
    for (const i of [1, 2, 3]) await bus.publish("kernel", msg("g.x", i));
    await Promise.resolve();
    assert.equal(bus.unregisterCapsule(A), true);
    assert.equal(bus.unregisterCapsule(A), false);
    gate.open();
    await bus.whenIdle();
    assert.deepEqual(seen, [1]); // in flight when unregistered
    assert.deepEqual(bus.stats(), {
      capsules: 0,
      subscriptions: 0,
      pendingRequests: 0,
      busyQueues: 0,
    });
    assert.ok(
      logger.records.some((r) => /Discarded 2 deliveries/.test(r.message)),
    );
  },
});

Deno.test({
  name: "`Bus.close()` refuses further use with ABORTED",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["**"], subscribe: ["**"] });
    bus.subscribe("kernel", { pattern: "**", handler: () => {} });
    bus.close();
    bus.close();
    await assert.rejects(bus.publish("kernel", msg("a.b")), code("ABORTED"));
    assert.throws(
      () => bus.subscribe("kernel", { pattern: "a", handler: () => {} }),
      code("ABORTED"),
    );
    assert.throws(
      () => bus.registerCapsule(B, { publish: [], subscribe: [] }),
      code("ABORTED"),
    );
    assert.equal(bus.stats().subscriptions, 0);
  },
});
