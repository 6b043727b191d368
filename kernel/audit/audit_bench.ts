/**
 * Micro-benchmarks of `kernel/audit/` (absolute times, for profiling):
 * `deno bench --allow-read --allow-write --allow-env kernel/audit/`.
 *
 * The ratios of issue 12 (verify rate vs the fastest raw verifier, append vs
 * the strict bound) are measured interleaved, on both store kinds, by
 * `deno task bench` (bench/scenarios/audit_verify.ts and gate.ts); `deno
 * bench` runs one bench after the other, so it prints no ratio here.
 *
 * "audit verify": a chain of N entries read from a file-backed Deno KV store
 * (the raw verifiers it is compared with live in
 * bench/scenarios/audit_verify.ts, measured interleaved).
 *
 * @module
 */
import * as path from "node:path";
import type { PrincipalId } from "../core/ids.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock, SeededRandom } from "../testing/mod.ts";
import type { AuditRecord } from "./audit_entry.ts";
import { AuditLog } from "./audit_log.ts";
import { AuditVerifyPool } from "./verify_pool.ts";

const N = 2_000;
const dir = await Deno.makeTempDir({ prefix: "astrid_audit_bench_" });
const store = new KvStore(await openKv(path.join(dir, "audit.kv")));
const random = new SeededRandom(7);
const keyPair = generateKeyPair(random);
const pool = new AuditVerifyPool();
const log = new AuditLog({
  store,
  clock: new FakeClock(1_700_000_000_000),
  random,
  keyPair,
  verifyPool: pool,
});

globalThis.addEventListener("unload", () => {
  pool.close();
  store.close().finally(() => Deno.removeSync(dir, { recursive: true }));
});

function record(principal: PrincipalId, i: number): AuditRecord {
  return {
    principal,
    session: "6f1c9a3e-0000-4000-8000-000000000001" as AuditRecord["session"],
    capsule: "fs" as AuditRecord["capsule"],
    call_id: `call-${i}`,
    action: { type: "file_write", path: `/ws/src/module_${i}.ts` },
    decision: "allowed",
    proof: {
      type: "capability",
      token_id: "2b7e1516-28ae-4d2a-8f3c-1234567890ab",
    },
    outcome: null,
  };
}

// The chain to verify: N entries, written in concurrent groups.
const chain = "bench-verify" as PrincipalId;
for (let i = 0; i < N; i += 100) {
  await Promise.all(
    Array.from({ length: 100 }, (_, j) => log.append(record(chain, i + j))),
  );
}
const check = await log.verify(chain, { pool: "off" });
if (!check.valid || check.entriesVerified !== N) throw new Error("bad chain");

Deno.bench({
  name: `audit verify ${N} entries (${pool.size} workers)`,
  group: "audit verify",
  async fn() {
    const r = await log.verify(chain);
    if (!r.valid) throw new Error("chain broke");
  },
});

Deno.bench({
  name: `audit verify ${N} entries (this thread only)`,
  group: "audit verify",
  async fn() {
    const r = await log.verify(chain, { pool: "off" });
    if (!r.valid) throw new Error("chain broke");
  },
});

// Append: one entry at a time, and 100 concurrent (group commit).
const appendTo = "bench-append" as PrincipalId;
let n = 0;

Deno.bench({
  name: "audit append",
  group: "audit append",
  async fn() {
    await log.append(record(appendTo, n++));
  },
});

Deno.bench({
  name: "audit append ×100 concurrent (one chain)",
  group: "audit append",
  async fn() {
    await Promise.all(
      Array.from({ length: 100 }, () => log.append(record(appendTo, n++))),
    );
  },
});
