/**
 * The strict lower bound of one audited decision, and one durable commit:
 * what `deno task bench` divides by.
 *
 * - {@linkcode strictBound}: one BLAKE3 of an entry's canonical body with the
 *   SAME hasher the audit log uses (`createBlake3Hasher`, WebAssembly), one
 *   Ed25519 signature with the SAME signer (`sign()`: `node:crypto`'s
 *   synchronous signer, faster than WebCrypto's thread-pool hop, so the
 *   bound is the stricter one), one checked store commit of one entry and
 *   the head. No reads: the head's versionstamp is the one the last commit
 *   returned, as a chain that owns its head knows it.
 * - {@linkcode oneCommit}: the commit alone (a durable write of one small
 *   entry + head), the cost a file store adds to any durable call.
 *
 * @module
 */
import { canonicalBytes } from "../kernel/core/canonical_json.ts";
import { createBlake3Hasher } from "../kernel/crypto/blake3.ts";
import { sign } from "../kernel/crypto/ed25519.ts";
import { keyPairFromSeed } from "../kernel/crypto/key_pair.ts";
import type { Store, Versionstamp } from "../kernel/store/store.ts";

/** A realistic entry body (the shape of a policy-allowed http decision). */
function body(seq: number): Uint8Array {
  return canonicalBytes({
    id: "6f1c9a3e-0000-4000-8000-000000000001",
    seq,
    timestamp: 1_800_000_000_000 + seq,
    principal: "default",
    session: "00000000-0000-4000-8000-000000000001",
    capsule: "fs",
    call_id: `bench-${seq}`,
    action: {
      type: "capsule_http_request",
      capsule_id: "fs",
      url: "https://api.example.com/v1",
      method: "GET",
    },
    decision: "allowed",
    proof: { type: "policy_allowed" },
    outcome: null,
    prev_hash: "0".repeat(64),
    key_id: "0".repeat(16),
  });
}

/**
 * One checked commit of one entry + head on `store`, under namespace `ns`.
 *
 * @param store Where to write (its own namespace; nothing else uses it).
 * @param ns The namespace.
 * @returns An op writing entry `n` and the head, checked against the last
 *   versionstamp it wrote.
 */
export function oneCommit(
  store: Store,
  ns: string,
): (value?: Uint8Array) => Promise<void> {
  let n = 0;
  let head: Versionstamp | null = null;
  const filler = new Uint8Array(400);
  return async (value = filler) => {
    const r = await store.atomic()
      .check([ns, "head"], head)
      .set([ns, "e", n % 10_000], value)
      .set([ns, "head"], n++)
      .commit();
    if (!r.ok) throw new Error("uncontended checked commit failed");
    head = r.versionstamp;
  };
}

/**
 * The strict bound: BLAKE3 (audit log's hasher) + Ed25519 sign (its signer) + one
 * checked commit of one entry, no reads.
 *
 * @param store Where to commit.
 * @returns The op.
 */
export async function strictBound(store: Store): Promise<() => Promise<void>> {
  const hasher = await createBlake3Hasher();
  const key = keyPairFromSeed(new Uint8Array(32).fill(3));
  const commit = oneCommit(store, "bench:bound");
  let seq = 0;
  return async () => {
    const bytes = body(seq++);
    const digest = hasher.hash(bytes);
    const signature = await sign(key, digest);
    const value = new Uint8Array(bytes.length + 96);
    value.set(bytes);
    value.set(digest, bytes.length);
    value.set(signature, bytes.length + 32);
    await commit(value);
  };
}
