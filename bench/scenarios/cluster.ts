/**
 * Issue 17 part 2, the measurement: audit append throughput of a cluster —
 * 1, 2 and 3 kernel nodes (`tests/fixtures/cluster_node.ts`, each its own
 * process with the real `AuditLog` of `startKernel`) on one durable
 * PostgreSQL database (fsync and synchronous commit on) — for one principal
 * (every node appends to the same chain: the head compare-and-set makes the
 * nodes take turns, and a node whose remembered head is stale rereads it)
 * and for many principals (32 chains shared round-robin: group commits run
 * side by side, serialised only by the store's clock row).
 *
 * One case = every node of the case appends `PER_NODE` entries with 8 in
 * flight (group commit inside a node), at once; its time is the wall time of
 * the slowest node. The cases are interleaved per round; each row is the
 * median of per-round throughputs (entries per second, all nodes together)
 * with its spread. The gate decision with its audit append on PostgreSQL vs
 * Deno KV is the `store_pg` scenario (`deno task bench store_pg cluster`
 * runs both in one run). Without PostgreSQL the rows are one note row.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow, summarize } from "../_interleave.ts";
import type { ScenarioOptions } from "./_scenario.ts";
import { pgMissing, startPg } from "../../tests/pg_fixture_test.ts";
import {
  type ClusterNode,
  startCluster,
} from "../../tests/cluster_fixture_test.ts";

const PRINCIPALS = Array.from({ length: 32 }, (_, i) => `user${i}`);

/** @see the module doc. */
export default async function cluster(o: ScenarioOptions): Promise<Row[]> {
  const missing = pgMissing();
  if (missing) {
    return [{
      name: `cluster rows skipped: ${missing}`,
      unit: "note",
      summary: summarize([0]),
    }];
  }
  const perNode = o.quick ? 40 : 120;
  await using pg = await startPg({ durable: true });
  await using c = await startCluster(pg, 3);
  let round = 0;
  const op = (nodes: readonly ClusterNode[], many: boolean) => async () => {
    const tag = `r${round++}`;
    const replies = await Promise.all(nodes.map((n, i) =>
      n.send("append", {
        count: perNode,
        concurrency: 8,
        tag: `${tag}-n${i}`,
        ...(many ? { principals: PRINCIPALS } : { principal: "one" }),
      })
    ));
    for (const r of replies) {
      if (!r.ok || r.failed !== 0) {
        throw new Error(`append failed: ${JSON.stringify(r)}`);
      }
    }
  };
  const cases: Record<string, () => Promise<void>> = {};
  for (const k of [1, 2, 3]) {
    cases[`one${k}`] = op(c.nodes.slice(0, k), false);
    cases[`many${k}`] = op(c.nodes.slice(0, k), true);
  }
  const t = await interleave(
    cases,
    o.quick ? { rounds: 2, iterations: 1, warmup: 1 } : {
      rounds: 9,
      iterations: 1,
      warmup: 1,
    },
  );
  const perSecond = (k: number, ms: number[]) =>
    ms.map((x) => (k * perNode) / x * 1000);
  const rows: Row[] = [];
  for (const many of [false, true]) {
    const who = many ? "32 principals" : "one principal";
    const key = many ? "many" : "one";
    for (const k of [1, 2, 3]) {
      rows.push({
        name: `PostgreSQL, ${k} node${
          k > 1 ? "s" : ""
        }, ${who}: audit appends/s`,
        unit: "/s",
        summary: summarize(perSecond(k, t[`${key}${k}`]!)),
      });
    }
    // Time per append: 3 nodes (3× the entries per case) vs 1 node.
    rows.push(
      ratioRow(
        `${who}: time per append, 3 nodes / 1 node`,
        t[`${key}3`]!.map((x) => x / 3),
        t[`${key}1`]!,
      ),
    );
  }
  return rows;
}
