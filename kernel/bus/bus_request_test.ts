import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import { A, B, C, CTX, fixture, Gate, msg } from "./_fixture_test.ts";
import type { BusEnvelope } from "./envelope.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e) && e.code === c;
}

Deno.test({
  name:
    "`Bus.request()` resolves with the subscriber's return value; the request carries a correlation id, principal and session",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.registerCapsule(A, {
      publish: ["session.v1.request.*"],
      subscribe: [],
    });
    bus.registerCapsule(B, {
      publish: [],
      subscribe: ["session.v1.request.*"],
    });
    let seen: BusEnvelope | undefined;
    bus.subscribe(B, {
      pattern: "session.v1.request.get_messages",
      handler: async (e) => {
        seen = e;
        await Promise.resolve();
        return { messages: [], for: e.principal };
      },
    });
    const answer = await bus.request(
      A,
      msg("session.v1.request.get_messages", { n: 1 }),
    );
    assert.deepEqual(answer, { messages: [], for: "alice" });
    assert.match(seen!.correlation_id!, /^[0-9a-f-]{36}$/);
    assert.equal(seen!.principal, CTX.principal);
    assert.equal(seen!.session, CTX.session);
    assert.equal(seen!.source, A);
    assert.equal(clock.pendingSleeps, 0); // the deadline timer was cancelled
  },
});

Deno.test({
  name:
    "`Bus.respond()` answers later; the first answer wins and a second is NOT_FOUND",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(B, { publish: [], subscribe: ["ask.*"] });
    let corr = "";
    bus.subscribe(B, {
      pattern: "ask.later",
      handler: (e) => void (corr = e.correlation_id!),
    });
    const answer = bus.request("kernel", msg("ask.later"));
    await bus.whenIdle();
    bus.respond(B, { correlation_id: corr, payload: "done" });
    assert.equal(await answer, "done");
    assert.throws(
      () => bus.respond(B, { correlation_id: corr, payload: "again" }),
      code("NOT_FOUND"),
    );
  },
});

Deno.test({
  name:
    "`Bus.respond()` a capsule that did not receive the request cannot answer it (forged response)",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.registerCapsule(B, { publish: [], subscribe: ["ask.*"] });
    bus.registerCapsule(C, { publish: [], subscribe: ["other.*"] });
    let corr = "";
    bus.subscribe(B, {
      pattern: "ask.x",
      handler: (e) => void (corr = e.correlation_id!),
    });
    const answer = bus.request("kernel", msg("ask.x"), { timeoutMs: 100 });
    await bus.whenIdle();
    let forged: unknown;
    try {
      bus.respond(C, { correlation_id: corr, payload: "forged" });
    } catch (e) {
      forged = e;
    }
    let unknown: unknown;
    try {
      bus.respond(C, {
        correlation_id: "00000000-0000-4000-8000-000000000000",
        payload: "x",
      });
    } catch (e) {
      unknown = e;
    }
    // Same code and shape for a foreign and an unknown id: no oracle.
    assert.ok(KernelError.is(forged, "NOT_FOUND"));
    assert.ok(KernelError.is(unknown, "NOT_FOUND"));
    assert.match(forged.message, /was delivered to 'gamma'/);
    bus.respond(B, { correlation_id: corr, payload: "real" });
    assert.equal(await answer, "real");
    assert.equal(clock.pendingSleeps, 0);
  },
});

Deno.test({
  name:
    "`Bus.request()` fails with BUS_TIMEOUT at the deadline on the Clock port, not before",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.subscribe("kernel", { pattern: "slow.x", handler: () => undefined });
    let settled = false;
    const answer = bus.request("kernel", msg("slow.x"), { timeoutMs: 1_000 });
    answer.then(() => (settled = true), () => (settled = true));
    await clock.advance(999);
    assert.equal(settled, false);
    await clock.advance(1);
    await assert.rejects(answer, (e: unknown) => {
      assert.ok(KernelError.is(e, "BUS_TIMEOUT"));
      assert.equal(
        e.message,
        "Request on 'slow.x' got no response within 1000 ms",
      );
      return true;
    });
    assert.equal(bus.stats().pendingRequests, 0);
    assert.throws(
      () => bus.respond("kernel", { correlation_id: "late", payload: 1 }),
      code("NOT_FOUND"),
    );
  },
});

Deno.test({
  name: "`Bus.request()` with nobody subscribed fails at once with NOT_FOUND",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    await assert.rejects(
      bus.request("kernel", msg("void.x")),
      code("NOT_FOUND"),
    );
    await assert.rejects(
      bus.request("kernel", msg("void.x"), { timeoutMs: 0 }),
      RangeError,
    );
    assert.equal(clock.pendingSleeps, 0);
  },
});

Deno.test({
  name:
    "`Bus.unregisterCapsule()` cancels pending requests to that capsule with ABORTED",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.registerCapsule(B, { publish: [], subscribe: ["ask.*"] });
    bus.subscribe(B, { pattern: "ask.x", handler: () => undefined });
    const answer = bus.request("kernel", msg("ask.x"));
    await bus.whenIdle();
    bus.unregisterCapsule(B);
    await assert.rejects(answer, (e: unknown) => {
      assert.ok(KernelError.is(e, "ABORTED"));
      assert.match(e.message, /capsule 'beta' was unregistered/);
      return true;
    });
    assert.equal(clock.pendingSleeps, 0);
  },
});

Deno.test({
  name:
    "`Bus.unregisterCapsule()` keeps a request alive while another recipient remains, and cancels the capsule's own requests",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["ask.*"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: ["ask.*"] });
    bus.registerCapsule(C, { publish: [], subscribe: ["ask.*"] });
    let corr = "";
    bus.subscribe(B, { pattern: "ask.x", handler: () => undefined });
    bus.subscribe(C, {
      pattern: "ask.x",
      handler: (e) => {
        if (e.source === "kernel") corr = e.correlation_id!;
      },
    });
    const shared = bus.request("kernel", msg("ask.x"));
    const own = bus.request(A, msg("ask.x"));
    await bus.whenIdle();
    bus.unregisterCapsule(B);
    bus.respond(C, { correlation_id: corr, payload: "from gamma" });
    assert.equal(await shared, "from gamma");
    bus.unregisterCapsule(A);
    await assert.rejects(own, code("ABORTED"));
  },
});

Deno.test({
  name:
    "`Bus.request()` a failing recipient fails the request only when every recipient failed",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.subscribe("kernel", {
      pattern: "one.x",
      handler: () => {
        throw new Error("crash");
      },
    });
    await assert.rejects(bus.request("kernel", msg("one.x")), (e: unknown) => {
      assert.ok(KernelError.is(e, "CAPSULE_FAILED"));
      assert.equal((e.cause as Error).message, "crash");
      return true;
    });
    bus.registerCapsule(B, { publish: [], subscribe: ["two.*"] });
    bus.subscribe(B, {
      pattern: "two.x",
      handler: () => {
        throw new KernelError("BUDGET_EXCEEDED", "out of budget");
      },
    });
    bus.subscribe("kernel", { pattern: "two.x", handler: () => "fine" });
    assert.equal(await bus.request("kernel", msg("two.x")), "fine");
    bus.subscribe("kernel", {
      pattern: "three.x",
      handler: () => {
        throw new KernelError("BUDGET_EXCEEDED", "out of budget");
      },
    });
    await assert.rejects(
      bus.request("kernel", msg("three.x")),
      code("BUDGET_EXCEEDED"),
    );
  },
});

Deno.test({
  name: "`Bus.request()` honours an AbortSignal before and while waiting",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    const gate = new Gate();
    bus.subscribe("kernel", { pattern: "ab.x", handler: () => gate.wait() });
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(
      bus.request("kernel", msg("ab.x"), { signal: pre.signal }),
      code("ABORTED"),
    );
    const ac = new AbortController();
    const answer = bus.request("kernel", msg("ab.x"), { signal: ac.signal });
    ac.abort();
    await assert.rejects(answer, code("ABORTED"));
    assert.equal(bus.stats().pendingRequests, 0);
    assert.equal(clock.pendingSleeps, 0);
    gate.open();
    await bus.whenIdle();
  },
});

Deno.test({
  name: "`Bus.close()` fails open requests with ABORTED",
  permissions: "none",
  async fn() {
    const { bus, clock } = fixture();
    bus.subscribe("kernel", { pattern: "cl.x", handler: () => undefined });
    const answer = bus.request("kernel", msg("cl.x"));
    await bus.whenIdle();
    bus.close();
    await assert.rejects(answer, code("ABORTED"));
    assert.equal(clock.pendingSleeps, 0);
  },
});

Deno.test({
  name:
    "`Bus.request()` from an unregistered capsule or outside its ACL is refused before anything is sent",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    let delivered = 0;
    bus.subscribe("kernel", {
      pattern: "acl.x",
      handler: () => void delivered++,
    });
    await assert.rejects(
      bus.request("nope" as CapsuleId, msg("acl.x")),
      code("CAPSULE_NOT_FOUND"),
    );
    bus.registerCapsule(A, { publish: ["other.*"], subscribe: [] });
    await assert.rejects(bus.request(A, msg("acl.x")), code("BUS_ACL_DENIED"));
    await bus.whenIdle();
    assert.equal(delivered, 0);
    assert.equal(denials.length, 1);
  },
});
