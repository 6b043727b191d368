/**
 * One QuickJS instance running one capsule: its own WebAssembly instance and
 * memory (the compiled module is shared), one runtime, one context, the
 * evaluated capsule module and the invoker of `./_guest_source.ts`.
 *
 * Limits: the memory is created with a hard maximum of the cap plus 1/8
 * headroom, so the guest can never grow past it; the interrupt handler stops
 * the guest (uncatchably) once the memory exceeds the cap, once the call's
 * own running time has used up `limits.timeoutMs` ({@linkcode CallClock}), or
 * once the call's signal fired. Time spent awaiting host calls is not running
 * time: it is bounded apart by `limits.waitTimeoutMs`, a timer on the
 * engine's clock (`./_guest_call.ts`). QuickJS's own `setMemoryLimit` is not used: the prebuilt wasm counts
 * every allocation as 8 bytes (feasibility §5).
 *
 * A host-level exception out of QuickJS (the host stack exhausted by deep
 * native recursion, a wasm trap) leaves the instance in an unknown state: it is
 * marked `broken` and never touched again, only dropped.
 *
 * @module
 */
import type { AgentLineage } from "../../../core/agent_lineage.ts";
import quickjsVariant from "@jitl/quickjs-wasmfile-release-sync";
import {
  type CustomizeVariantOptions,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
} from "quickjs-emscripten-core";
import { KernelError } from "../../../core/errors.ts";
import type { Logger } from "../../../core/ports.ts";
import type { JsonValue } from "../../../store/store.ts";
import { CallClock, DEFAULT_WAIT_TIMEOUT_MS } from "../../call_clock.ts";
import type { EngineLimits, HostCallDispatcher } from "../../engine.ts";
import { runInvoke } from "./_guest_call.ts";
import {
  describeGuestError,
  guestErrorCode,
  stopError,
} from "./_guest_errors.ts";
import type { StopReason } from "./_guest_errors.ts";
import { loadGuestModule } from "./_guest_load.ts";
import { HostBridge } from "./_host_bridge.ts";
import type { GuestPayload } from "./_lazy_fields.ts";

// The package's typings describe its CommonJS entry; Deno loads the ESM one,
// whose default export is the variant itself.
const QUICKJS_VARIANT = quickjsVariant as unknown as QuickJSSyncVariant;
const PAGE = 65_536;
const INITIAL_PAGES = 256;
/** Emscripten's heap never grows past 2 GiB. */
const MAX_PAGES = 32_768;
/**
 * The smallest memory cap the js engine accepts: the QuickJS wasm declares
 * 16 MiB of initial memory.
 *
 * @example Pick a cap the engine accepts
 * ```ts
 * import { MIN_MEMORY_BYTES } from "./_guest_instance.ts";
 * const cap = Math.max(MIN_MEMORY_BYTES, 8 * 1024 * 1024);
 * console.assert(cap === 16 * 1024 * 1024);
 * ```
 */
export const MIN_MEMORY_BYTES: number = INITIAL_PAGES * PAGE;
/** QuickJS's own stack limit; deeper recursion throws a guest `InternalError`. */
const STACK_BYTES = 256 * 1024;

/**
 * Calls `fire` once after `ms` (never synchronously) unless the returned
 * function cancels it first: `Clock.timer`.
 */
export type GuestTimer = (ms: number, fire: () => void) => () => void;

/** What a guest instance is made from. */
export interface GuestOptions {
  readonly capsule: string;
  readonly source: string;
  readonly config: Readonly<Record<string, string>>;
  readonly limits: EngineLimits;
  readonly wasm: WebAssembly.Module;
  readonly host: HostCallDispatcher;
  readonly logger: Logger;
  /** Bounds the time spent awaiting host calls (see {@linkcode GuestTimer}). */
  readonly timer: GuestTimer;
  /** Running-time deadline of the module's evaluation (default `limits.timeoutMs`). */
  readonly loadTimeoutMs?: number;
}

/** One running QuickJS instance; see the module doc. */
export class GuestInstance {
  readonly memory: WebAssembly.Memory;
  readonly capsule: string;
  readonly limits: EngineLimits;
  readonly rt: QuickJSRuntime;
  readonly vm: QuickJSContext;
  readonly bridge: HostBridge;
  readonly timer: GuestTimer;
  readonly #logger: Logger;
  #invoker: QuickJSHandle | undefined;
  #ns: QuickJSHandle | undefined;
  #clock: CallClock | undefined;
  #signal: AbortSignal | undefined;
  #stop: StopReason | undefined;
  #broken = false;
  #disposed = false;

  /**
   * Instantiates QuickJS on a fresh memory and evaluates the capsule module.
   *
   * @throws {KernelError} `CAPSULE_FAILED` when the module does not evaluate,
   *   `CAPSULE_TIMEOUT` / `CAPSULE_MEMORY` when evaluation hits a limit.
   */
  static async create(o: GuestOptions): Promise<GuestInstance> {
    const memory = new WebAssembly.Memory({
      initial: INITIAL_PAGES,
      maximum: Math.min(
        MAX_PAGES,
        Math.ceil((o.limits.memoryBytes * 9) / 8 / PAGE),
      ),
    });
    const log = (stream: string) => (text: string) =>
      o.logger.log("debug", "QuickJS output", { stream, text });
    const quickjs = await newQuickJSWASMModuleFromVariant(
      newVariant(QUICKJS_VARIANT, {
        wasmModule: o.wasm,
        wasmMemory: memory,
        // Emscripten honours print/printErr; the typings omit them.
        emscriptenModule: {
          print: log("stdout"),
          printErr: log("stderr"),
        } as unknown as NonNullable<
          CustomizeVariantOptions["emscriptenModule"]
        >,
      }),
    );
    const guest = new GuestInstance(o, memory, quickjs.newRuntime());
    try {
      guest.#load(o.source, o.config, o.loadTimeoutMs);
    } catch (err) {
      guest.dispose();
      throw err;
    }
    return guest;
  }

  private constructor(
    o: GuestOptions,
    memory: WebAssembly.Memory,
    rt: QuickJSRuntime,
  ) {
    this.memory = memory;
    this.capsule = o.capsule;
    this.limits = o.limits;
    this.timer = o.timer;
    this.#logger = o.logger;
    this.rt = rt;
    rt.setMaxStackSize(STACK_BYTES);
    rt.setInterruptHandler(() => this.#shouldInterrupt());
    this.vm = rt.newContext();
    this.bridge = new HostBridge(this.vm, { host: o.host, logger: o.logger });
  }

  /** Whether the memory has grown past the cap (the instance must be recycled). */
  get overCap(): boolean {
    return this.memory.buffer.byteLength > this.limits.memoryBytes;
  }

  /** Whether a host-level exception left the instance unusable. */
  get broken(): boolean {
    return this.#broken;
  }

  /** The running-time deadline of the current call or evaluation. */
  get deadlineMs(): number {
    return this.#clock?.limits.timeoutMs ?? this.limits.timeoutMs;
  }

  /** Why the guest was last stopped, if it was. */
  get stop(): StopReason | undefined {
    return this.#stop;
  }

  /**
   * Calls the guest's handler for `action`; see `./_guest_call.ts`.
   *
   * @throws {KernelError} `CAPSULE_NOT_FOUND`, `CAPSULE_FAILED`,
   *   `CAPSULE_TIMEOUT`, `CAPSULE_MEMORY`, `ABORTED`.
   */
  call(
    action: string,
    payload: GuestPayload,
    signal: AbortSignal,
    agent?: AgentLineage,
  ): Promise<JsonValue> {
    if (this.#disposed || this.#broken) {
      throw new KernelError(
        "INTERNAL",
        `The instance of capsule '${this.capsule}' is no longer usable`,
      );
    }
    return runInvoke(this, {
      action,
      payload,
      signal,
      ...(agent ? { agent } : {}),
    });
  }

  /**
   * Starts a call (or the module's evaluation) under `signal` and a fresh
   * {@linkcode CallClock}, running.
   *
   * @returns The call's clock: the invoke loop switches it to waiting while
   *   the guest awaits host calls.
   */
  arm(
    signal: AbortSignal | undefined,
    timeoutMs: number = this.limits.timeoutMs,
  ): CallClock {
    this.#stop = undefined;
    this.#signal = signal;
    this.#clock = new CallClock({
      timeoutMs,
      waitTimeoutMs: this.limits.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
    });
    return this.#clock;
  }

  /** Records that the guest was stopped while it awaited host calls. */
  markStopped(reason: StopReason): void {
    this.#stop = reason;
  }

  /** The module namespace and invoker handles. */
  get handles(): { ns: QuickJSHandle; invoker: QuickJSHandle } {
    if (this.#ns === undefined || this.#invoker === undefined) {
      throw new KernelError(
        "INTERNAL",
        `Capsule '${this.capsule}' is not loaded`,
      );
    }
    return { ns: this.#ns, invoker: this.#invoker };
  }

  /**
   * Runs a synchronous VM operation; a host-level exception marks the
   * instance broken and becomes a `KernelError`.
   */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (KernelError.is(err)) throw err;
      this.#broken = true;
      this.#logger.log("warn", "A capsule crashed its QuickJS instance", {
        capsule: this.capsule,
        error: String(err),
      });
      throw stopError(this, this.#stop ?? (this.overCap ? "memory" : "crash"), {
        what,
        detail: String(err).slice(0, 200),
        cause: err,
      });
    }
  }

  /** Turns a guest exception handle (disposed here) into a `KernelError`. */
  failure(error: QuickJSHandle, what: string): KernelError {
    const stop = this.#stop ?? (this.overCap ? "memory" : undefined);
    let guestCode: string | undefined;
    const detail = this.guard(what, () => {
      const text = describeGuestError(this.vm, error);
      guestCode = guestErrorCode(this.vm, error);
      error.dispose();
      return text;
    });
    return stopError(this, stop ?? "threw", {
      what,
      detail,
      ...(guestCode ? { guestCode } : {}),
    });
  }

  /** Frees the instance. Idempotent; a broken instance is only dropped. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.bridge.end(!this.#broken);
    if (this.#broken) return;
    try {
      this.#ns?.dispose();
      this.#invoker?.dispose();
      this.vm.dispose();
      this.rt.dispose();
    } catch (err) {
      this.#logger.log("warn", "Disposing a QuickJS instance failed", {
        capsule: this.capsule,
        error: String(err),
      });
    }
  }

  #shouldInterrupt(): boolean {
    if (this.#stop !== undefined) return true;
    if (this.memory.buffer.byteLength > this.limits.memoryBytes) {
      this.#stop = "memory";
    } else if (this.#clock?.expired() === "timeout") {
      this.#stop = "timeout";
    } else if (this.#signal?.aborted === true) {
      this.#stop = "aborted";
    }
    return this.#stop !== undefined;
  }

  #load(
    source: string,
    config: Readonly<Record<string, string>>,
    timeoutMs: number | undefined,
  ): void {
    this.arm(undefined, timeoutMs);
    const loaded = this.guard(
      "module evaluation",
      () => loadGuestModule(this, source, config),
    );
    this.#invoker = loaded.invoker;
    this.#ns = loaded.ns;
  }
}
