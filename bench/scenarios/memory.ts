/**
 * Resident memory per extra capsule, js and wasm, in a fresh process, loaded
 * through the real runtime's registry (`registry.load`), so whatever the
 * registry and engines share (a pool, a compiled module) is counted as it is
 * in a session.
 *
 * After one warm capsule of each engine (the first pays for compiling
 * QuickJS / the module), each round installs and loads K more capsules of one
 * engine (the `js-runtime` / `wasm-runtime` test capsules), calls `ping` on
 * each (so their memory is touched), runs a full GC and reads the process's
 * resident set size; the round's value is the RSS growth / K. Rounds
 * alternate the engines (js, wasm, wasm, js, …). The capsules stay loaded
 * until the end, as a session's would. Target (issue 12): ≤ 2 MB per extra
 * wasm capsule and per js capsule. The store is the in-memory one (a capsule's
 * resident memory does not depend on it).
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { summarize } from "../_interleave.ts";
import type { CapsuleId } from "../../kernel/core/ids.ts";
import { createDenoFs } from "../../kernel/host/deno_fs.ts";
import { loadCapsuleDir } from "../../kernel/capsule/manifest/load_capsule_dir.ts";
import { VERSION } from "../../version.ts";
import { makeRuntime } from "../../tests/runtime_fixture_test.ts";
import type { ScenarioOptions } from "./_scenario.ts";

const MB = 1_000_000;

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().rss;
}

/** @see the module doc. */
export default async function memory(o: ScenarioOptions): Promise<Row[]> {
  const f = await makeRuntime({ timeoutMs: 30_000 });
  const fs = createDenoFs();
  const trust = {
    keyId: f.kernel.runtimeKey.keyId,
    publicKey: f.kernel.runtimeKey.publicKey,
  };
  let n = 0;
  const load = async (engine: "js" | "wasm") => {
    const name = `${engine}-m${n++}`;
    const dir = await f.install({ name, engine });
    const loaded = await loadCapsuleDir(fs, dir, {
      kernelVersion: VERSION,
      trust,
    });
    await f.runtime.registry.load(loaded);
    await f.invoke(name as CapsuleId, "ping");
  };
  const k = o.quick ? 2 : 4;
  const rounds = o.quick ? 2 : 6;
  const per: Record<"js" | "wasm", number[]> = { js: [], wasm: [] };
  try {
    await load("js");
    await load("wasm");
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0
        ? ["js", "wasm"] as const
        : ["wasm", "js"] as const;
      for (const engine of order) {
        const before = rss();
        for (let i = 0; i < k; i++) await load(engine);
        per[engine].push((rss() - before) / k / MB);
      }
    }
  } finally {
    await f.close();
  }
  const target = { op: "<=", value: 2 } as const;
  return [
    {
      name: `resident MB per extra wasm capsule (${k} per round)`,
      unit: "MB",
      summary: summarize(per.wasm),
      target,
    },
    {
      name: `resident MB per extra js capsule (${k} per round)`,
      unit: "MB",
      summary: summarize(per.js),
      target,
    },
  ];
}
