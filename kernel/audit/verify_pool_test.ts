import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { sign } from "../crypto/ed25519.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import { AuditVerifyPool, type SignatureCheck } from "./verify_pool.ts";

async function checks(n: number, seed = 1): Promise<SignatureCheck[]> {
  const pair = generateKeyPair(new SeededRandom(seed));
  const out: SignatureCheck[] = [];
  for (let i = 0; i < n; i++) {
    const digest = new Uint8Array(32).fill(i);
    out.push({
      keyId: pair.keyId,
      publicKey: pair.publicKey,
      digest,
      signature: await sign(pair, digest),
    });
  }
  return out;
}

Deno.test({
  name: "`AuditVerifyPool.verify()` marks each good and bad signature in order",
  permissions: "none",
  async fn() {
    using pool = new AuditVerifyPool({ workers: 2 });
    const good = await checks(40);
    const bad = good.map((c, i) =>
      i % 7 === 3 ? { ...c, digest: new Uint8Array(32).fill(255) } : c
    );
    const [a, b] = await Promise.all([pool.verify(good), pool.verify(bad)]);
    assert.deepEqual([...a!], good.map(() => 1));
    assert.deepEqual([...b!], bad.map((_, i) => (i % 7 === 3 ? 0 : 1)));
    assert.equal(pool.size, 2);
  },
});

Deno.test({
  name:
    "`AuditVerifyPool.verify()` keeps keys apart and rejects a signature by another key",
  permissions: "none",
  async fn() {
    using pool = new AuditVerifyPool({ workers: 1 });
    const one = await checks(3, 1);
    const two = await checks(3, 2);
    const crossed = { ...one[0]!, signature: two[0]!.signature };
    const ok = await pool.verify([...one, ...two, crossed]);
    assert.deepEqual([...ok], [1, 1, 1, 1, 1, 1, 0]);
  },
});

Deno.test({
  name: "`AuditVerifyPool` rejects work after close with INTERNAL",
  permissions: "none",
  async fn() {
    const pool = new AuditVerifyPool({ workers: 1 });
    const c = await checks(2);
    pool.close();
    pool.close();
    await assert.rejects(pool.verify(c), (e) => KernelError.is(e, "INTERNAL"));
    assert.throws(() => new AuditVerifyPool({ workers: 0 }), RangeError);
  },
});
