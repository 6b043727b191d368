import assert from "node:assert/strict";
import type { PrincipalId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import { headKey } from "../audit/_keys.ts";
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
    "`Gate.run()` commits a call's outcome with the next call's decision: one commit and one signature per sequential call",
  permissions: P,
  async fn() {
    const f = await makeGate({ mode: { mode: "autonomous" } });
    try {
      const commits: string[] = [];
      for (let i = 0; i < 3; i++) {
        await f.gate.run(http, f.ctx({ callId: `c-${i}` }), {
          effect: async () => {
            // The decision is durable before the effect: it is in the store.
            const head = await f.auditStore.get(["audit_head", ALICE]);
            commits.push(head!.versionstamp);
            const seq = (head!.value as { seq: number }).seq;
            const d = await f.audit.get(ALICE, seq);
            assert.deepEqual([d?.call_id, d?.decision], [`c-${i}`, "allowed"]);
          },
        });
      }
      assert.equal(new Set(commits).size, 3, "one commit per call");
      await f.gate.flush();
      const entries = await f.audit.query({ principal: ALICE });
      assert.deepEqual(
        entries.map((e) => [e.call_id, e.decision, e.signature !== null]),
        [
          ["c-0", "allowed", true],
          ["c-0", "info", false], // outcome 0 rides with decision 1 …
          ["c-1", "allowed", true], // … under its signature
          ["c-1", "info", false],
          ["c-2", "allowed", true],
          ["c-2", "info", true], // the last outcome went alone on flush()
        ],
      );
      assert.deepEqual(await f.audit.verify(ALICE), {
        valid: true,
        entriesVerified: 6,
      });
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.flush()` (what the kernel awaits before closing its store) commits the audit log's lazy entries even with no outcome pending",
  permissions: P,
  async fn() {
    const f = await makeGate({ mode: { mode: "autonomous" } });
    try {
      const lazy = f.audit.append({
        principal: ALICE,
        session: null,
        capsule: "fs" as never,
        call_id: "bus-1",
        action: { type: "bus_publish", topic: "agent.v1.x" } as never,
        decision: "allowed",
        proof: { type: "bus_acl" },
        outcome: null,
      }, { lazy: true });
      await f.gate.flush();
      assert.notEqual(
        await f.auditStore.get(headKey(ALICE)),
        null,
        "committed before the store closes",
      );
      assert.equal((await lazy).seq, 0);
    } finally {
      await f.close();
    }
  },
});
