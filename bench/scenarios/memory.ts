/**
 * Resident memory per extra capsule, js and wasm, in a fresh process.
 *
 * After one warm capsule of each engine (the first pays for compiling
 * QuickJS / the module), each round loads K more capsules of one engine,
 * calls `noop` on each (so their memory is touched), runs a full GC and reads
 * the process's resident set size; the round's value is the RSS growth / K.
 * Rounds alternate the engines (js, wasm, wasm, js, …). The capsules stay
 * loaded until the end, as a session's would. Target (issue 12): ≤ 2 MB per
 * extra wasm capsule and per js capsule. No store is involved.
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Row } from "../_interleave.ts";
import { summarize } from "../_interleave.ts";
import { parseCapsuleId } from "../../kernel/core/ids.ts";
import { createDenoFs } from "../../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../../kernel/host/deno_spawner.ts";
import { createDenoEnv } from "../../kernel/host/deno_env.ts";
import { denoToolchain } from "../../kernel/host/deno_toolchain.ts";
import { MemoryLogger } from "../../kernel/testing/memory_logger.ts";
import {
  DEFAULT_ENGINE_LIMITS,
  type EngineLoadOptions,
} from "../../kernel/capsule/engine.ts";
import { buildJsCapsule } from "../../kernel/capsule/engines/js/build.ts";
import { createJsEngine } from "../../kernel/capsule/engines/js/js_engine.ts";
import { compileQuickJsWasm } from "../../kernel/capsule/engines/js/quickjs_wasm.ts";
import { createWasmEngine } from "../../kernel/capsule/engines/wasm/wasm_engine.ts";
import { loadWasmFixtures } from "../../tests/wasm_fixtures.ts";
import type { ScenarioOptions } from "./_scenario.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MB = 1_000_000;

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().rss;
}

/** @see the module doc. */
export default async function memory(o: ScenarioOptions): Promise<Row[]> {
  const fs = createDenoFs();
  const logger = new MemoryLogger();
  const { artifact: jsArtifact } = await buildJsCapsule({
    spawner: createDenoSpawner(),
    fs,
    toolchain: denoToolchain(createDenoEnv()),
  }, {
    entry: path.join(ROOT, "tests/fixtures/capsules/js-hello/main.ts"),
    outFile: path.join(o.dir, "hello.js"),
    cwd: ROOT,
  });
  const [wasmArtifact] = await loadWasmFixtures("wasm-hello");
  const engines = {
    js: createJsEngine({ logger, quickjsWasm: await compileQuickJsWasm(fs) }),
    wasm: createWasmEngine({ logger }),
  };
  const artifacts = { js: jsArtifact, wasm: wasmArtifact! };
  const loaded: { unload(): Promise<void> }[] = [];
  let n = 0;
  const load = async (kind: "js" | "wasm") => {
    const options: EngineLoadOptions = {
      capsule: parseCapsuleId(`${kind}-m${n++}`),
      artifact: artifacts[kind],
      host: () => Promise.resolve(null),
      limits: DEFAULT_ENGINE_LIMITS,
      config: { greeting: "Hi" },
    };
    const c = await engines[kind].load(options);
    await c.invoke("noop", null);
    loaded.push(c);
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
      for (const kind of order) {
        const before = rss();
        for (let i = 0; i < k; i++) await load(kind);
        per[kind].push((rss() - before) / k / MB);
      }
    }
  } finally {
    for (const c of loaded) await c.unload();
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
