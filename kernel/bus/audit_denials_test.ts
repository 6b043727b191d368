import assert from "node:assert/strict";
import { AuditLog } from "../audit/audit_log.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import { auditDenials } from "./audit_denials.ts";
import { Bus } from "./bus.ts";
import { A, B, CTX, msg, T0 } from "./_fixture_test.ts";

async function setup(): Promise<{ bus: Bus; log: AuditLog; store: KvStore }> {
  const store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(T0);
  const random = new SeededRandom(3);
  const log = new AuditLog({
    store,
    clock,
    random,
    keyPair: generateKeyPair(random),
  });
  const bus = new Bus({
    clock,
    random,
    logger: new MemoryLogger(),
    onDenied: auditDenials(log),
  });
  return { bus, log, store };
}

Deno.test({
  name:
    "`auditDenials()` writes a signed `denied` entry for a publish outside the ACL before the error",
  permissions: { read: true, write: true },
  async fn() {
    const { bus, log, store } = await setup();
    await using _ = store;
    bus.registerCapsule(A, { publish: ["agent.v1.*"], subscribe: [] });
    await assert.rejects(bus.publish(A, msg("llm.v1.request.generate")), {
      code: "BUS_ACL_DENIED",
    });
    const [entry, ...rest] = await log.query({ principal: CTX.principal });
    assert.equal(rest.length, 0);
    assert.deepEqual(
      {
        session: entry!.session,
        capsule: entry!.capsule,
        action: entry!.action,
        decision: entry!.decision,
        proof: entry!.proof,
      },
      {
        session: CTX.session,
        capsule: A,
        action: { type: "bus_publish", topic: "llm.v1.request.generate" },
        decision: "denied",
        proof: {
          type: "bus_acl",
          reason: "no ipc_publish pattern matches it (granted: agent.v1.*)",
        },
      },
    );
    assert.equal((await log.verify(CTX.principal)).valid, true);
  },
});

Deno.test({
  name:
    "`auditDenials()` records an interceptor's deny with the interceptor and the message id",
  permissions: { read: true, write: true },
  async fn() {
    const { bus, log, store } = await setup();
    await using _ = store;
    bus.registerCapsule(A, { publish: ["tool.v1.**"], subscribe: [] });
    bus.registerCapsule(B, { publish: [], subscribe: [] });
    let id = "";
    bus.intercept(B, {
      pattern: "tool.v1.request.execute",
      handler: (e) => {
        id = e.id;
        return { type: "deny", reason: "blocked by guard" };
      },
    });
    await assert.rejects(bus.publish(A, msg("tool.v1.request.execute")), {
      code: "BUS_DENIED",
    });
    const [entry] = await log.query({
      principal: CTX.principal,
      decision: "denied",
    });
    assert.equal(entry!.call_id, id);
    assert.deepEqual(entry!.proof, {
      type: "interceptor",
      capsule: B,
      reason: "blocked by guard",
    });
  },
});

Deno.test({
  name:
    "`auditDenials()` records a denied subscription, under the default principal when no context was given",
  permissions: { read: true, write: true },
  async fn() {
    const { bus, log, store } = await setup();
    await using _ = store;
    bus.registerCapsule(A, { publish: [], subscribe: ["agent.v1.response"] });
    assert.throws(
      () => bus.subscribe(A, { pattern: "agent.v1.*", handler: () => {} }),
      { code: "BUS_ACL_DENIED" },
    );
    await bus.whenIdle();
    const [entry] = await log.query({ principal: DEFAULT_PRINCIPAL });
    assert.deepEqual(entry!.action, {
      type: "bus_subscribe",
      topic: "agent.v1.*",
    });
    assert.equal(entry!.session, null);
  },
});
