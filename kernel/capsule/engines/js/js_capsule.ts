/**
 * A loaded `js` capsule: a pool of up to `instances` QuickJS instances
 * (`[[component]] instances`, default 1), health, recycling and unload.
 *
 * Each instance runs one call at a time. A call takes a free instance, else
 * a new one is made while fewer than `instances` exist, else the call waits
 * its turn (arrival order). With one instance calls are serialised in arrival
 * order; with more, calls that wait on the host (a bus request, a model)
 * overlap, so a capsule can re-enter itself through the host (an interceptor
 * whose request passes its own interceptor again, a nested turn). Every
 * instance has its own module-level state, memory cap and deadline (the
 * guest's own running time).
 *
 * Recycling: after a memory stop (wasm memory never shrinks) or a crash of the
 * interpreter, that instance is dropped and a fresh one is made from the same
 * artifact before the failed call returns. Its module-level state is lost
 * then; a timeout or a cancellation keeps the instance (QuickJS stays usable
 * after an interrupt).
 *
 * @module
 */
import type { AgentLineage } from "../../../core/agent_lineage.ts";
import { linkSignals } from "../../../core/linked_signal.ts";
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import type { Logger } from "../../../core/ports.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { Capsule, CapsuleHealth, InvokeOptions } from "../../engine.ts";
import { MAX_COMPONENT_INSTANCES } from "../../manifest/manifest_types.ts";
import type { GuestInstance } from "./_guest_instance.ts";
import { InstancePool } from "./_instance_pool.ts";
import { type GuestPayload, splitPayload } from "./_lazy_fields.ts";

/** Counters of one js capsule, for tests, health checks and benchmarks. */
export interface JsCapsuleStats {
  /** How many QuickJS instances were made (the first, growth, recycles). */
  readonly instances: number;
  /** Instances alive now (running a call or free). */
  readonly live: number;
  /** Calls waiting for a free instance. */
  readonly queued: number;
  /** Bytes of wasm memory of all instances alive, summed (0 when none). */
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
  /** The most instances that run calls at once. */
  readonly maxInstances: number;
  readonly #pool: InstancePool<GuestInstance>;
  readonly #logger: Logger;
  readonly #unloaded = new AbortController();
  readonly #calls = new Set<Promise<unknown>>();
  #health: CapsuleHealth = { status: "ok" };
  #stops = 0;

  /**
   * Wraps a first instance; use the engine's `load()` instead.
   *
   * @param id The capsule's id.
   * @param parts The loaded instance (`first`), a maker of fresh instances
   *   from the same artifact (`make`, for growth and recycling), the logger,
   *   and `instances`: how many may run calls at once (default 1).
   * @throws {RangeError} When `instances` is not an integer from 1 to 16.
   */
  constructor(
    id: CapsuleId,
    parts: {
      first: GuestInstance;
      make: () => Promise<GuestInstance>;
      logger: Logger;
      instances?: number;
    },
  ) {
    const max = parts.instances ?? 1;
    if (
      !Number.isSafeInteger(max) || max < 1 || max > MAX_COMPONENT_INSTANCES
    ) {
      throw new RangeError(
        `Cannot load capsule '${id}': instances must be an integer from 1 to ${MAX_COMPONENT_INSTANCES}, got ${max}`,
      );
    }
    this.id = id;
    this.maxInstances = max;
    this.#logger = parts.logger;
    this.#pool = new InstancePool(parts.first, {
      max,
      make: parts.make,
      dispose: (guest) => guest.dispose(),
      onMakeFailed: (err, live) => this.#makeFailed(err, live),
      unavailable: () =>
        new KernelError(
          "CAPSULE_FAILED",
          `Capsule '${this.id}' has no running instance (${
            this.#health.status === "ok" ? "unknown" : this.#health.reason
          })`,
        ),
    });
  }

  /**
   * Calls action `action` with a JSON payload. A call runs on a free
   * instance, else on a new one while fewer than `instances` exist, else it
   * waits its turn (arrival order); the deadline starts when it starts
   * running.
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
    options: InvokeOptions = {},
  ): Promise<JsonValue> {
    if (typeof action !== "string") {
      return Promise.reject(new TypeError("The action must be a string"));
    }
    let sent: GuestPayload;
    try {
      sent = splitPayload(payload);
    } catch (err) {
      return Promise.reject(
        new TypeError(`Cannot send the payload of '${action}': ${String(err)}`),
      );
    }
    const linked = linkSignals([options.signal, this.#unloaded.signal]);
    const call = this.#call(action, sent, linked.signal, options.agent);
    const settled = call.then(noop, noop); // silent-ok: the caller gets `call` itself
    this.#calls.add(settled);
    settled.then(() => {
      linked.unlink();
      this.#calls.delete(settled);
    });
    return call;
  }

  /**
   * Current health: `ok`; `degraded` after a stopped call until a call
   * succeeds; `failed` when unloaded or when a fresh instance cannot be made
   * and none is left.
   *
   * @returns The health.
   */
  health(): CapsuleHealth {
    return this.#health;
  }

  /**
   * Counters of this capsule.
   *
   * @returns Instances made and alive, queued calls, the memory of all
   *   instances alive, stops.
   */
  stats(): JsCapsuleStats {
    const live = this.#pool.live;
    return {
      instances: this.#pool.made,
      live: live.length,
      queued: this.#pool.queued,
      memoryBytes: live.reduce((n, g) => n + g.memory.buffer.byteLength, 0),
      stops: this.#stops,
    };
  }

  /**
   * Stops the capsule: cancels the running calls and their pending host
   * calls, refuses queued and later calls (`CAPSULE_NOT_FOUND`), frees every
   * instance. Idempotent.
   *
   * @returns When the instances are freed.
   */
  async unload(): Promise<void> {
    if (this.#unloaded.signal.aborted) return;
    const reason = new KernelError(
      "CAPSULE_NOT_FOUND",
      `Capsule '${this.id}' was unloaded`,
    );
    this.#unloaded.abort(reason);
    while (this.#calls.size > 0) await Promise.all(this.#calls);
    this.#pool.close(reason);
    this.#health = { status: "failed", reason: "unloaded" };
  }

  async #call(
    action: string,
    payload: GuestPayload,
    signal: AbortSignal,
    agent: AgentLineage | undefined,
  ): Promise<JsonValue> {
    const aborted = () => this.#abortError(action, signal);
    const guest = await this.#pool.acquire(signal, aborted);
    if (signal.aborted) {
      this.#pool.release(guest);
      throw aborted();
    }
    let recycled = false;
    try {
      const value = await guest.call(action, payload, signal, agent);
      this.#health = { status: "ok" };
      return value;
    } catch (err) {
      // A cancelled call (by its caller or by unload) ends as cancelled.
      const cancelled = signal.aborted && KernelError.is(err, "ABORTED");
      if (
        !cancelled &&
        (guest.stop !== undefined && guest.stop !== "aborted" || guest.broken)
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
      // Unload frees every instance anyway: no fresh one then.
      if (
        (guest.broken || guest.overCap) && !this.#unloaded.signal.aborted
      ) {
        recycled = true;
        await this.#recycle(guest);
      }
      throw cancelled ? aborted() : err;
    } finally {
      if (!recycled) this.#pool.release(guest);
    }
  }

  async #recycle(old: GuestInstance): Promise<void> {
    const made = this.#pool.made;
    await this.#pool.recycle(old);
    if (this.#pool.made > made) {
      this.#logger.log("info", "Recycled a capsule's QuickJS instance", {
        capsule: this.id,
      });
    }
  }

  #makeFailed(err: unknown, live: number): void {
    const reason = `cannot make a fresh instance: ${
      String((err as Error).message)
    }`;
    this.#health = { status: live === 0 ? "failed" : "degraded", reason };
    this.#logger.log("error", "Cannot make a capsule instance", {
      capsule: this.id,
      live,
      error: String(err),
    });
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
