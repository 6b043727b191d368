/**
 * Issue 17 part 1, the measurement: the Store on PostgreSQL against the
 * embedded Deno KV file store, in interleaved rounds.
 *
 * Rows: one checked commit (one ~400 B entry + the chain head, compare-and-set
 * on the head) on each store; and a gate decision with its audit append
 * (`Gate.decide()` on the allowed path of a real kernel, budget committed) on
 * a kernel whose store is each of the two. PostgreSQL is a private cluster on
 * a unix socket started by the test fixture with its durable defaults
 * (fsync and synchronous commit on, like the Deno KV file store's fsync per
 * commit). Without PostgreSQL the rows are replaced by one note row.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, msRow, ratioRow, summarize } from "../_interleave.ts";
import { oneCommit } from "../_bound.ts";
import { openStore, type ScenarioOptions } from "./_scenario.ts";
import type { Action } from "../../kernel/security/action.ts";
import type { CapsuleId } from "../../kernel/core/ids.ts";
import { NO_GRANTS } from "../../kernel/security/manifest_grant.ts";
import type { GateContext } from "../../kernel/security/context.ts";
import { openPg } from "../../kernel/host/open_pg.ts";
import { KvStore } from "../../kernel/store/kv_store.ts";
import { startTestKernel } from "../../tests/test_kernel_test.ts";
import { pgMissing, startPg } from "../../tests/pg_fixture_test.ts";

const http: Action = {
  type: "capsule_http_request",
  capsule_id: "bench",
  url: "https://api.example.com/v1",
  method: "GET",
};

async function gateOf(env?: Record<string, string>) {
  const t = await startTestKernel({
    prefix: "astrid-bench-pg-",
    fileStore: true,
    ...(env ? { env } : {}),
  });
  const capsule = "bench" as CapsuleId;
  t.kernel.security.setGrants(capsule, {
    ...NO_GRANTS,
    net: ["api.example.com"],
  });
  let call = 0;
  const decide = async () => {
    const ctx: GateContext = {
      principal: t.kernel.principal,
      session: "00000000-0000-4000-8000-000000000001" as GateContext["session"],
      capsule,
      workspace: t.workspace,
      callId: `bench-${call++}`,
    };
    const d = await t.kernel.security.gate.decide(http, ctx);
    if (!d.allowed) throw new Error(`expected allowed: ${d.reason}`);
    d.budget.commit();
  };
  const close = async () => {
    await t.kernel.security.gate.flush();
    await t.kernel.close();
    await Deno.remove(t.root, { recursive: true });
  };
  return { decide, close };
}

/** @see the module doc. */
export default async function storePg(o: ScenarioOptions): Promise<Row[]> {
  const missing = pgMissing();
  if (missing) {
    return [{
      name: `PostgreSQL rows skipped: ${missing}`,
      unit: "note",
      summary: summarize([0]),
    }];
  }
  const pg = await startPg({ durable: true });
  const kv = await openStore("file", o.dir, "commit");
  const pgStore = new KvStore(
    await openPg({ url: pg.url, password: pg.password }),
  );
  const kvGate = await gateOf();
  const pgGate = await gateOf({
    ASTRID_STORE_URL: pg.url,
    ASTRID_STORE_PASSWORD: pg.password,
  });
  try {
    const kvOne = oneCommit(kv, "bench:kv");
    const pgOne = oneCommit(pgStore, "bench:pg");
    const t = await interleave(
      {
        kv: () => kvOne(),
        pg: () => pgOne(),
        kvGate: kvGate.decide,
        pgGate: pgGate.decide,
      },
      o.quick ? { rounds: 3, iterations: 20, warmup: 10 } : {
        rounds: 15,
        iterations: 100,
        warmup: 50,
      },
    );
    const ms = msRow;
    return [
      ms("Deno KV file: checked commit (entry + head), ms", t.kv!),
      ms("PostgreSQL: checked commit (entry + head), ms", t.pg!),
      ratioRow("PostgreSQL / Deno KV file: checked commit", t.pg!, t.kv!),
      ms("Deno KV file: gate decide + audit append, ms", t.kvGate!),
      ms("PostgreSQL: gate decide + audit append, ms", t.pgGate!),
      ratioRow("PostgreSQL / Deno KV file: gate decide", t.pgGate!, t.kvGate!),
    ];
  } finally {
    await kvGate.close();
    await pgGate.close();
    await pgStore.close();
    await kv.close();
    await pg.destroy();
  }
}
