/**
 * Sequential gated calls through `Gate.run()` — decision, effect, outcome —
 * on the file-backed and the in-memory store, against the strict lower bound
 * of one durable audit write per call measured in the same run (one BLAKE3 +
 * one Ed25519 sign + one checked KV commit on the same kind of store).
 *
 * Before group commit every call paid two signatures and two commits (its
 * decision, then its outcome on the same chain queue); with it the outcome
 * of call N shares the commit and the one signature of call N+1's decision.
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import { blake3 } from "../crypto/blake3.ts";
import { sign } from "../crypto/ed25519.ts";
import { keyPairFromSeed } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Action } from "./action.ts";
import { makeGate } from "./_gate_fixture_test.ts";

const dir = await Deno.makeTempDir({ prefix: "astrid-gate-run-bench-" });
const key = keyPairFromSeed(new Uint8Array(32).fill(3));
const http: Action = {
  type: "capsule_http_request",
  capsule_id: "fs",
  url: "https://api.example.com/v1",
  method: "GET",
};

for (const kind of ["file", "memory"] as const) {
  const group = `gate run (${kind} store)`;
  const lb = new KvStore(
    await openKv(kind === "file" ? `${dir}/lb.kv` : ":memory:"),
  );
  let n = 0;
  let stamp: string | null = null;
  Deno.bench(`lower bound: blake3 + sign + checked commit (${kind})`, {
    group,
    baseline: true,
  }, async () => {
    const hash = blake3(canonicalBytes({ action: http, seq: n }));
    const signature = await sign(key, hash);
    const r = await lb.atomic().check(["lb", "head"], stamp)
      .set(["lb", "head"], n).set(["lb", "e", n++], signature).commit();
    if (!r.ok) throw new Error("unexpected conflict");
    stamp = r.versionstamp;
  });
  const f = await makeGate({
    ...(kind === "file" ? { kvPath: `${dir}/run.kv` } : {}),
    mode: { mode: "autonomous" },
    policy: { requireApprovalForNetwork: false },
  });
  Deno.bench(
    `gate run: decision + effect + outcome (${kind})`,
    { group },
    async () => {
      await f.gate.run(http, f.ctx(), { effect: () => Promise.resolve(1) });
    },
  );
}

globalThis.addEventListener("unload", () => {
  // silent-ok: bench teardown; the temp dir is removed best effort.
  Deno.removeSync(dir, { recursive: true });
});
