/**
 * The `wasm` engine: Extism plug-ins with a memory cap patched into the
 * module, a hard per-call deadline and calls serialised per instance.
 *
 * @module
 */
import { DEFAULT_WAIT_TIMEOUT_MS } from "../../call_clock.ts";
import { KernelError } from "../../../core/errors.ts";
import type { Logger } from "../../../core/ports.ts";
import type { Capsule, Engine, EngineLoadOptions } from "../../engine.ts";
import { capMemory, WASM_PAGE_BYTES } from "./cap_memory.ts";
import { WasmCapsule } from "./_wasm_capsule.ts";
import { WorkerPool } from "./_worker_pool.ts";

/**
 * The default shortest instantiation deadline in ms. It covers the worker's
 * cold start (loading the Extism module graph: ~50–100 ms on a quiet
 * machine, measured above 10 s on 2 cores under a load average of 10) and the
 * plug-in's start function, so it only has to catch a start function that
 * never returns — it must never fail a healthy capsule on a busy machine.
 */
export const START_TIMEOUT_FLOOR_MS = 60_000;

/** What the wasm engine needs from the kernel. */
export interface WasmEngineDeps {
  /** Receives engine events and guest log lines (with `capsule` and `source: "guest"`). */
  readonly logger: Logger;
  /**
   * Instantiation deadline in ms (a start function may loop forever). Default
   * `max(limits.timeoutMs, 10_000)`: a worker's cold start is ~50–100 ms, more
   * under load.
   */
  readonly startTimeoutMs?: number;
  /**
   * How many shared Workers host this engine's plug-ins (≥ 1). Default
   * {@linkcode defaultPoolSize}: `min(cores, 2)`.
   */
  readonly poolSize?: number;
  /**
   * Whether a capsule that has once run past its deadline gets a Worker of
   * its own from then on (so it cannot take its neighbours down again).
   * Default `true`.
   */
  readonly quarantine?: boolean;
}

/**
 * The default number of shared Workers of a wasm engine: `min(cores, 2)`.
 *
 * @returns 1 or 2.
 */
export function defaultPoolSize(): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, 2));
}

/** A loaded wasm capsule: the {@linkcode Capsule} interface plus its action list. */
export interface WasmCapsuleHandle extends Capsule {
  /** The callable actions (exported functions not starting with `_`), sorted. */
  readonly actions: readonly string[];
}

/** The wasm engine. */
export interface WasmEngine extends Engine {
  /** Always `"wasm"`. */
  readonly name: "wasm";
  /** Shared Workers alive now (Workers of quarantined capsules not counted). */
  readonly workers: number;
  /**
   * Loads one capsule: caps its memory at `limits.memoryBytes` (rounded down
   * to whole 64 KiB pages), compiles it, and instantiates it on a pool Worker.
   *
   * @throws {KernelError} `INVALID_INPUT` for bytes that are not a wasm
   *   module; `CAPSULE_MEMORY` when the module needs more memory than the cap
   *   or has several memories; `CAPSULE_FAILED` when instantiation fails;
   *   `CAPSULE_TIMEOUT` when instantiation hangs.
   */
  load(options: EngineLoadOptions): Promise<WasmCapsuleHandle>;
}

/**
 * Creates the wasm engine.
 *
 * @param deps The logger.
 * @returns An {@linkcode Engine} named `"wasm"`.
 * @throws {RangeError} From `load` when `limits.memoryBytes` is below one page
 *   or `limits.timeoutMs` is not positive.
 *
 * @example Load a tiny module and call its export
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWasmEngine } from "./wasm_engine.ts";
 * import { DEFAULT_ENGINE_LIMITS } from "../../engine.ts";
 * import { parseCapsuleId } from "../../../core/ids.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 *
 * // (module (memory 1) (func (export "noop") (result i32) i32.const 0))
 * const wasm = new Uint8Array([
 *   0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0,
 *   5, 3, 1, 0, 1, 7, 8, 1, 4, 110, 111, 111, 112, 0, 0, 10, 6, 1, 4, 0, 65, 0, 11,
 * ]);
 * const engine = createWasmEngine({ logger: new MemoryLogger() });
 * const capsule = await engine.load({
 *   capsule: parseCapsuleId("tiny"),
 *   artifact: wasm,
 *   host: () => Promise.resolve(null),
 *   limits: DEFAULT_ENGINE_LIMITS,
 *   config: {},
 * });
 * try {
 *   assert.deepEqual(capsule.actions, ["noop"]);
 *   assert.equal(await capsule.invoke("noop", null), null);
 * } finally {
 *   await capsule.unload();
 * }
 * ```
 */
export function createWasmEngine(deps: WasmEngineDeps): WasmEngine {
  const pool = new WorkerPool({ size: deps.poolSize ?? defaultPoolSize() });
  return {
    name: "wasm",
    get workers(): number {
      return pool.workers;
    },
    async load(options: EngineLoadOptions): Promise<WasmCapsuleHandle> {
      const { memoryBytes, timeoutMs } = options.limits;
      const waitTimeoutMs = options.limits.waitTimeoutMs ??
        DEFAULT_WAIT_TIMEOUT_MS;
      if (!(memoryBytes >= WASM_PAGE_BYTES)) {
        throw new RangeError(
          `limits.memoryBytes must be at least ${WASM_PAGE_BYTES}, got ${memoryBytes}`,
        );
      }
      if (!(timeoutMs > 0)) {
        throw new RangeError(
          `limits.timeoutMs must be positive, got ${timeoutMs}`,
        );
      }
      if (!(waitTimeoutMs > 0)) {
        throw new RangeError(
          `limits.waitTimeoutMs must be positive, got ${waitTimeoutMs}`,
        );
      }
      const pages = Math.min(65_536, Math.floor(memoryBytes / WASM_PAGE_BYTES));
      const capped = capMemory(options.artifact, pages);
      let module: WebAssembly.Module;
      try {
        module = await WebAssembly.compile(capped);
      } catch (err) {
        throw new KernelError(
          "INVALID_INPUT",
          `Cannot load capsule '${options.capsule}': its artifact is not a valid WebAssembly module (${
            (err as Error).message
          })`,
          { cause: err },
        );
      }
      const logger = deps.logger.child({
        capsule: options.capsule,
        engine: "wasm",
      });
      const capsule = await WasmCapsule.start({
        id: options.capsule,
        module,
        host: options.host,
        limits: {
          timeoutMs,
          waitTimeoutMs,
          memoryBytes: pages * WASM_PAGE_BYTES,
        },
        config: options.config,
        logger,
        startTimeoutMs: deps.startTimeoutMs ??
          Math.max(timeoutMs, START_TIMEOUT_FLOOR_MS),
        pool,
        quarantine: deps.quarantine ?? true,
      });
      logger.log("debug", "wasm capsule loaded", {
        pages,
        actions: capsule.actions.length,
      });
      return capsule;
    },
  };
}
