// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * The evidence behind ARCHITECTURE.md "Why a commit costs more inside a
 * call": the latency of one checked Deno KV `:memory:` commit (one ~600 B
 * entry + head, `bench/_bound.ts`) against how long the main thread was
 * busy since the previous commit returned. Deno KV runs SQLite on a thread
 * of its own; a commit hands it the write and waits. On this machine (a
 * 2-vCPU virtual machine) a thread that has slept for a while costs far more
 * to wake, so the same commit is cheap in a tight loop (the strict bound's)
 * and dear after the ~0.5 ms of other work a host call or an MCP round trip
 * puts between two commits.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env bench/kv_wake.ts
 * ```
 *
 * Prints, per busy gap, the median commit latency over interleaved rounds.
 * Run it on an idle machine: on a loaded one the other vCPU seldom sleeps
 * and the effect shrinks.
 *
 * @module
 */
import { oneCommit } from "./_bound.ts";
import { openStore } from "./scenarios/_scenario.ts";

const GAPS_US = [0, 50, 100, 200, 300, 500, 1_000];
const ROUNDS = 7;
const PER_ROUND = 200;

function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* busy: the main thread works */ }
}

const dir = await Deno.makeTempDir({ prefix: "astrid-kv-wake-" });
const store = await openStore("memory", dir, "wake");
const commit = oneCommit(store, "bench:wake");
const value = new Uint8Array(600).fill(7);
const per = new Map<number, number[]>(GAPS_US.map((g) => [g, []]));
try {
  for (let i = 0; i < 500; i++) await commit(value);
  for (let r = 0; r < ROUNDS; r++) {
    for (const gap of GAPS_US) {
      let total = 0;
      for (let i = 0; i < PER_ROUND; i++) {
        spin(gap);
        const t = performance.now();
        await commit(value);
        total += performance.now() - t;
      }
      per.get(gap)!.push(total / PER_ROUND * 1000);
    }
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    "busy gap (µs)  commit latency, median of rounds (µs)  [min–max]",
  );
  for (const [gap, xs] of per) {
    console.log(
      `${String(gap).padStart(13)}  ${median(xs).toFixed(1).padStart(8)}  [${
        Math.min(...xs).toFixed(1)
      }–${Math.max(...xs).toFixed(1)}]`,
    );
  }
} finally {
  await store.close();
  await Deno.remove(dir, { recursive: true });
}
