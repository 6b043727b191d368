/**
 * Audit verify rate against the raw verify rate of the fastest raw verifier
 * on this machine, on both store kinds.
 *
 * Subject: `AuditLog.verify()` of a chain of N entries (read from the store,
 * shape, BLAKE3, links, keys, signatures) with the default worker pool.
 * Baselines, each round: N Ed25519 verifications of pre-made signatures over
 * 32-byte digests with (a) WebCrypto, one imported key, 256 in flight, and
 * (b) `node:crypto` on this thread; the faster of the two in that round is
 * the round's baseline. The row is a RATE ratio (baseline time / verify
 * time). Target (issue 12): ≥ 0.8×.
 *
 * @module
 */
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Row } from "../_interleave.ts";
import { fmtMs, interleave, summarize } from "../_interleave.ts";
import type { PrincipalId } from "../../kernel/core/ids.ts";
import { createBlake3Hasher } from "../../kernel/crypto/blake3.ts";
import { sign } from "../../kernel/crypto/ed25519.ts";
import { generateKeyPair } from "../../kernel/crypto/key_pair.ts";
import { FakeClock, SeededRandom } from "../../kernel/testing/mod.ts";
import type { AuditRecord } from "../../kernel/audit/audit_entry.ts";
import { AuditLog } from "../../kernel/audit/audit_log.ts";
import { AuditVerifyPool } from "../../kernel/audit/verify_pool.ts";
import { openStore, type ScenarioOptions, STORE_KINDS } from "./_scenario.ts";

const SPKI_PREFIX = [
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
];

function record(principal: PrincipalId, i: number): AuditRecord {
  return {
    principal,
    session: "6f1c9a3e-0000-4000-8000-000000000001" as AuditRecord["session"],
    capsule: "fs" as AuditRecord["capsule"],
    call_id: `call-${i}`,
    action: { type: "file_write", path: `/ws/src/module_${i}.ts` },
    decision: "allowed",
    proof: { type: "capability", token_id: "2b7e1516-28ae-4d2a-8f3c-12345678" },
    outcome: null,
  };
}

/** @see the module doc. */
export default async function auditVerify(o: ScenarioOptions): Promise<Row[]> {
  const n = o.quick ? 300 : 2_000;
  const random = new SeededRandom(7n);
  const keyPair = generateKeyPair(random);
  const hasher = await createBlake3Hasher();
  const digests = Array.from({ length: n }, (_, i) => hasher.hash(`e${i}`));
  const signatures = await Promise.all(digests.map((d) => sign(keyPair, d)));
  const nodeKey = createPublicKey({
    key: Buffer.from([...SPKI_PREFIX, ...keyPair.publicKey]),
    format: "der",
    type: "spki",
  });
  const verifyKey = await crypto.subtle.importKey(
    "raw",
    keyPair.publicKey as Uint8Array<ArrayBuffer>,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const webCrypto = async () => {
    const inFlight: Promise<boolean>[] = [];
    let next = 0;
    for (let j = 0; j < n; j++) {
      inFlight.push(crypto.subtle.verify(
        "Ed25519",
        verifyKey,
        signatures[j] as Uint8Array<ArrayBuffer>,
        digests[j] as Uint8Array<ArrayBuffer>,
      ));
      if (inFlight.length - next >= 256 && !(await inFlight[next++])) {
        throw new Error("bad signature");
      }
    }
    if (!(await Promise.all(inFlight.slice(next))).every(Boolean)) {
      throw new Error("bad signature");
    }
  };
  const node = () => {
    for (let j = 0; j < n; j++) {
      if (!nodeVerify(null, digests[j]!, nodeKey, signatures[j]!)) {
        throw new Error("bad signature");
      }
    }
  };
  const rows: Row[] = [];
  for (const kind of STORE_KINDS) {
    const store = await openStore(kind, o.dir, "verify");
    const pool = new AuditVerifyPool();
    try {
      const log = new AuditLog({
        store,
        clock: new FakeClock(1_700_000_000_000),
        random,
        keyPair,
        verifyPool: pool,
      });
      const chain = "bench-verify" as PrincipalId;
      for (let i = 0; i < n; i += 100) {
        await Promise.all(
          Array.from(
            { length: Math.min(100, n - i) },
            (_, j) => log.append(record(chain, i + j)),
          ),
        );
      }
      const t = await interleave(
        {
          webCrypto,
          node,
          verify: async () => {
            const r = await log.verify(chain);
            if (!r.valid || r.entriesVerified !== n) {
              throw new Error("bad chain");
            }
          },
        },
        o.quick ? { rounds: 3, iterations: 1, warmup: 1 } : {
          rounds: 11,
          iterations: 1,
          warmup: 2,
        },
      );
      const base = t.webCrypto!.map((w, i) => Math.min(w, t.node![i]!));
      const rate = base.map((b, i) => b / t.verify![i]!);
      const fastest = summarize(t.webCrypto!).median <=
          summarize(t.node!).median
        ? "WebCrypto ×256 in flight"
        : "node:crypto 1 thread";
      rows.push({
        name: `audit verify rate / fastest raw verify rate (${n} entries, ` +
          `${pool.size} workers)`,
        unit: "×",
        store: kind,
        summary: summarize(rate),
        target: { op: ">=", value: 0.8 },
        detail: `${fmtMs(summarize(t.verify!).median)} vs ${
          fmtMs(summarize(base).median)
        } (${fastest})`,
      });
    } finally {
      pool.close();
      await store.close();
    }
  }
  return rows;
}
