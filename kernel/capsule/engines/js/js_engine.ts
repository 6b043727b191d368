/**
 * The `js` engine: runs capsules bundled to one ESM file in QuickJS compiled
 * to WebAssembly, one WebAssembly instance (and memory) per QuickJS instance
 * — one per capsule, or up to `[[component]] instances` made as concurrent
 * calls need them — the compiled module shared by all of them.
 *
 * @module
 */
import { longTimer } from "../../../core/long_timer.ts";
import { KernelError } from "../../../core/errors.ts";
import type { Clock, FileSystem, Logger } from "../../../core/ports.ts";
import type { Engine, EngineLoadOptions } from "../../engine.ts";
import { MAX_COMPONENT_INSTANCES } from "../../manifest/manifest_types.ts";
import {
  GuestInstance,
  type GuestTimer,
  MIN_MEMORY_BYTES,
} from "./_guest_instance.ts";
import { JsCapsule } from "./js_capsule.ts";
import { compileQuickJsWasm } from "./quickjs_wasm.ts";

/** What the js engine needs. */
export interface JsEngineDeps {
  /** Receives load, stop and recycle records. */
  readonly logger: Logger;
  /**
   * Times the deadline while a guest awaits host calls: its `timer` when it
   * has one, else its `sleep` (default: real timers).
   * While guest code runs, the interrupt handler checks `performance.now()`.
   */
  readonly clock?: Pick<Clock, "sleep" | "timer">;
  /** Reads the QuickJS wasm file; needed unless `quickjsWasm` is given. */
  readonly fs?: Pick<FileSystem, "readFile">;
  /** An already compiled QuickJS module (see `compileQuickJsWasm`). */
  readonly quickjsWasm?: WebAssembly.Module;
  /**
   * Running-time deadline of evaluating a capsule's module (also when an
   * instance is recycled). Default `max(limits.timeoutMs, 10_000)`: a cold
   * evaluation on a loaded machine can take far longer than a call.
   */
  readonly loadTimeoutMs?: number;
}

/** The shortest default deadline of a module's evaluation, in ms. */
export const LOAD_TIMEOUT_FLOOR_MS = 10_000;

/** The js engine; its `load` returns a {@linkcode JsCapsule}. */
export interface JsEngine extends Engine {
  /** Always `"js"`. */
  readonly name: "js";
  /**
   * Evaluates a capsule's bundled module in a fresh QuickJS instance.
   *
   * @throws {KernelError} `INVALID_INPUT` when the artifact is not UTF-8,
   *   `CAPSULE_FAILED` / `CAPSULE_TIMEOUT` / `CAPSULE_MEMORY` when the module
   *   does not evaluate, `NOT_FOUND` / `HOST_IO` when QuickJS cannot be loaded.
   * @throws {RangeError} When the limits are unusable (memory under 16 MiB,
   *   a timeout that is not a positive number) or `instances` is not an
   *   integer from 1 to 16.
   */
  load(options: EngineLoadOptions): Promise<JsCapsule>;
}

/**
 * Creates the js engine.
 *
 * Security model: a capsule's code runs inside QuickJS on its own wasm memory,
 * whose maximum is fixed at creation (the cap plus 1/8); the guest sees the
 * ECMAScript built-ins (including `eval`, which only compiles more guest code
 * under the same limits) and exactly one host binding, `__astrid_host`, which
 * forwards `(name, JSON)` to the kernel's dispatcher — no `fetch`, `Deno`,
 * `process`, `require`, timers, `queueMicrotask`, `WebAssembly` or `console`.
 * Every host call is decided by the gate in the dispatcher, never here. A
 * call is stopped at its deadline (the wait for host calls included, whose
 * signals are then aborted) or when the memory passes the cap; the stop is
 * uncatchable by the guest, and the kernel keeps serving other capsules.
 *
 * @param deps Logger, optional clock, and the QuickJS wasm (or a file system to read it).
 * @returns The engine.
 * @throws {TypeError} When neither `fs` nor `quickjsWasm` is given.
 *
 * @example Load a capsule and call it
 * ```ts
 * import { createJsEngine } from "./js_engine.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 * import type { CapsuleId } from "../../../core/ids.ts";
 * const engine = createJsEngine({ logger: new MemoryLogger(), fs: createDenoFs() });
 * const source = `export default { kind: "astrid.capsule/v1", handlers: {
 *   hello: (p, ctx) => "Hello, " + p.name + " from " + ctx.capsule } };`;
 * const capsule = await engine.load({
 *   capsule: "hello" as CapsuleId,
 *   artifact: new TextEncoder().encode(source),
 *   host: () => Promise.resolve(null),
 *   limits: { timeoutMs: 1_000, memoryBytes: 32 * 1024 * 1024 },
 *   config: {},
 * });
 * console.assert(await capsule.invoke("hello", { name: "Ada" }) === "Hello, Ada from hello");
 * await capsule.unload();
 * ```
 */
export function createJsEngine(deps: JsEngineDeps): JsEngine {
  const { fs, quickjsWasm } = deps;
  if (fs === undefined && quickjsWasm === undefined) {
    throw new TypeError("createJsEngine() needs `fs` or `quickjsWasm`");
  }
  const timer = timerOf(deps.clock);
  let compiled: Promise<WebAssembly.Module> | undefined =
    quickjsWasm === undefined ? undefined : Promise.resolve(quickjsWasm);
  const wasm = (): Promise<WebAssembly.Module> => {
    compiled ??= compileQuickJsWasm(fs!).catch((err) => {
      compiled = undefined;
      throw err;
    });
    return compiled;
  };
  return {
    name: "js",
    async load(o: EngineLoadOptions): Promise<JsCapsule> {
      checkLimits(o);
      let source: string;
      try {
        source = new TextDecoder("utf-8", { fatal: true }).decode(o.artifact);
      } catch (err) {
        throw new KernelError(
          "INVALID_INPUT",
          `Cannot load capsule '${o.capsule}': its artifact is not UTF-8 text`,
          { cause: err },
        );
      }
      const logger = deps.logger.child({ capsule: o.capsule, engine: "js" });
      const module = await wasm();
      const make = () =>
        GuestInstance.create({
          capsule: o.capsule,
          source,
          config: o.config,
          limits: o.limits,
          wasm: module,
          host: o.host,
          logger,
          timer,
          loadTimeoutMs: deps.loadTimeoutMs ??
            Math.max(o.limits.timeoutMs, LOAD_TIMEOUT_FLOOR_MS),
        });
      const started = performance.now();
      const first = await make();
      logger.log("debug", "Loaded a js capsule", {
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
      return new JsCapsule(o.capsule, {
        first,
        make,
        logger,
        instances: o.instances ?? 1,
      });
    },
  };
}

function checkLimits(o: EngineLoadOptions): void {
  const { timeoutMs, memoryBytes } = o.limits;
  const instances = o.instances ?? 1;
  if (
    !Number.isSafeInteger(instances) || instances < 1 ||
    instances > MAX_COMPONENT_INSTANCES
  ) {
    throw new RangeError(
      `Cannot load capsule '${o.capsule}': instances must be an integer from 1 to ${MAX_COMPONENT_INSTANCES}, got ${instances}`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `Cannot load capsule '${o.capsule}': timeoutMs must be a positive number, got ${timeoutMs}`,
    );
  }
  const wait = o.limits.waitTimeoutMs;
  if (wait !== undefined && !(wait > 0)) {
    throw new RangeError(
      `Cannot load capsule '${o.capsule}': waitTimeoutMs must be a positive number, got ${wait}`,
    );
  }
  if (!Number.isFinite(memoryBytes) || memoryBytes < MIN_MEMORY_BYTES) {
    throw new RangeError(
      `Cannot load capsule '${o.capsule}': memoryBytes must be at least ${MIN_MEMORY_BYTES} (16 MiB, QuickJS's initial heap), got ${memoryBytes}`,
    );
  }
}

/**
 * The waiting bound's timer: the clock's `timer`, else its `sleep` with a
 * signal, else `setTimeout`.
 */
function timerOf(clock: JsEngineDeps["clock"]): GuestTimer {
  if (clock?.timer !== undefined) return (ms, fire) => clock.timer!(ms, fire);
  if (clock !== undefined) {
    return (ms, fire) => {
      const cancel = new AbortController();
      clock.sleep(ms, { signal: cancel.signal }).then(fire, () => {}); // silent-ok: cancelled
      return () => cancel.abort();
    };
  }
  return longTimer;
}
