import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import {
  parsePrincipalId,
  parseSessionId,
  type SessionId,
} from "../core/ids.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import type { BudgetLimits } from "./budget.ts";
import { BudgetLedger, SESSION_SPEND_NAMESPACE } from "./budget_ledger.ts";
import type { GateContext } from "./context.ts";

const S1 = parseSessionId("00000000-0000-4000-8000-000000000001");
const S2 = parseSessionId("00000000-0000-4000-8000-000000000002");

function ctx(
  over: { principal?: string; session?: SessionId; workspace?: string } = {},
): GateContext {
  return {
    principal: parsePrincipalId(over.principal ?? "alice"),
    session: over.session ?? S1,
    workspace: over.workspace ?? "/ws/project",
    callId: "call-1",
  };
}

function limits(over: Partial<BudgetLimits> = {}): BudgetLimits {
  return {
    perActionMicros: 10_000_000,
    sessionMaxMicros: 100_000_000,
    workspaceMaxMicros: null,
    warnAtPercent: 80,
    ...over,
  };
}

async function memoryStore(): Promise<KvStore> {
  return new KvStore(await openKv(":memory:"));
}

function grant(
  r: Awaited<ReturnType<BudgetLedger["reserve"]>>,
): Extract<typeof r, { ok: true }> {
  if (!r.ok) throw new Error(`expected a grant, got ${r.message}`);
  return r;
}

Deno.test({
  name: "`BudgetLedger.reserve()` records the cost in session and workspace",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock(5) },
      limits(),
    );
    const r = grant(await ledger.reserve(ctx(), 1_250_000));
    assert.equal(r.warning, undefined);
    assert.equal(r.reservation.state, "pending");
    assert.deepEqual(await ledger.snapshot(ctx()), {
      sessionSpentMicros: 1_250_000,
      workspaceSpentMicros: 1_250_000,
      limits: limits(),
    });
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` refuses a cost over the per-action limit and records nothing",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    assert.deepEqual(await ledger.reserve(ctx(), 12_000_000), {
      ok: false,
      reason: "per_action",
      requested: 12_000_000,
      available: 10_000_000,
      message:
        "budget exceeded (per-action limit): requested $12.00, available $10.00",
    });
    const snap = await ledger.snapshot(ctx());
    assert.equal(snap.sessionSpentMicros, 0);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` refuses what exceeds the session remainder with the amounts in the message",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ sessionMaxMicros: 5_000_000 }),
    );
    grant(await ledger.reserve(ctx(), 4_000_000)).reservation.commit();
    assert.deepEqual(await ledger.reserve(ctx(), 2_500_000), {
      ok: false,
      reason: "session",
      requested: 2_500_000,
      available: 1_000_000,
      message:
        "budget exceeded (session budget): requested $2.50, available $1.00",
    });
    assert.equal(
      (await ledger.snapshot(ctx())).workspaceSpentMicros,
      4_000_000,
    );
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` refuses what exceeds the workspace cap shared by two sessions",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ workspaceMaxMicros: 3_000_000 }),
    );
    grant(await ledger.reserve(ctx({ session: S1 }), 2_000_000));
    const refused = await ledger.reserve(ctx({ session: S2 }), 2_000_000);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.reason, "workspace");
    assert.equal(!refused.ok && refused.available, 1_000_000);
    assert.equal(
      !refused.ok && refused.message,
      "budget exceeded (workspace budget): requested $2.00, available $1.00",
    );
    // Another workspace has its own cap.
    grant(
      await ledger.reserve(
        ctx({ session: S2, workspace: "/other" }),
        2_000_000,
      ),
    );
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` allows exactly reaching the session cap, with a warning",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ sessionMaxMicros: 10_000_000 }),
    );
    const r = grant(await ledger.reserve(ctx(), 10_000_000));
    assert.deepEqual(r.warning, { scope: "session", percentUsed: 100 });
    assert.equal((await ledger.reserve(ctx(), 1)).ok, false);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` warns at the threshold, the session warning winning over the workspace one",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({
        sessionMaxMicros: 10_000_000,
        workspaceMaxMicros: 10_000_000,
        warnAtPercent: 50,
      }),
    );
    assert.equal(
      grant(await ledger.reserve(ctx(), 4_000_000)).warning,
      undefined,
    );
    // Session S2 is at 20 %, the shared workspace at 60 %.
    assert.deepEqual(
      grant(await ledger.reserve(ctx({ session: S2 }), 2_000_000)).warning,
      { scope: "workspace", percentUsed: 60 },
    );
    // Session S1 reaches 50 % while the workspace reaches 70 %: session wins.
    assert.deepEqual(
      grant(await ledger.reserve(ctx(), 1_000_000)).warning,
      { scope: "session", percentUsed: 50 },
    );
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` grants exactly 100 of 500 concurrent 1-unit reservations against a session cap of 100",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ perActionMicros: 1, sessionMaxMicros: 100 }),
    );
    const results = await Promise.all(
      Array.from({ length: 500 }, () => ledger.reserve(ctx(), 1)),
    );
    assert.equal(results.filter((r) => r.ok).length, 100);
    assert.ok(
      results.every((r) =>
        r.ok || (r.reason === "session" && r.available === 0)
      ),
    );
    const stored = await store.get([SESSION_SPEND_NAMESPACE, "alice", S1]);
    assert.equal((stored?.value as { spent_micros: number }).spent_micros, 100);
    assert.deepEqual(await ledger.snapshot(ctx()), {
      sessionSpentMicros: 100,
      workspaceSpentMicros: 100,
      limits: ledger.limits,
    });
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` grants exactly 100 of 500 concurrent reservations from two sessions against a workspace cap of 100",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ perActionMicros: 1, workspaceMaxMicros: 100 }),
    );
    const results = await Promise.all(
      Array.from(
        { length: 500 },
        (_, i) => ledger.reserve(ctx({ session: i % 2 ? S1 : S2 }), 1),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 100);
    const a = await ledger.snapshot(ctx({ session: S1 }));
    const b = await ledger.snapshot(ctx({ session: S2 }));
    assert.equal(a.workspaceSpentMicros, 100);
    assert.equal(a.sessionSpentMicros + b.sessionSpentMicros, 100);
  },
});

Deno.test({
  name: "`Reservation.refund()` restores capacity in both budgets",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({
        sessionMaxMicros: 10,
        perActionMicros: 10,
        workspaceMaxMicros: 10,
      }),
    );
    const r = grant(await ledger.reserve(ctx(), 10));
    assert.equal((await ledger.reserve(ctx(), 1)).ok, false);
    assert.equal(await r.reservation.refund(), true);
    assert.equal(r.reservation.state, "refunded");
    const snap = await ledger.snapshot(ctx());
    assert.equal(snap.sessionSpentMicros, 0);
    assert.equal(snap.workspaceSpentMicros, 0);
    assert.equal((await ledger.reserve(ctx(), 10)).ok, true);
  },
});

Deno.test({
  name:
    "`Reservation.refund()` subtracts once however often and however concurrently it is called",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    grant(await ledger.reserve(ctx(), 3)).reservation.commit();
    const r = grant(await ledger.reserve(ctx(), 5));
    const outcomes = await Promise.all([
      r.reservation.refund(),
      r.reservation.refund(),
      r.reservation.refund(),
    ]);
    assert.deepEqual(outcomes, [true, true, true]);
    assert.equal(await r.reservation.refund(), true);
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 3);
  },
});

Deno.test({
  name:
    "`Reservation` settles once: commit after refund and refund after commit do nothing",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    const refunded = grant(await ledger.reserve(ctx(), 7)).reservation;
    assert.equal(await refunded.refund(), true);
    assert.equal(refunded.commit(), false);
    assert.equal(refunded.state, "refunded");

    const committed = grant(await ledger.reserve(ctx(), 9)).reservation;
    assert.equal(committed.commit(), true);
    assert.equal(committed.commit(), true);
    assert.equal(await committed.refund(), false);
    assert.equal(committed.state, "committed");
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 9);
  },
});

Deno.test({
  name:
    "`Reservation.commit()` during a pending refund is refused and the refund completes",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    const r = grant(await ledger.reserve(ctx(), 4)).reservation;
    const refunding = r.refund();
    assert.equal(r.commit(), false);
    assert.equal(await refunding, true);
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 0);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` refunds automatically when the signal aborts before commit",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    const controller = new AbortController();
    const r = grant(
      await ledger.reserve(ctx(), 6, { signal: controller.signal }),
    ).reservation;
    controller.abort(new Error("client went away"));
    assert.equal(await r.refund(), true); // joins the abort's refund
    assert.equal(r.state, "refunded");
    assert.equal(r.commit(), false);
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 0);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` keeps a committed reservation when the signal aborts later",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    const controller = new AbortController();
    const r = grant(
      await ledger.reserve(ctx(), 6, { signal: controller.signal }),
    ).reservation;
    r.commit();
    controller.abort();
    assert.equal(await r.refund(), false);
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 6);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` rejects ABORTED and records nothing when the signal already fired",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    await assert.rejects(
      ledger.reserve(ctx(), 6, { signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
    assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 0);
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` throws RangeError for negative, fractional, NaN and infinite costs",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    for (const bad of [-1, 0.5, Number.NaN, Infinity, -Infinity, 2 ** 60]) {
      await assert.rejects(ledger.reserve(ctx(), bad), RangeError, String(bad));
    }
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` grants a zero cost without writing, even when the budget is spent",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({ sessionMaxMicros: 0 }),
    );
    const r = grant(await ledger.reserve(ctx(), 0));
    assert.equal(r.warning, undefined);
    assert.equal(await r.reservation.refund(), true);
    const keys = [];
    for await (const e of store.list([SESSION_SPEND_NAMESPACE])) {
      keys.push(e.key);
    }
    assert.deepEqual(keys, []);
    assert.equal((await ledger.reserve(ctx(), 1)).ok, false);
  },
});

Deno.test({
  name: "`BudgetLedger` keeps each principal's budgets apart",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits({
        sessionMaxMicros: 10,
        perActionMicros: 10,
        workspaceMaxMicros: 10,
      }),
    );
    grant(await ledger.reserve(ctx({ principal: "alice" }), 10));
    // Same session id and workspace, other principal: untouched budget.
    grant(await ledger.reserve(ctx({ principal: "bob" }), 10));
    assert.equal(
      (await ledger.snapshot(ctx({ principal: "bob" }))).workspaceSpentMicros,
      10,
    );
  },
});

Deno.test({
  name: "`BudgetLedger` records workspace spend when the workspace is uncapped",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    grant(await ledger.reserve(ctx({ session: S1 }), 9_000_000));
    grant(await ledger.reserve(ctx({ session: S2 }), 9_000_000));
    assert.equal(
      (await ledger.snapshot(ctx())).workspaceSpentMicros,
      18_000_000,
    );
  },
});

Deno.test({
  name: "`Reservation.refund()` clamps the spend at zero",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    const r = grant(await ledger.reserve(ctx(), 8)).reservation;
    // An operator reset the session spend in the meantime.
    await store.set([SESSION_SPEND_NAMESPACE, "alice", S1], {
      spent_micros: 3,
      updated_at: 0,
    });
    await r.refund();
    const snap = await ledger.snapshot(ctx());
    assert.equal(snap.sessionSpentMicros, 0);
    assert.equal(snap.workspaceSpentMicros, 0);
  },
});

Deno.test({
  name: "`BudgetLedger.reserve()` fails INTERNAL on a malformed stored spend",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const ledger = new BudgetLedger(
      { store, clock: new FakeClock() },
      limits(),
    );
    await store.set([SESSION_SPEND_NAMESPACE, "alice", S1], {
      spent_micros: -5,
    });
    await assert.rejects(
      ledger.reserve(ctx(), 1),
      (e) => KernelError.is(e, "INTERNAL"),
    );
  },
});

Deno.test({
  name: "`BudgetLedger` rejects limits that are not integer micro-dollars",
  permissions: "none",
  fn() {
    const store = {} as KvStore;
    assert.throws(
      () =>
        new BudgetLedger(
          { store, clock: new FakeClock() },
          limits({ sessionMaxMicros: -1 }),
        ),
      RangeError,
    );
    assert.throws(
      () =>
        new BudgetLedger(
          { store, clock: new FakeClock() },
          limits({ workspaceMaxMicros: 0.5 }),
        ),
      RangeError,
    );
  },
});

Deno.test({
  name: "`BudgetLedger` spend survives closing and reopening a file store",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_budget_" });
    try {
      const file = path.join(dir, "state.kv");
      const cfg = limits({ sessionMaxMicros: 10, perActionMicros: 10 });
      const first = new KvStore(await openKv(file));
      try {
        const ledger = new BudgetLedger({
          store: first,
          clock: new FakeClock(),
        }, cfg);
        grant(await ledger.reserve(ctx(), 7)).reservation.commit();
      } finally {
        await first.close();
      }
      await using second = new KvStore(await openKv(file));
      const ledger = new BudgetLedger(
        { store: second, clock: new FakeClock() },
        cfg,
      );
      assert.equal((await ledger.snapshot(ctx())).sessionSpentMicros, 7);
      const refused = await ledger.reserve(ctx(), 4);
      assert.equal(!refused.ok && refused.available, 3);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`BudgetLedger.reserve()` never overspends when another ledger on the store (another kernel) spent since the spend it remembers",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const clock = new FakeClock(5);
    const lim = limits({ sessionMaxMicros: 10_000_000 });
    const a = new BudgetLedger({ store, clock }, lim);
    const b = new BudgetLedger({ store, clock }, lim);
    grant(await a.reserve(ctx(), 6_000_000)).reservation.commit(); // `a` remembers 6
    grant(await b.reserve(ctx(), 3_000_000)).reservation.commit(); // 9 spent
    const late = await a.reserve(ctx(), 3_000_000);
    assert.equal(
      late.ok,
      false,
      "decided on the stored 9, not on the remembered 6",
    );
    assert.equal((await b.snapshot(ctx())).sessionSpentMicros, 9_000_000);
    // A refund through the other ledger is seen too.
    const r = grant(await b.reserve(ctx(), 1_000_000));
    await r.reservation.refund();
    grant(await a.reserve(ctx(), 1_000_000)).reservation.commit();
    assert.equal((await a.snapshot(ctx())).sessionSpentMicros, 10_000_000);
  },
});
