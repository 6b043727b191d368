/**
 * Gate decision with its audit append, and the audit append alone, against
 * the strict bound (bench/_bound.ts), on both store kinds.
 *
 * Subject: `Gate.decide()` on the mode/policy-allowed path of the gate of a
 * real kernel (`startKernel`: every layer on its one Deno KV store,
 * `autonomous` mode, a capsule granted the host), budget committed;
 * `AuditLog.append()` of one entry on the kernel's audit log. Baseline: 1 BLAKE3 with the
 * audit log's hasher + 1 Ed25519 sign with its signer + 1 checked commit of one
 * entry on a store of the same kind. Target (issue 12): ≤ 1.5×.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import { strictBound } from "../_bound.ts";
import type { Action } from "../../kernel/security/action.ts";
import type { AuditRecord } from "../../kernel/audit/audit_entry.ts";
import type { CapsuleId, PrincipalId } from "../../kernel/core/ids.ts";
import { NO_GRANTS } from "../../kernel/security/manifest_grant.ts";
import type { GateContext } from "../../kernel/security/context.ts";
import { startTestKernel } from "../../tests/test_kernel_test.ts";
import { openStore, type ScenarioOptions, STORE_KINDS } from "./_scenario.ts";

const http: Action = {
  type: "capsule_http_request",
  capsule_id: "bench",
  url: "https://api.example.com/v1",
  method: "GET",
};

/** @see the module doc. */
export default async function gate(o: ScenarioOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of STORE_KINDS) {
    const { root, workspace, kernel } = await startTestKernel({
      prefix: "astrid-bench-gate-",
      fileStore: kind === "file",
    });
    const capsule = "bench" as CapsuleId;
    kernel.security.setGrants(capsule, {
      ...NO_GRANTS,
      net: ["api.example.com"],
    });
    const { gate, audit } = kernel.security;
    let call = 0;
    const ctx = (): GateContext => ({
      principal: kernel.principal,
      session: "00000000-0000-4000-8000-000000000001" as GateContext["session"],
      capsule,
      workspace,
      callId: `bench-${call++}`,
    });
    const boundStore = await openStore(kind, o.dir, "bound");
    try {
      const bound = await strictBound(boundStore);
      let n = 0;
      const record = (): AuditRecord => ({
        principal: "bench-append" as PrincipalId,
        session: ctx().session,
        capsule,
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
            const d = await gate.decide(http, ctx());
            if (!d.allowed) throw new Error(`expected allowed: ${d.reason}`);
            d.budget.commit();
          },
          append: () => audit.append(record()),
        },
        o.quick
          ? { rounds: 3, iterations: 20, warmup: 10 }
          // Warm: V8 compiles the gate over the first ~1,000 calls.
          : { rounds: 15, iterations: 100, warmup: 1_000 },
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
      await gate.flush();
      await kernel.close();
      await boundStore.close();
      await Deno.remove(root, { recursive: true });
    }
  }
  return rows;
}
