import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { A, B, C, CTX, fixture, msg } from "./_fixture_test.ts";
import type { InterceptResult, JsonValue } from "./envelope.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e) && e.code === c;
}

const CONTINUE: InterceptResult = { type: "continue" };

Deno.test({
  name:
    "`Bus.intercept()` runs interceptors lowest priority first, ties in registration order, before subscribers",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    for (const id of [A, B, C]) {
      bus.registerCapsule(id, { publish: [], subscribe: [] });
    }
    const order: string[] = [];
    const note = (name: string) => () => {
      order.push(name);
      return CONTINUE;
    };
    bus.intercept(A, {
      pattern: "llm.v1.request.*",
      priority: 100,
      handler: note("A100"),
    });
    bus.intercept(B, {
      pattern: "llm.v1.request.*",
      priority: 10,
      handler: note("B10"),
    });
    bus.intercept(C, {
      pattern: "llm.v1.**",
      priority: 100,
      handler: note("C100"),
    });
    bus.intercept("kernel", {
      pattern: "llm.v1.request.generate",
      handler: note("K-default"),
    });
    bus.intercept(A, {
      pattern: "other.topic",
      priority: 0,
      handler: note("never"),
    });
    bus.subscribe("kernel", {
      pattern: "llm.v1.request.generate",
      handler: () => void order.push("subscriber"),
    });
    await bus.publish("kernel", msg("llm.v1.request.generate"));
    await bus.whenIdle();
    assert.deepEqual(order, ["B10", "A100", "C100", "K-default", "subscriber"]);
  },
});

Deno.test({
  name:
    "`Bus.intercept()` `continue` with a payload rewrites it for later interceptors and subscribers; without one keeps it",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const seen: JsonValue[] = [];
    bus.intercept("kernel", {
      pattern: "p.x",
      priority: 1,
      handler: (e) => ({
        type: "continue",
        payload: { ...(e.payload as object), redacted: true },
      }),
    });
    bus.intercept("kernel", {
      pattern: "p.x",
      priority: 2,
      handler: (e) => {
        seen.push(e.payload);
        return CONTINUE;
      },
    });
    bus.subscribe("kernel", {
      pattern: "p.x",
      handler: (e) => void seen.push(e.payload),
    });
    await bus.publish("kernel", msg("p.x", { secret: "s" }));
    await bus.whenIdle();
    assert.deepEqual(seen, [{ secret: "s", redacted: true }, {
      secret: "s",
      redacted: true,
    }]);
  },
});

Deno.test({
  name:
    "`Bus.intercept()` `final` hands its payload back to the publisher; later interceptors and subscribers see nothing",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: ["llm.v1.request.*"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: [] });
    let later = 0;
    let delivered = 0;
    bus.intercept(B, {
      pattern: "llm.v1.request.*",
      priority: 10,
      handler: () => ({ type: "final", payload: { cached: true } }),
    });
    bus.intercept("kernel", {
      pattern: "llm.v1.request.*",
      priority: 20,
      handler: () => {
        later++;
        return CONTINUE;
      },
    });
    bus.subscribe("kernel", {
      pattern: "llm.v1.**",
      handler: () => void delivered++,
    });
    assert.deepEqual(await bus.publish(A, msg("llm.v1.request.generate")), {
      cached: true,
    });
    await bus.whenIdle();
    assert.equal(later, 0);
    assert.equal(delivered, 0);
  },
});

Deno.test({
  name:
    "`Bus.intercept()` `deny` is BUS_DENIED for the publisher, reported with the interceptor and message id, and delivers nothing",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    bus.registerCapsule(A, { publish: ["tool.v1.**"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: [] });
    let delivered = 0;
    let msgId = "";
    bus.intercept(B, {
      pattern: "tool.v1.request.execute",
      handler: (e) => {
        msgId = e.id;
        return { type: "deny", reason: "rm is not allowed here" };
      },
    });
    bus.subscribe("kernel", {
      pattern: "tool.v1.**",
      handler: () => void delivered++,
    });
    await assert.rejects(
      bus.publish(A, msg("tool.v1.request.execute", { tool: "rm" })),
      (e: unknown) => {
        assert.ok(KernelError.is(e, "BUS_DENIED"));
        assert.equal(
          e.message,
          "Interceptor of 'beta' denied 'tool.v1.request.execute' from 'alpha': rm is not allowed here",
        );
        return true;
      },
    );
    await bus.whenIdle();
    assert.equal(delivered, 0);
    assert.deepEqual(denials, [{
      kind: "interceptor",
      capsule: A,
      topic: "tool.v1.request.execute",
      principal: CTX.principal,
      session: CTX.session,
      reason: "rm is not allowed here",
      interceptor: B,
      message_id: msgId,
    }]);
  },
});

Deno.test({
  name:
    "`Bus.intercept()` a throwing or nonsensical interceptor stops the message (fail closed) with CAPSULE_FAILED",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    let delivered = 0;
    bus.subscribe("kernel", {
      pattern: "z.*",
      handler: () => void delivered++,
    });
    bus.intercept("kernel", {
      pattern: "z.throw",
      handler: () => {
        throw new Error("guest trapped");
      },
    });
    bus.intercept("kernel", {
      pattern: "z.junk",
      handler: () => ({ type: "allow" }) as unknown as InterceptResult,
    });
    bus.intercept("kernel", {
      pattern: "z.nofinal",
      handler: () => ({ type: "final" }) as unknown as InterceptResult,
    });
    await assert.rejects(
      bus.publish("kernel", msg("z.throw")),
      (e: unknown) => {
        assert.ok(KernelError.is(e, "CAPSULE_FAILED"));
        assert.equal((e.cause as Error).message, "guest trapped");
        return true;
      },
    );
    await assert.rejects(
      bus.publish("kernel", msg("z.junk")),
      code("CAPSULE_FAILED"),
    );
    await assert.rejects(
      bus.publish("kernel", msg("z.nofinal")),
      code("CAPSULE_FAILED"),
    );
    await bus.whenIdle();
    assert.equal(delivered, 0);
  },
});

Deno.test({
  name:
    "`Bus.intercept()` a failing denial sink still gives BUS_DENIED, with the sink's failure as cause, and is logged",
  permissions: "none",
  async fn() {
    const { bus, logger } = fixture({
      onDenied: () => Promise.reject(new Error("audit store down")),
    });
    bus.intercept("kernel", {
      pattern: "d.x",
      handler: () => ({ type: "deny", reason: "no" }),
    });
    await assert.rejects(bus.publish("kernel", msg("d.x")), (e: unknown) => {
      assert.ok(KernelError.is(e, "BUS_DENIED"));
      assert.equal((e.cause as Error).message, "audit store down");
      return true;
    });
    assert.ok(
      logger.records.some((r) =>
        r.level === "error" && r.fields.error === "audit store down"
      ),
    );
  },
});

Deno.test({
  name:
    "`Bus.intercept()` removal and unregistering the owner take an interceptor out of the chain",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.registerCapsule(A, { publish: [], subscribe: [] });
    const calls: string[] = [];
    const off = bus.intercept("kernel", {
      pattern: "r.x",
      handler: () => {
        calls.push("kernel");
        return CONTINUE;
      },
    });
    bus.intercept(A, {
      pattern: "r.x",
      handler: () => {
        calls.push("alpha");
        return CONTINUE;
      },
    });
    await bus.publish("kernel", msg("r.x"));
    off();
    off();
    await bus.publish("kernel", msg("r.x"));
    bus.unregisterCapsule(A);
    await bus.publish("kernel", msg("r.x"));
    assert.deepEqual(calls, ["kernel", "alpha", "alpha"]);
    assert.throws(
      () => bus.intercept(A, { pattern: "r.x", handler: () => CONTINUE }),
      code("CAPSULE_NOT_FOUND"),
    );
    assert.throws(
      () =>
        bus.intercept("kernel", {
          pattern: "r.x",
          handler: () => CONTINUE,
          priority: NaN,
        }),
      RangeError,
    );
  },
});

Deno.test({
  name:
    "`Bus.publish()` an aborted signal stops the chain between interceptors with ABORTED",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    const ac = new AbortController();
    let second = 0;
    bus.intercept("kernel", {
      pattern: "c.x",
      priority: 1,
      handler: () => {
        ac.abort();
        return CONTINUE;
      },
    });
    bus.intercept("kernel", {
      pattern: "c.x",
      priority: 2,
      handler: () => {
        second++;
        return CONTINUE;
      },
    });
    await assert.rejects(
      bus.publish("kernel", msg("c.x"), { signal: ac.signal }),
      code("ABORTED"),
    );
    assert.equal(second, 0);
    await assert.rejects(
      bus.publish("kernel", msg("c.x"), { signal: ac.signal }),
      code("ABORTED"),
    );
  },
});

Deno.test({
  name:
    "`Bus.request()` an interceptor's `final` answers the request (a cache in front of a provider)",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    let providerCalls = 0;
    bus.subscribe("kernel", {
      pattern: "llm.v1.request.generate",
      handler: () => {
        providerCalls++;
        return "fresh";
      },
    });
    const cache = new Map<string, JsonValue>([["hello", "cached"]]);
    bus.intercept("kernel", {
      pattern: "llm.v1.request.generate",
      priority: 10,
      handler: (e) => {
        assert.ok(e.correlation_id !== null);
        const hit = cache.get(e.payload as string);
        return hit === undefined ? CONTINUE : { type: "final", payload: hit };
      },
    });
    assert.equal(
      await bus.request("kernel", msg("llm.v1.request.generate", "hello")),
      "cached",
    );
    assert.equal(
      await bus.request("kernel", msg("llm.v1.request.generate", "other")),
      "fresh",
    );
    assert.equal(providerCalls, 1);
  },
});

Deno.test({
  name:
    "`Bus.request()` an interceptor's `deny` rejects the request with BUS_DENIED",
  permissions: "none",
  async fn() {
    const { bus, denials } = fixture();
    bus.subscribe("kernel", { pattern: "q.x", handler: () => "answer" });
    bus.intercept("kernel", {
      pattern: "q.x",
      handler: () => ({ type: "deny", reason: "quota" }),
    });
    await assert.rejects(bus.request("kernel", msg("q.x")), code("BUS_DENIED"));
    assert.equal(denials[0]?.kind, "interceptor");
    assert.equal(bus.stats().pendingRequests, 0);
  },
});

Deno.test({
  name:
    "`Bus.request()` hands the requester's signal to interceptors; aborting ends the request with ABORTED while an interceptor waits",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    bus.subscribe("kernel", { pattern: "q.x", handler: () => "answer" });
    const seen: (AbortSignal | undefined)[] = [];
    let entered!: () => void;
    const inside = new Promise<void>((r) => entered = r);
    bus.intercept("kernel", {
      pattern: "q.x",
      handler: (_e, { signal }) => {
        seen.push(signal);
        entered();
        // Honours the signal, as a capsule call does.
        return new Promise<InterceptResult>((_resolve, reject) =>
          signal?.addEventListener("abort", () => reject(signal.reason), {
            once: true,
          })
        );
      },
    });
    const ac = new AbortController();
    const answer = bus.request("kernel", msg("q.x"), { signal: ac.signal });
    await inside;
    ac.abort(new Error("user pressed stop"));
    await assert.rejects(answer, code("ABORTED"));
    assert.equal(seen[0], ac.signal);
    assert.ok(seen[0]?.aborted);
    assert.equal(bus.stats().pendingRequests, 0);
  },
});

Deno.test({
  name:
    "`Bus.publish()` ends with ABORTED when the signal fires, even if the waiting interceptor ignores it; without a signal an interceptor gets none",
  permissions: "none",
  async fn() {
    const { bus } = fixture();
    let release!: (r: InterceptResult) => void;
    const options: { signal?: AbortSignal }[] = [];
    bus.intercept("kernel", {
      pattern: "c.y",
      handler: (_e, o) => {
        options.push(o);
        return new Promise<InterceptResult>((r) => release = r);
      },
    });
    const ac = new AbortController();
    const published = bus.publish("kernel", msg("c.y"), { signal: ac.signal });
    ac.abort();
    await assert.rejects(published, code("ABORTED"));
    release(CONTINUE);
    const plain = bus.publish("kernel", msg("c.y"));
    await Promise.resolve();
    release(CONTINUE);
    await plain;
    assert.deepEqual(options[1], {});
  },
});
