/**
 * Benchmarks of {@linkcode KvStore} on a file-backed Deno KV database.
 *
 * Run: `deno bench --allow-read --allow-write kernel/store/`
 */
import * as path from "node:path";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "./kv_store.ts";

const dir = await Deno.makeTempDir({ prefix: "astrid_store_bench_" });
const store = new KvStore(await openKv(path.join(dir, "bench.kv")));
const value = { text: "x".repeat(80), n: 1 }; // ~100 bytes encoded
await store.set(["bench", "read"], value);
await store.set(["bench", "counter"], 0);
let i = 0;

globalThis.addEventListener("unload", () => {
  store.close().finally(() => Deno.removeSync(dir, { recursive: true }));
});

Deno.bench("kv set", { group: "kv" }, async () => {
  await store.set(["bench", "write", i++ % 1000], value);
});

Deno.bench("kv get", { group: "kv" }, async () => {
  await store.get(["bench", "read"]);
});

Deno.bench("kv atomic CAS", { group: "kv" }, async () => {
  const current = await store.get(["bench", "counter"]);
  const next = (current?.value as number) + 1;
  const result = await store.atomic().check(
    ["bench", "counter"],
    current?.versionstamp ?? null,
  )
    .set(["bench", "counter"], next).commit();
  if (!result.ok) throw new Error("uncontended CAS failed");
});
