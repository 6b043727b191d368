/**
 * Issue 12 item 4, the measurement: one durable commit of this workload on
 * the Deno KV file store (`KvStore` over `Deno.openKv(file)`) against
 * `node:sqlite` (`DatabaseSync`) in WAL mode with `synchronous=FULL` and
 * `synchronous=NORMAL`. Workload: sequential commits of one small entry
 * (~500 B) + the chain head, checked (compare-and-set on the head); and
 * batches of 8 entries + head in one commit. Rows: ms per commit (median of
 * interleaved rounds) and each SQLite mode / Deno KV.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { Row } from "../_interleave.ts";
import { interleave, msRow, ratioRow } from "../_interleave.ts";
import { oneCommit } from "../_bound.ts";
import { openStore, type ScenarioOptions } from "./_scenario.ts";
import type { Versionstamp } from "../../kernel/store/store.ts";
import type { KvStore } from "../../kernel/store/kv_store.ts";

/**
 * A `node:sqlite` database in WAL mode holding one chain: `commit(values)`
 * appends the entries and moves the head, checked (compare-and-set), in one
 * `BEGIN IMMEDIATE` transaction.
 *
 * @param path The database file.
 * @param synchronous `FULL` (fsync the WAL at each commit) or `NORMAL`
 *   (fsync only at checkpoints).
 * @returns The committer.
 */
export function sqlite(
  path: string,
  synchronous: "FULL" | "NORMAL",
): { commit(values: readonly Uint8Array[]): void; close(): void } {
  const db = new DatabaseSync(path);
  const mode = db.prepare("PRAGMA journal_mode=WAL").get() as {
    journal_mode: string;
  };
  if (mode.journal_mode !== "wal") throw new Error("WAL not enabled");
  db.exec(`PRAGMA synchronous=${synchronous}`);
  db.exec(
    "CREATE TABLE entry (k INTEGER PRIMARY KEY, v BLOB NOT NULL);" +
      "CREATE TABLE head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);" +
      "INSERT INTO head VALUES (0, -1);",
  );
  const cas = db.prepare("UPDATE head SET seq = ? WHERE id = 0 AND seq = ?");
  const put = db.prepare("INSERT OR REPLACE INTO entry VALUES (?, ?)");
  let seq = -1;
  return {
    commit(values: readonly Uint8Array[]): void {
      db.exec("BEGIN IMMEDIATE");
      try {
        const next = seq + values.length;
        if (cas.run(next, seq).changes !== 1) throw new Error("CAS failed");
        for (const [i, v] of values.entries()) put.run(seq + 1 + i, v);
        db.exec("COMMIT");
        seq = next;
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
    },
    close: () => db.close(),
  };
}

function kvBatch(store: KvStore) {
  let n = 0;
  let head: Versionstamp | null = null;
  return async (values: readonly Uint8Array[]) => {
    const a = store.atomic().check(["bench:batch", "head"], head);
    for (const v of values) a.set(["bench:batch", "e", n++ % 10_000], v);
    const r = await a.set(["bench:batch", "head"], n).commit();
    if (!r.ok) throw new Error("uncontended checked commit failed");
    head = r.versionstamp;
  };
}

/** @see the module doc. */
export default async function storeCommit(o: ScenarioOptions): Promise<Row[]> {
  const entry = new Uint8Array(500).fill(7);
  const eight = Array.from({ length: 8 }, () => entry);
  const kv = await openStore("file", o.dir, "commit");
  const kv8 = await openStore("file", o.dir, "commit8");
  const full = sqlite(`${o.dir}/full.db`, "FULL");
  const normal = sqlite(`${o.dir}/normal.db`, "NORMAL");
  const one = oneCommit(kv, "bench:one");
  const batch = kvBatch(kv8);
  try {
    const t = await interleave(
      {
        kv: () => one(entry),
        full: () => full.commit([entry]),
        normal: () => normal.commit([entry]),
        kv8: () => batch(eight),
        full8: () => full.commit(eight),
        normal8: () => normal.commit(eight),
      },
      o.quick ? { rounds: 3, iterations: 10, warmup: 3 } : {
        rounds: 15,
        iterations: 50,
        warmup: 20,
      },
    );
    const ms = (name: string, xs: number[]) =>
      msRow(name, xs, { store: "file" });
    return [
      ms("Deno KV file: 1 entry + head, ms/commit", t.kv!),
      ms("sqlite WAL sync=FULL: 1 entry + head", t.full!),
      ms("sqlite WAL sync=NORMAL: 1 entry + head", t.normal!),
      ratioRow("sqlite WAL FULL / Deno KV (1 entry)", t.full!, t.kv!),
      ratioRow("sqlite WAL NORMAL / Deno KV (1 entry)", t.normal!, t.kv!),
      ms("Deno KV file: 8 entries + head, ms/commit", t.kv8!),
      ms("sqlite WAL sync=FULL: 8 entries + head", t.full8!),
      ms("sqlite WAL sync=NORMAL: 8 entries + head", t.normal8!),
      ratioRow("sqlite WAL FULL / Deno KV (8 entries)", t.full8!, t.kv8!),
      ratioRow("sqlite WAL NORMAL / Deno KV (8 entries)", t.normal8!, t.kv8!),
    ].map((r) => ({ ...r, store: "file" as const }));
  } finally {
    full.close();
    normal.close();
    await kv.close();
    await kv8.close();
  }
}
