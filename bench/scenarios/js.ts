/**
 * The js engine against its raw baselines.
 *
 * 1. Engine call vs a bare QuickJS call (no store): `invoke("noop")` and
 *    `invoke("greet", {name})` of the real `js-hello` bundle on a warm
 *    capsule, against the same work in a bare quickjs-emscripten context
 *    (same wasm variant, no engine): call an async invoker with the action
 *    and the payload JSON, run pending jobs, read the JSON result. Reference
 *    rows (no target in issue 12).
 * 2. A host call from a js capsule vs the bare gate, both store kinds: the
 *    `js-runtime` capsule's `fs_read` of a 1 KiB workspace file through the
 *    real runtime (registry, engine, ABI dispatcher, the door, `Gate.run`,
 *    overlay read) against `Gate.run()` of the SAME action (taken from the
 *    audit entry the call wrote) with an empty effect: the decision entry and
 *    the outcome entry, nothing else. Target (issue 12): ≤ 2×. A reference
 *    row divides by `Gate.decide()` alone (the decision entry only).
 *
 * @module
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import quickjsVariant from "@jitl/quickjs-wasmfile-release-sync";
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
} from "quickjs-emscripten-core";
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import type { CapsuleId } from "../../kernel/core/ids.ts";
import { createDenoFs } from "../../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../../kernel/host/deno_spawner.ts";
import { createDenoEnv } from "../../kernel/host/deno_env.ts";
import { denoToolchain } from "../../kernel/host/deno_toolchain.ts";
import { MemoryLogger } from "../../kernel/testing/memory_logger.ts";
import { buildJsCapsule } from "../../kernel/capsule/engines/js/build.ts";
import { createJsEngine } from "../../kernel/capsule/engines/js/js_engine.ts";
import { compileQuickJsWasm } from "../../kernel/capsule/engines/js/quickjs_wasm.ts";
import { startJsRead } from "../_js_read.ts";
import { type ScenarioOptions, STORE_KINDS } from "./_scenario.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const BARE_SOURCE = `
const actions = {
  noop: () => undefined,
  greet: (p, ctx) => ({ text: "Hello, " + p.name + "!", capsule: ctx.capsule }),
};
globalThis.invoke = async (action, payload) =>
  JSON.stringify((await actions[action](JSON.parse(payload), { capsule: "hello" })) ?? null);
`;

/** A bare QuickJS context: the same call protocol, no engine around it. */
async function bareQuickJs(): Promise<{
  call(action: string, payload: unknown): string;
  dispose(): void;
}> {
  const qjs = await newQuickJSWASMModuleFromVariant(
    quickjsVariant as unknown as QuickJSSyncVariant,
  );
  const rt: QuickJSRuntime = qjs.newRuntime();
  const vm: QuickJSContext = rt.newContext();
  vm.unwrapResult(vm.evalCode(BARE_SOURCE)).dispose();
  const invoker: QuickJSHandle = vm.getProp(vm.global, "invoke");
  return {
    call(action, payload) {
      const a = vm.newString(action);
      const p = vm.newString(JSON.stringify(payload));
      const r = vm.unwrapResult(vm.callFunction(invoker, vm.undefined, a, p));
      a.dispose();
      p.dispose();
      vm.unwrapResult(rt.executePendingJobs());
      const state = vm.getPromiseState(r);
      r.dispose();
      if (state.type !== "fulfilled") throw new Error("bare call failed");
      const text = vm.getString(state.value);
      state.value.dispose();
      return JSON.parse(text);
    },
    dispose() {
      invoker.dispose();
      vm.dispose();
      rt.dispose();
    },
  };
}

async function engineVsBare(o: ScenarioOptions): Promise<Row[]> {
  const fs = createDenoFs();
  const { artifact } = await buildJsCapsule({
    spawner: createDenoSpawner(),
    fs,
    toolchain: denoToolchain(createDenoEnv()),
  }, {
    entry: path.join(ROOT, "tests/fixtures/capsules/js-hello/main.ts"),
    outFile: path.join(o.dir, "hello.js"),
    cwd: ROOT,
  });
  const engine = createJsEngine({
    logger: new MemoryLogger(),
    quickjsWasm: await compileQuickJsWasm(fs),
  });
  const capsule = await engine.load({
    capsule: "hello" as CapsuleId,
    artifact,
    host: () => Promise.resolve(null),
    limits: { timeoutMs: 5_000, memoryBytes: 64 * 1024 * 1024 },
    config: {},
  });
  const bare = await bareQuickJs();
  try {
    const ada = { name: "Ada" };
    const t = await interleave(
      {
        noop: () => capsule.invoke("noop", null),
        bareNoop: () => bare.call("noop", null),
        greet: () => capsule.invoke("greet", ada),
        bareGreet: () => bare.call("greet", ada),
      },
      o.quick ? { rounds: 3, iterations: 30, warmup: 10 } : {
        rounds: 15,
        iterations: 300,
        warmup: 1_000,
      },
    );
    return [
      ratioRow("js invoke noop / bare QuickJS call", t.noop!, t.bareNoop!),
      ratioRow("js invoke greet (JSON) / bare QuickJS", t.greet!, t.bareGreet!),
    ];
  } finally {
    bare.dispose();
    await capsule.unload();
  }
}

async function hostCallVsGate(o: ScenarioOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of STORE_KINDS) {
    const js = await startJsRead(kind);
    try {
      const t = await interleave(
        { hostCall: js.hostCall, gate: js.gateRun, decide: js.decide },
        o.quick ? { rounds: 3, iterations: 20, warmup: 5 } : {
          rounds: 15,
          iterations: 100,
          warmup: 1_000, // warm code: V8 compiles over the first ~1,000 calls
        },
      );
      rows.push(
        ratioRow(
          "js host call fs_read 1 KiB / bare gate (Gate.run, empty effect)",
          t.hostCall!,
          t.gate!,
          { store: kind, target: { op: "<=", value: 2 } },
        ),
        ratioRow(
          "js host call fs_read 1 KiB / Gate.decide alone (no outcome entry)",
          t.hostCall!,
          t.decide!,
          { store: kind },
        ),
      );
    } finally {
      await js.close();
    }
  }
  return rows;
}

/** @see the module doc. */
export default async function js(o: ScenarioOptions): Promise<Row[]> {
  return [...await hostCallVsGate(o), ...await engineVsBare(o)];
}
