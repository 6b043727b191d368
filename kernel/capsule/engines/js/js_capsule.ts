/**
 * A loaded `js` capsule: one QuickJS instance, calls serialised in arrival
 * order, health, recycling and unload.
 *
 * Recycling: after a memory stop (wasm memory never shrinks) or a crash of the
 * interpreter, the instance is dropped and a fresh one is made from the same
 * artifact before the failed call returns. Module-level state of the guest is
 * lost then; a timeout or a cancellation keeps the instance (QuickJS stays
 * usable after an interrupt).
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import type { Logger } from "../../../core/ports.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { Capsule, CapsuleHealth } from "../../engine.ts";
import type { GuestInstance } from "./_guest_instance.ts";

/** Counters of one js capsule, for tests, health checks and benchmarks. */
export interface JsCapsuleStats {
  /** How many QuickJS instances were made (1 + recycles). */
  readonly instances: number;
  /** Bytes of wasm memory of the current instance (0 when none). */
  readonly memoryBytes: number;
  /** Calls stopped at the deadline, at the memory cap, or by a crash. */
  readonly stops: number;
}

const noop = (): void => {};

/**
 * A running js capsule; made by `createJsEngine().load()`.
 *
 * @example Call an action of a capsule
 * ```ts
 * import { createJsEngine } from "./js_engine.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 * import { DEFAULT_ENGINE_LIMITS } from "../../engine.ts";
 * import type { CapsuleId } from "../../../core/ids.ts";
 * const engine = createJsEngine({ logger: new MemoryLogger(), fs: createDenoFs() });
 * const capsule = await engine.load({
 *   capsule: "adder" as CapsuleId,
 *   artifact: new TextEncoder().encode("export function add(p) { return p.a + p.b; }"),
 *   host: () => Promise.resolve(null),
 *   limits: DEFAULT_ENGINE_LIMITS,
 *   config: {},
 * });
 * console.assert(await capsule.invoke("add", { a: 2, b: 3 }) === 5);
 * await capsule.unload();
 * ```
 */
export class JsCapsule implements Capsule {
  /** The capsule's id. */
  readonly id: CapsuleId;
  readonly #make: () => Promise<GuestInstance>;
  readonly #logger: Logger;
  readonly #unloaded = new AbortController();
  #guest: GuestInstance | undefined;
  #tail: Promise<void> = Promise.resolve();
  #health: CapsuleHealth = { status: "ok" };
  #instances = 1;
  #stops = 0;

  /**
   * Wraps a first instance; use the engine's `load()` instead.
   *
   * @param id The capsule's id.
   * @param parts The loaded instance (`first`), a maker of fresh instances
   *   from the same artifact (`make`, for recycling), and the logger.
   */
  constructor(
    id: CapsuleId,
    parts: {
      first: GuestInstance;
      make: () => Promise<GuestInstance>;
      logger: Logger;
    },
  ) {
    this.id = id;
    this.#guest = parts.first;
    this.#make = parts.make;
    this.#logger = parts.logger;
  }

  /**
   * Calls action `action` with a JSON payload. Calls run one at a time, in
   * arrival order; the deadline starts when a call starts running.
   *
   * @param action The handler name.
   * @param payload The JSON payload.
   * @param options Cancellation (also while the call waits its turn).
   * @returns The handler's JSON result.
   * @throws {KernelError} `CAPSULE_NOT_FOUND` (no such action, or unloaded),
   *   `CAPSULE_FAILED`, `CAPSULE_TIMEOUT`, `CAPSULE_MEMORY`, `ABORTED`.
   * @throws {TypeError} When the payload is not JSON-serialisable.
   */
  invoke(
    action: string,
    payload: JsonValue,
    options: { signal?: AbortSignal } = {},
  ): Promise<JsonValue> {
    if (typeof action !== "string") {
      return Promise.reject(new TypeError("The action must be a string"));
    }
    let payloadJson: string;
    try {
      payloadJson = JSON.stringify(payload) ?? "null";
    } catch (err) {
      return Promise.reject(
        new TypeError(`Cannot send the payload of '${action}': ${String(err)}`),
      );
    }
    const signal = options.signal === undefined
      ? this.#unloaded.signal
      : AbortSignal.any([options.signal, this.#unloaded.signal]);
    const run = this.#tail.then(() => this.#run(action, payloadJson, signal));
    this.#tail = run.then(noop, noop); // silent-ok: the caller gets `run` itself
    // Without a caller signal only unload can cancel, and a queued call sees
    // that at its turn; a caller's signal must also free a call still queued.
    if (options.signal === undefined || signal.aborted) return run;
    return new Promise<JsonValue>((resolve, reject) => {
      const onAbort = () => reject(this.#abortError(action, signal));
      signal.addEventListener("abort", onAbort, { once: true });
      run.then(resolve, reject).finally(() =>
        signal.removeEventListener("abort", onAbort)
      );
    });
  }

  /**
   * Current health: `ok`; `degraded` after a stopped call until a call
   * succeeds; `failed` when unloaded or when a fresh instance cannot be made.
   *
   * @returns The health.
   */
  health(): CapsuleHealth {
    return this.#health;
  }

  /**
   * Counters of this capsule.
   *
   * @returns Instances made, current memory, stops.
   */
  stats(): JsCapsuleStats {
    return {
      instances: this.#instances,
      memoryBytes: this.#guest?.memory.buffer.byteLength ?? 0,
      stops: this.#stops,
    };
  }

  /**
   * Stops the capsule: cancels the running call and its pending host calls,
   * refuses queued and later calls (`CAPSULE_NOT_FOUND`), frees the instance.
   * Idempotent.
   *
   * @returns When the instance is freed.
   */
  async unload(): Promise<void> {
    if (this.#unloaded.signal.aborted) return;
    this.#unloaded.abort(
      new KernelError("CAPSULE_NOT_FOUND", `Capsule '${this.id}' was unloaded`),
    );
    await this.#tail;
    this.#guest?.dispose();
    this.#guest = undefined;
    this.#health = { status: "failed", reason: "unloaded" };
  }

  async #run(
    action: string,
    payloadJson: string,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    if (signal.aborted) throw this.#abortError(action, signal);
    const guest = this.#guest;
    if (guest === undefined) {
      throw new KernelError(
        "CAPSULE_FAILED",
        `Capsule '${this.id}' has no running instance (${
          this.#health.status === "ok" ? "unknown" : this.#health.reason
        })`,
      );
    }
    try {
      const value = await guest.call(action, payloadJson, signal);
      this.#health = { status: "ok" };
      return value;
    } catch (err) {
      if (this.#unloaded.signal.aborted && KernelError.is(err, "ABORTED")) {
        throw this.#abortError(action, signal);
      }
      if (
        guest.stop !== undefined && guest.stop !== "aborted" || guest.broken
      ) {
        this.#stops++;
        this.#health = {
          status: "degraded",
          reason: String((err as Error).message),
        };
        this.#logger.log("warn", "Stopped a capsule call", {
          capsule: this.id,
          action,
          code: KernelError.is(err) ? err.code : "INTERNAL",
        });
      }
      if (guest.broken || guest.overCap) await this.#recycle(guest);
      throw err;
    }
  }

  async #recycle(old: GuestInstance): Promise<void> {
    old.dispose();
    this.#guest = undefined;
    if (this.#unloaded.signal.aborted) return;
    try {
      this.#guest = await this.#make();
      this.#instances++;
      this.#logger.log("info", "Recycled a capsule's QuickJS instance", {
        capsule: this.id,
      });
    } catch (err) {
      this.#health = {
        status: "failed",
        reason: `cannot make a fresh instance: ${
          String((err as Error).message)
        }`,
      };
      this.#logger.log("error", "Cannot recycle a capsule", {
        capsule: this.id,
        error: String(err),
      });
    }
  }

  #abortError(action: string, signal: AbortSignal): KernelError {
    if (this.#unloaded.signal.aborted) {
      return new KernelError(
        "CAPSULE_NOT_FOUND",
        `Cannot call '${action}': capsule '${this.id}' was unloaded`,
      );
    }
    return new KernelError(
      "ABORTED",
      `Call of '${this.id}.${action}' was cancelled`,
      {
        cause: signal.reason,
      },
    );
  }
}
