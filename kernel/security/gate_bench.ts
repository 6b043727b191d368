/**
 * Gate decision cost on each allow path — policy-allowed, token, allowance —
 * each including its audit append, against the physical lower bound measured
 * in the same run: one Ed25519 sign + one BLAKE3 + one KV atomic write.
 * Target (issue 3): gate ≤ 1.5× the lower bound.
 */
import type { PrincipalId } from "../core/ids.ts";
import { sign } from "../crypto/ed25519.ts";
import { blake3 } from "../crypto/blake3.ts";
import { keyPairFromSeed } from "../crypto/key_pair.ts";
import { canonicalBytes } from "../core/canonical_json.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Action } from "./action.ts";
import { makeGate } from "./_gate_fixture_test.ts";

const dir = await Deno.makeTempDir({ prefix: "astrid-gate-bench-" });
const lbStore = new KvStore(await openKv(`${dir}/lb.kv`));
const key = keyPairFromSeed(new Uint8Array(32).fill(3));
let n = 0;
const sample = {
  principal: "default",
  action: {
    type: "capsule_http_request",
    capsule_id: "fs",
    url: "https://api.example.com/v1",
    method: "GET",
  },
  proof: { type: "policy_allowed" },
};

Deno.bench("lower bound: sign + blake3 + kv atomic", {
  group: "gate",
  baseline: true,
}, async () => {
  const hash = blake3(canonicalBytes({ ...sample, seq: n }));
  const signature = await sign(key, hash);
  const head = await lbStore.get(["lb", "head"]);
  const ok = await lbStore.atomic().check(
    ["lb", "head"],
    head?.versionstamp ?? null,
  )
    .set(["lb", "head"], n).set(["lb", "e", n++], signature).commit();
  if (!ok.ok) throw new Error("unexpected conflict");
});

const policyPath = await makeGate({
  kvPath: `${dir}/policy.kv`,
  mode: { mode: "autonomous" },
  policy: { requireApprovalForNetwork: false },
});
const http: Action = {
  type: "capsule_http_request",
  capsule_id: "fs",
  url: "https://api.example.com/v1",
  method: "GET",
};
Deno.bench(
  "gate decide: mode/policy-allowed path (+ audit)",
  { group: "gate" },
  async () => {
    const d = await policyPath.gate.decide(http, policyPath.ctx());
    if (!d.allowed) throw new Error("expected allowed");
  },
);

const tokenPath = await makeGate({ kvPath: `${dir}/token.kv` });
await tokenPath.tokens.mint({
  principal: "default" as PrincipalId,
  resource: "capsule://fs:http_request/api.example.com",
  permissions: ["invoke"],
  ttlMs: 3_600_000,
  scope: "persistent",
});
Deno.bench("gate decide: token path (+ audit)", { group: "gate" }, async () => {
  const d = await tokenPath.gate.decide(http, tokenPath.ctx());
  if (!d.allowed || d.proof.type !== "capability") {
    throw new Error("expected token");
  }
});

const allowancePath = await makeGate({
  kvPath: `${dir}/allowance.kv`,
  answers: [{ decision: "allow_session" }],
});
await allowancePath.gate.decide(http, allowancePath.ctx());
Deno.bench(
  "gate decide: allowance path (+ audit)",
  { group: "gate" },
  async () => {
    const d = await allowancePath.gate.decide(http, allowancePath.ctx());
    if (!d.allowed || d.proof.type !== "allowance") {
      throw new Error(
        "expected allowance",
      );
    }
  },
);

globalThis.addEventListener("unload", () => {
  // silent-ok: bench teardown; the temp dir is removed best effort.
  Deno.removeSync(dir, { recursive: true });
});
