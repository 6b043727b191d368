/**
 * Connects bus denials to the signed audit log.
 *
 * @module
 */
import type { AuditLog } from "../audit/audit_log.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { BusDenial, DenialSink } from "./envelope.ts";
import { KERNEL_SOURCE } from "./envelope.ts";

/**
 * Makes a denial sink that appends one `denied` entry per bus denial to the
 * principal's audit chain (the default principal when the call carried
 * none). The action is `{type: "bus_publish" | "bus_subscribe", topic}`; the
 * proof is `{type: "bus_acl", reason}` or `{type: "interceptor", capsule,
 * reason}`; the entry's `call_id` is the message id.
 *
 * @param log The audit log.
 * @returns A {@linkcode DenialSink} for `new Bus({onDenied})`.
 * @throws {KernelError} From the returned sink: `AUDIT_FAILED` when the
 * entry could not be written (the bus then attaches it as the cause of the
 * denial error).
 *
 * @example Audit a denied publish
 * ```ts
 * import assert from "node:assert/strict";
 * import { auditDenials, Bus } from "./mod.ts";
 * import { AuditLog } from "../audit/mod.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { generateKeyPair } from "../crypto/key_pair.ts";
 * import { FakeClock, MemoryLogger, SeededRandom } from "../testing/mod.ts";
 * import type { CapsuleId, PrincipalId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const clock = new FakeClock(0);
 * const random = new SeededRandom(1);
 * const log = new AuditLog({ store, clock, random, keyPair: generateKeyPair(random) });
 * const bus = new Bus({ clock, random, logger: new MemoryLogger(), onDenied: auditDenials(log) });
 * bus.registerCapsule("spy" as CapsuleId, { publish: [], subscribe: [] });
 * const principal = "alice" as PrincipalId;
 * await assert.rejects(
 *   bus.publish("spy" as CapsuleId, { topic: "llm.v1.request", payload: {}, principal, session: null }),
 *   { code: "BUS_ACL_DENIED" },
 * );
 * const entries = await log.query({ principal });
 * assert.equal(entries[0]?.decision, "denied");
 * ```
 */
export function auditDenials(log: AuditLog): DenialSink {
  return async (denial: BusDenial): Promise<void> => {
    await log.append({
      principal: denial.principal ?? DEFAULT_PRINCIPAL,
      session: denial.session,
      capsule: denial.capsule === KERNEL_SOURCE
        ? null
        : denial.capsule as CapsuleId,
      call_id: denial.message_id,
      action: {
        type: denial.kind === "subscribe_acl" ? "bus_subscribe" : "bus_publish",
        topic: denial.topic,
      },
      decision: "denied",
      proof: denial.kind === "interceptor"
        ? {
          type: "interceptor",
          capsule: denial.interceptor,
          reason: denial.reason,
        }
        : { type: "bus_acl", reason: denial.reason },
      outcome: null,
    });
  };
}
