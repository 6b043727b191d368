import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import { makeGate } from "./_gate_fixture_test.ts";

const P = { read: true, write: true } as const;
const ALICE = "default" as PrincipalId;
const http: Action = {
  type: "capsule_http_request",
  capsule_id: "fs",
  url: "https://api.example.com/v1",
  method: "GET",
};

Deno.test({
  name:
    "`Gate.decide()` queues the action when no handler answers and returns APPROVAL_DEFERRED",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      f.approvals.setHandler(null);
      const d = await f.gate.decide(http, f.ctx(), {
        estimatedCostMicros: 1_000_000,
      });
      assert.ok(!d.allowed && d.code === "APPROVAL_DEFERRED" && d.resolutionId);
      const pending = await f.approvals.deferred.list(ALICE);
      assert.deepEqual(pending.map((p) => p.id), [d.resolutionId]);
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        0,
        "deferral refunds the budget",
      );
      const [entry] = await f.audit.query({
        principal: ALICE,
        decision: "deferred",
      });
      assert.equal(entry?.id, d.auditId);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` defers when the handler is unavailable or answers nothing",
  permissions: P,
  async fn() {
    const f = await makeGate({ answers: [null] });
    try {
      const silent = await f.gate.decide(http, f.ctx());
      assert.ok(!silent.allowed && silent.code === "APPROVAL_DEFERRED");
      f.handler.available = false;
      const away = await f.gate.decide(http, f.ctx());
      assert.ok(!away.allowed && away.code === "APPROVAL_DEFERRED");
      assert.equal((await f.approvals.deferred.list(ALICE)).length, 2);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.resolveDeferred()` re-runs the gate with the answer and can be used only once",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      f.approvals.setHandler(null);
      const d = await f.gate.decide(http, f.ctx());
      assert.ok(!d.allowed && d.resolutionId);
      const r = await f.gate.resolveDeferred(ALICE, d.resolutionId, {
        response: { decision: "allow_once" },
      });
      assert.ok(r.allowed && r.proof.type === "user_approval");
      await assert.rejects(
        f.gate.resolveDeferred(ALICE, d.resolutionId, {
          response: { decision: "allow_once" },
        }),
        (e) => KernelError.is(e, "DEFERRED_NOT_FOUND"),
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.resolveDeferred()` does not trust the old context: a manifest revoked meanwhile still denies",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      f.approvals.setHandler(null);
      const d = await f.gate.decide(http, f.ctx());
      assert.ok(!d.allowed && d.resolutionId);
      f.grants.delete("fs");
      const r = await f.gate.resolveDeferred(ALICE, d.resolutionId, {
        response: { decision: "allow_always" },
      });
      assert.ok(!r.allowed && r.code === "MANIFEST_DENIED");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "`Gate.resolveDeferred()` refuses another principal's deferred item",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      f.approvals.setHandler(null);
      const d = await f.gate.decide(http, f.ctx());
      assert.ok(!d.allowed && d.resolutionId);
      await assert.rejects(
        f.gate.resolveDeferred("mallory" as PrincipalId, d.resolutionId, {
          response: { decision: "allow_once" },
        }),
        (e) => KernelError.is(e, "DEFERRED_NOT_FOUND"),
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` fails closed: when the audit append fails the action is refused and the budget refunded",
  permissions: P,
  async fn() {
    const f = await makeGate({
      separateAuditStore: true,
      mode: { mode: "autonomous" },
    });
    try {
      await f.auditStore.close();
      let ran = false;
      const d = await f.gate.decide(http, f.ctx(), {
        estimatedCostMicros: 3_000_000,
      });
      assert.ok(!d.allowed && d.code === "AUDIT_FAILED" && d.auditId === null);
      await assert.rejects(
        f.gate.run(http, f.ctx(), {
          estimatedCostMicros: 3_000_000,
          effect: () => {
            ran = true;
            return Promise.resolve();
          },
        }),
        (e) => KernelError.is(e, "AUDIT_FAILED"),
      );
      assert.equal(ran, false, "the side effect never ran");
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.run()` commits the budget on success and audits decision then outcome under one call id",
  permissions: P,
  async fn() {
    const f = await makeGate({ mode: { mode: "autonomous" } });
    try {
      const out = await f.gate.run(http, f.ctx({ callId: "c-42" }), {
        estimatedCostMicros: 1_500_000,
        effect: () => Promise.resolve("body"),
      });
      assert.equal(out, "body");
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        1_500_000,
      );
      await f.gate.flush();
      const entries = await f.audit.query({ principal: ALICE });
      assert.deepEqual(entries.map((e) => [e.decision, e.call_id]), [[
        "allowed",
        "c-42",
      ], ["info", "c-42"]]);
      assert.deepEqual(entries[1]?.outcome, { status: "success" });
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.run()` refunds the budget when the effect throws and audits the failure",
  permissions: P,
  async fn() {
    const f = await makeGate({ mode: { mode: "autonomous" } });
    try {
      await assert.rejects(
        f.gate.run(http, f.ctx(), {
          estimatedCostMicros: 1_500_000,
          effect: () =>
            Promise.reject(new KernelError("HOST_IO", "connection reset")),
        }),
        (e) => KernelError.is(e, "HOST_IO"),
      );
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
      await f.gate.flush();
      const [, outcome] = await f.audit.query({ principal: ALICE });
      assert.deepEqual(outcome?.outcome, {
        status: "failure",
        error: "HOST_IO: connection reset",
      });
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` cancelled while the human is asked rejects ABORTED, refunds, and queues nothing",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      const ac = new AbortController();
      f.approvals.setHandler({
        isAvailable: () => true,
        request: (_req, { signal }) =>
          new Promise((_, reject) => {
            signal?.addEventListener("abort", () => reject(signal.reason));
            queueMicrotask(() => ac.abort(new Error("user closed the tab")));
          }),
      });
      await assert.rejects(
        f.gate.decide(http, f.ctx(), {
          estimatedCostMicros: 2_000_000,
          signal: ac.signal,
        }),
        (e) => KernelError.is(e, "ABORTED"),
      );
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
      assert.equal((await f.approvals.deferred.list(ALICE)).length, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` under a budget race of 300 concurrent calls never exceeds the session limit",
  permissions: P,
  async fn() {
    const f = await makeGate({
      mode: { mode: "autonomous" },
      limits: { sessionMaxMicros: 50_000 },
    });
    try {
      const results = await Promise.all(
        Array.from(
          { length: 300 },
          (_, i) =>
            f.gate.decide(http, f.ctx({ callId: `c${i}` }), {
              estimatedCostMicros: 1_000,
            }),
        ),
      );
      assert.equal(results.filter((r) => r.allowed).length, 50);
      assert.equal(
        results.filter((r) => !r.allowed && r.code === "BUDGET_EXCEEDED")
          .length,
        250,
      );
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        50_000,
      );
      const v = await f.audit.verify(ALICE);
      assert.equal(v.valid, true);
      assert.equal(
        v.entriesVerified,
        300,
        "every decision, allowed or denied, is one chain entry",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` writes an entry for every decision and the chain verifies afterwards",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_once" }, { decision: "deny" }],
    });
    try {
      await f.gate.decide(http, f.ctx());
      await f.gate.decide(http, f.ctx());
      await f.gate.decide({
        ...http,
        url: "http://169.254.169.254/latest/meta-data",
      }, f.ctx());
      await f.gate.decide(
        { type: "capsule_net_bind", capsule_id: "fs" },
        f.ctx(),
      );
      await f.gate.flush();
      const entries = await f.audit.query({ principal: ALICE });
      assert.deepEqual(entries.map((e) => e.decision), [
        "allowed",
        "denied",
        "denied",
        "denied",
      ]);
      assert.equal((await f.audit.verify(ALICE)).valid, true);
    } finally {
      await f.close();
    }
  },
});
