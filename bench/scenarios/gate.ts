/**
 * Gate decision with its audit append, and the audit append alone, against
 * the strict bound (bench/_bound.ts), on both store kinds.
 *
 * Subject: `Gate.decide()` on the mode/policy-allowed path of a real gate
 * (every layer on one Deno KV store, as the kernel wires it), budget
 * committed; `AuditLog.append()` of one entry. Baseline: 1 BLAKE3 with the
 * audit log's hasher + 1 WebCrypto Ed25519 sign + 1 checked commit of one
 * entry on a store of the same kind. Target (issue 12): ≤ 1.5×.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import { strictBound } from "../_bound.ts";
import type { Action } from "../../kernel/security/action.ts";
import type { AuditRecord } from "../../kernel/audit/audit_entry.ts";
import type { PrincipalId } from "../../kernel/core/ids.ts";
import { makeGate } from "../../kernel/security/_gate_fixture_test.ts";
import { openStore, type ScenarioOptions, STORE_KINDS } from "./_scenario.ts";

const http: Action = {
  type: "capsule_http_request",
  capsule_id: "fs",
  url: "https://api.example.com/v1",
  method: "GET",
};

/** @see the module doc. */
export default async function gate(o: ScenarioOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of STORE_KINDS) {
    const f = await makeGate({
      ...(kind === "file" ? { kvPath: `${o.dir}/gate.kv` } : {}),
      mode: { mode: "autonomous" },
      policy: { requireApprovalForNetwork: false },
    });
    const boundStore = await openStore(kind, o.dir, "bound");
    try {
      const bound = await strictBound(boundStore);
      let n = 0;
      const record = (): AuditRecord => ({
        principal: "bench-append" as PrincipalId,
        session: f.ctx().session,
        capsule: "fs" as AuditRecord["capsule"],
        call_id: `call-${n++}`,
        action: http,
        decision: "allowed",
        proof: { type: "policy_allowed" },
        outcome: null,
      });
      const t = await interleave(
        {
          bound,
          decide: async () => {
            const d = await f.gate.decide(http, f.ctx());
            if (!d.allowed) throw new Error(`expected allowed: ${d.reason}`);
            d.budget.commit();
          },
          append: () => f.audit.append(record()),
        },
        o.quick
          ? { rounds: 3, iterations: 20, warmup: 10 }
          : { rounds: 15, iterations: 100, warmup: 50 },
      );
      rows.push(
        ratioRow(
          "gate decide (+ audit append) / strict bound",
          t.decide!,
          t.bound!,
          { store: kind, target: { op: "<=", value: 1.5 } },
        ),
        ratioRow("audit append / strict bound", t.append!, t.bound!, {
          store: kind,
        }),
      );
    } finally {
      await f.gate.flush();
      await f.close();
      await boundStore.close();
    }
  }
  return rows;
}
