import assert from "node:assert/strict";
import { AuditLog } from "../audit/audit_log.ts";
import { A, CTX, fixture, msg } from "../bus/_fixture_test.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { BudgetLedger } from "../security/budget_ledger.ts";
import { KvStore } from "../store/kv_store.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { ModelMeter } from "./model_meter.ts";

const HISTORY = "history-1";

/** A meter on a real bus, ledger and audit log (the audit on its own store). */
async function setup() {
  const { bus, clock, logger } = fixture();
  const store = new KvStore(await openKv(":memory:"));
  const auditStore = new KvStore(await openKv(":memory:"));
  const random = new SeededRandom(7);
  const audit = new AuditLog({
    store: auditStore,
    clock,
    random,
    keyPair: generateKeyPair(random),
  });
  const budget = new BudgetLedger({ store, clock }, {
    perActionMicros: 10_000_000,
    sessionMaxMicros: 100_000_000,
    workspaceMaxMicros: null,
    warnAtPercent: 80,
  });
  const meter = new ModelMeter({
    bus,
    budget,
    audit,
    logger,
    prices: { inputUsdPerMtok: 1, outputUsdPerMtok: 2 },
    ctx: { principal: CTX.principal, session: CTX.session!, workspace: "/ws" },
  });
  meter.start();
  bus.registerCapsule(A, { publish: ["llm.v1.stream.*"], subscribe: [] });
  const stopped: Error[] = [];
  meter.track(HISTORY, {
    agent: "main",
    limitMicros: null,
    onExceeded: (e) => void stopped.push(e),
  });
  /** A provider reports the usage of one model call. */
  const report = async () => {
    await bus.publish(
      A,
      msg("llm.v1.stream.replay", {
        request_id: "r1",
        session_id: HISTORY,
        event: { type: "usage", usage: { input_tokens: 10, output_tokens: 5 } },
      }),
    );
    await bus.whenIdle();
  };
  return {
    audit,
    auditStore,
    stopped,
    report,
    [Symbol.asyncDispose]: async () => {
      meter.close();
      bus.close();
      await audit.flush();
      await store.close();
      await auditStore.close().catch(() => {});
    },
  };
}

Deno.test({
  name:
    "`ModelMeter` records each charge in the audit chain (with the chain's next commit, at the latest on a flush)",
  permissions: "none",
  async fn() {
    await using f = await setup();
    await f.report();
    await f.audit.flush();
    const entries = await f.audit.query({ principal: CTX.principal });
    const usage = entries.map((e) => e.action as Record<string, unknown>);
    assert.deepEqual(
      usage.map((a) => [a.type, a.cost_micros]),
      [["model_usage", 20]],
    );
    assert.deepEqual(f.stopped, []);
  },
});

Deno.test({
  name:
    "`ModelMeter` stops the tracked session when a charge cannot be recorded in the audit chain (fail closed)",
  permissions: "none",
  async fn() {
    await using f = await setup();
    await f.auditStore.close(); // every audit commit fails from now on
    await f.report();
    await f.audit.flush();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(f.stopped.length, 1);
    assert.match(f.stopped[0]!.message, /could not be recorded/);
  },
});
