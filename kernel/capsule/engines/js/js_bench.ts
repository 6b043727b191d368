/**
 * Benchmarks of the js engine on the real `js-hello` capsule bundle.
 *
 * Run: `deno bench --allow-read --allow-write --allow-run --allow-env kernel/capsule/engines/js/`
 *
 * - cold start, first: a fresh engine compiles QuickJS and loads one capsule;
 * - cold start, subsequent: one more capsule on an engine that has compiled
 *   QuickJS (new WebAssembly instance + runtime + context + module);
 * - per-call overhead: `invoke("noop")`;
 * - one host call: `invoke("now")` (one `clock_now` through the dispatcher).
 *
 * Absolute times only: the engine call against a bare QuickJS context, and a
 * gated host call against the bare gate, are measured interleaved by
 * `deno task bench` (bench/scenarios/js.ts).
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CapsuleId } from "../../../core/ids.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import { createDenoEnv } from "../../../host/deno_env.ts";
import { denoToolchain } from "../../../host/deno_toolchain.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import type { EngineLoadOptions, HostCallDispatcher } from "../../engine.ts";
import { buildJsCapsule } from "./build.ts";
import { createJsEngine } from "./js_engine.ts";
import { compileQuickJsWasm } from "./quickjs_wasm.ts";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const dir = await Deno.makeTempDir({ prefix: "astrid_js_bench_" });
const { artifact } = await buildJsCapsule({
  spawner: createDenoSpawner(),
  fs: createDenoFs(),
  toolchain: denoToolchain(createDenoEnv()),
}, {
  entry: path.join(root, "tests/fixtures/capsules/js-hello/main.ts"),
  outFile: path.join(dir, "hello.js"),
  cwd: root,
});
await Deno.remove(dir, { recursive: true });

const host: HostCallDispatcher = (fn) =>
  Promise.resolve(fn === "clock_now" ? { now_ms: 1 } : null);
const options: EngineLoadOptions = {
  capsule: "hello" as CapsuleId,
  artifact,
  host,
  limits: { timeoutMs: 5_000, memoryBytes: 64 * 1024 * 1024 },
  config: {},
};
const fs = createDenoFs();
const wasm = await compileQuickJsWasm(fs);
const engine = createJsEngine({
  logger: new MemoryLogger(),
  quickjsWasm: wasm,
});
const warm = await engine.load(options);

globalThis.addEventListener("unload", () => {
  void warm.unload();
});

Deno.bench("js cold start, first (compile QuickJS + load)", {
  group: "js cold start",
}, async () => {
  const fresh = createJsEngine({ logger: new MemoryLogger(), fs });
  const c = await fresh.load(options);
  await c.unload();
});

Deno.bench("js cold start, subsequent (shared module)", {
  group: "js cold start",
}, async () => {
  const c = await engine.load(options);
  await c.unload();
});

Deno.bench("js invoke noop", { group: "js call" }, async () => {
  await warm.invoke("noop", null);
});

Deno.bench("js invoke greet (JSON in/out)", { group: "js call" }, async () => {
  await warm.invoke("greet", { name: "Ada" });
});

Deno.bench("js invoke with one host call", { group: "js call" }, async () => {
  await warm.invoke("now", null);
});
