// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * The evidence behind ARCHITECTURE.md "The embedded store's commit": how many
 * fsyncs one commit of this workload costs with each store. Run it under
 * strace, once per store kind:
 *
 * ```sh
 * for s in kv FULL NORMAL; do
 *   strace -f -c -e trace=fsync,fdatasync \
 *     deno run --allow-read --allow-write --allow-env bench/store_fsync.ts $s
 * done
 * ```
 *
 * `kv`: 50 checked commits (one ~500 B entry + head) to a Deno KV file
 * (`KvStore`); `FULL` / `NORMAL`: the same to `node:sqlite` in WAL mode with
 * that `synchronous` setting. Subtract the handful of fsyncs of opening and
 * closing (run with `N=0` to see them).
 *
 * @module
 */
import { oneCommit } from "./_bound.ts";
import { openStore } from "./scenarios/_scenario.ts";
import { sqlite } from "./scenarios/store_commit.ts";

const kind = Deno.args[0] ?? "kv";
const n = Number(Deno.env.get("N") ?? 50);
const dir = await Deno.makeTempDir({ prefix: "astrid-fsync-" });
const value = new Uint8Array(500).fill(7);
try {
  if (kind === "kv") {
    const store = await openStore("file", dir, "fsync");
    const commit = oneCommit(store, "bench:fsync");
    for (let i = 0; i < n; i++) await commit(value);
    await store.close();
  } else if (kind === "FULL" || kind === "NORMAL") {
    const db = sqlite(`${dir}/fsync.db`, kind);
    for (let i = 0; i < n; i++) db.commit([value]);
    db.close();
  } else {
    throw new TypeError(`unknown store '${kind}': kv, FULL or NORMAL`);
  }
  console.log(`${n} commits to ${kind}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
