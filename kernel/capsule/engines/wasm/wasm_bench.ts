/**
 * wasm engine numbers: per-call overhead (noop, greet with one host call) and
 * create time, next to @extism/extism rc13 used directly — foreground (no
 * deadline possible) and `runInWorker` (its own timeout mechanism) — as
 * reference points measured in the same run.
 *
 * Run: deno bench --allow-read --allow-write --allow-env --allow-run kernel/capsule/engines/wasm/wasm_bench.ts
 */
import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import { parseCapsuleId } from "../../../core/ids.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import {
  DEFAULT_ENGINE_LIMITS,
  type HostCallDispatcher,
} from "../../engine.ts";
import { loadWasmFixtures } from "../../../../tests/wasm_fixtures.ts";
import { createWasmEngine } from "./wasm_engine.ts";
import { capMemory } from "./cap_memory.ts";

const [hello] = await loadWasmFixtures("wasm-hello");
const artifact = hello!;
const host: HostCallDispatcher = (fn, payload) =>
  Promise.resolve(fn === "kv_get" ? "motd" : payload);
const engine = createWasmEngine({ logger: new MemoryLogger() });
const loadOptions = {
  capsule: parseCapsuleId("wasm-hello"),
  artifact,
  host,
  limits: DEFAULT_ENGINE_LIMITS,
  config: { greeting: "Hi" },
};
const capsule = await engine.load(loadOptions);

const functions = {
  "extism:host/user": {
    astrid_call: async (cp: CallContext, off: bigint) => {
      const req = JSON.parse(cp.read(off)!.text());
      const value = await host(req.fn, req.payload ?? null, {
        signal: new AbortController().signal,
      });
      return cp.store(JSON.stringify({ ok: true, value }));
    },
  },
};
const capped = capMemory(artifact, 1024);
function extism(runInWorker: boolean): Promise<Plugin> {
  return createPlugin({ wasm: [{ data: capped }] }, {
    useWasi: false,
    config: { greeting: "Hi" },
    functions,
    ...(runInWorker
      ? {
        runInWorker: true,
        timeoutMs: 5_000,
        nodeWorkerArgs: { execArgv: [] },
      }
      : {}),
  });
}
const foreground = await extism(false);
const background = await extism(true);

Deno.bench({
  name: "engine noop",
  group: "wasm noop call",
  async fn() {
    await capsule.invoke("noop", null);
  },
});
Deno.bench({
  name: "extism rc13 foreground noop (no deadline)",
  group: "wasm noop call",
  async fn() {
    await foreground.call("noop", "null");
  },
});
Deno.bench({
  name: "extism rc13 runInWorker noop",
  group: "wasm noop call",
  async fn() {
    await background.call("noop", "null");
  },
});

Deno.bench({
  name: "engine greet (config + 1 host call)",
  group: "wasm greet call",
  async fn() {
    await capsule.invoke("greet", "Ada");
  },
});
Deno.bench({
  name: "extism rc13 foreground greet (no deadline)",
  group: "wasm greet call",
  async fn() {
    await foreground.call("greet", '"Ada"');
  },
});
Deno.bench({
  name: "extism rc13 runInWorker greet",
  group: "wasm greet call",
  n: 200,
  async fn() {
    await background.call("greet", '"Ada"');
  },
});

Deno.bench({
  name: "engine load + unload (cap, compile, worker, instantiate)",
  group: "wasm create",
  n: 20,
  warmup: 2,
  async fn() {
    const c = await engine.load(loadOptions);
    await c.unload();
  },
});
Deno.bench({
  name: "extism rc13 runInWorker createPlugin + close",
  group: "wasm create",
  n: 20,
  warmup: 2,
  async fn() {
    const p = await extism(true);
    await p.close();
  },
});
Deno.bench({
  name: "extism rc13 foreground createPlugin + close",
  group: "wasm create",
  n: 50,
  warmup: 2,
  async fn() {
    const p = await extism(false);
    await p.close();
  },
});
Deno.bench({
  name: "capMemory 15 KiB module",
  group: "wasm create",
  fn() {
    capMemory(artifact, 1024);
  },
});

globalThis.addEventListener("unload", () => {
  void capsule.unload();
  void foreground.close();
  void background.close();
});
