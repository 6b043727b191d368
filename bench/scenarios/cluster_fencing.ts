/**
 * Issue 17 parts 4–5, the measurement (`deno task bench cluster_fencing`): what a session's fencing costs on
 * PostgreSQL — one checked commit (an entry + a head, as the capsule KV and
 * the audit chain write) through the session's fenced store against the same
 * commit unfenced (the fence is one more check in the same statement) — and
 * one lease renewal (what each node's heartbeat pays per session held every
 * third of `cluster.lease_secs`). PostgreSQL is a private durable cluster on
 * a unix socket (the test fixture). Without PostgreSQL the rows are replaced
 * by one note row.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, msRow, ratioRow, summarize } from "../_interleave.ts";
import { oneCommit } from "../_bound.ts";
import type { ScenarioOptions } from "./_scenario.ts";
import { openPg } from "../../kernel/host/open_pg.ts";
import { KvStore } from "../../kernel/store/kv_store.ts";
import { systemClock } from "../../kernel/host/mod.ts";
import { SessionLeases } from "../../kernel/cluster/session_leases.ts";
import { fencedStore } from "../../kernel/cluster/fenced_store.ts";
import { pgMissing, startPg } from "../../tests/pg_fixture_test.ts";

/** @see the module doc. */
export default async function cluster(o: ScenarioOptions): Promise<Row[]> {
  const missing = pgMissing();
  if (missing) {
    return [{
      name: `PostgreSQL rows skipped: ${missing}`,
      unit: "note",
      summary: summarize([0]),
    }];
  }
  const pg = await startPg({ durable: true });
  const store = new KvStore(
    await openPg({ url: pg.url, password: pg.password }),
  );
  try {
    const leases = new SessionLeases(store, systemClock(), {
      node: "bench",
      principal: "default",
      ttlMs: 60_000,
    });
    const session = "00000000-0000-4000-8000-0000000000be";
    const { lease } = await leases.acquire(session);
    const plain = oneCommit(store, "bench:plain");
    const fenced = oneCommit(fencedStore(store, lease), "bench:fenced");
    const t = await interleave(
      {
        plain: () => plain(),
        fenced: () => fenced(),
        renew: () => leases.renew(),
      },
      o.quick ? { rounds: 3, iterations: 20, warmup: 10 } : {
        rounds: 15,
        iterations: 100,
        warmup: 50,
      },
    );
    const ms = msRow;
    return [
      ms("PostgreSQL: checked commit (entry + head), ms", t.plain!),
      ms(
        "PostgreSQL: the same through a session's fenced store, ms",
        t.fenced!,
      ),
      ratioRow("fenced / unfenced checked commit", t.fenced!, t.plain!),
      ms("PostgreSQL: one session lease renewal, ms", t.renew!),
    ];
  } finally {
    await store.close();
    await pg.destroy();
  }
}
