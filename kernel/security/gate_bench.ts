/**
 * Gate decision cost on each allow path — policy-allowed, token, allowance —
 * each including its audit append (absolute times, file-backed Deno KV).
 *
 * The ratio of issue 12 (gate decision ≤ 1.5× the strict bound: 1 BLAKE3 with
 * the audit log's hasher + 1 WebCrypto sign + 1 checked commit, no reads) is
 * measured interleaved on both store kinds by `deno task bench`
 * (bench/scenarios/gate.ts); `deno bench` is sequential, so no ratio here.
 */
import type { PrincipalId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import { makeGate } from "./_gate_fixture_test.ts";

const dir = await Deno.makeTempDir({ prefix: "astrid-gate-bench-" });
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
