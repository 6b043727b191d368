/**
 * Private: one loaded wasm capsule: its plug-in on a pool Worker, the queue
 * that serialises calls into it, the deadline of each call, and the mapping
 * of guest failures to kernel error codes.
 *
 * The deadline counts the guest's own running time ({@linkcode CallClock}):
 * the clock runs only between the Worker's `run` message (the guest starts
 * or resumes) and the guest's next host call or its end. While the guest is
 * blocked in a host call (the kernel's gate, the bus, a model, a human), and
 * while its call waits on the shared Worker behind a neighbour's guest, the
 * clock counts waiting instead, bounded apart by `limits.waitTimeoutMs`. One
 * timer is re-armed at every switch. When it fires while the guest runs (or
 * is queued on the Worker), the Worker is terminated — its other plug-ins
 * are lost and restart on a fresh Worker — and, with `quarantine`, the
 * capsule restarts on a Worker of its own. When it fires while the guest is
 * suspended in a host call (wait timeout, cancellation), only this plug-in
 * is dropped: the guest cannot run again, the neighbours are not touched.
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import type { Logger } from "../../../core/ports.ts";
import type { JsonValue } from "../../../store/store.ts";
import type {
  Capsule,
  CapsuleHealth,
  EngineLimits,
  HostCallDispatcher,
} from "../../engine.ts";
import { CallClock, DEFAULT_WAIT_TIMEOUT_MS } from "../../call_clock.ts";
import { CallQueue } from "./_call_queue.ts";
import { type CallOutcome, PluginThread } from "./_plugin_thread.ts";
import type { WorkerPool } from "./_worker_pool.ts";
import {
  answerHostCall,
  errorEnvelope,
  MAX_HOST_REQUEST_BYTES,
} from "./guest_abi.ts";

const MAX_GUEST_MESSAGE = 1024;

/** What {@linkcode WasmCapsule.start} needs. */
export interface WasmCapsuleOptions {
  readonly id: CapsuleId;
  /** The compiled module, memory already capped. */
  readonly module: WebAssembly.Module;
  readonly host: HostCallDispatcher;
  readonly limits: EngineLimits;
  readonly config: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Instantiation deadline in ms (also for restarts). */
  readonly startTimeoutMs: number;
  /** The engine's Workers. */
  readonly pool: WorkerPool;
  /** After its first running-time timeout, the capsule gets a Worker of its own. */
  readonly quarantine: boolean;
}

const OK: CapsuleHealth = Object.freeze({ status: "ok" });

/** A running wasm capsule (see the module doc of `mod.ts` for the design). */
export class WasmCapsule implements Capsule {
  readonly id: CapsuleId;
  readonly #options: WasmCapsuleOptions;
  readonly #actions: ReadonlySet<string>;
  readonly #queue = new CallQueue();
  #thread: PluginThread | undefined;
  #restarting: Promise<void> | undefined;
  #current: CurrentCall | undefined;
  #health: CapsuleHealth = OK;
  #unloaded = false;
  #quarantined = false;

  private constructor(options: WasmCapsuleOptions) {
    this.id = options.id;
    this.#options = options;
    this.#actions = new Set(
      WebAssembly.Module.exports(options.module)
        .filter((e) => e.kind === "function" && !e.name.startsWith("_"))
        .map((e) => e.name),
    );
  }

  /**
   * Starts the capsule's worker and instantiates the plug-in.
   *
   * @param options The compiled module, dispatcher, limits, config, logger.
   * @returns The running capsule.
   * @throws {KernelError} `CAPSULE_TIMEOUT` when instantiation does not finish
   *   in `startTimeoutMs`; `CAPSULE_FAILED` when
   *   it fails (missing import, trapping start function).
   */
  static async start(options: WasmCapsuleOptions): Promise<WasmCapsule> {
    const capsule = new WasmCapsule(options);
    capsule.#thread = await capsule.#spawn();
    return capsule;
  }

  /** The callable actions (exported functions not starting with `_`). */
  get actions(): readonly string[] {
    return [...this.#actions].sort();
  }

  /** @inheritdoc */
  async invoke(
    action: string,
    payload: JsonValue,
    options: { signal?: AbortSignal } = {},
  ): Promise<JsonValue> {
    if (this.#unloaded) {
      throw new KernelError(
        "CAPSULE_NOT_FOUND",
        `Capsule '${this.id}' is unloaded`,
      );
    }
    if (!this.#actions.has(action)) {
      throw new KernelError(
        "CAPSULE_NOT_FOUND",
        `Capsule '${this.id}' has no action '${action}' (it exports: ${
          this.actions.join(", ") || "nothing"
        })`,
      );
    }
    let text: string;
    try {
      text = JSON.stringify(payload ?? null);
    } catch (err) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot invoke '${this.id}.${action}': the payload is not JSON (${
          (err as Error).message
        })`,
        { cause: err },
      );
    }
    const input = new TextEncoder().encode(text);
    if (input.length > MAX_HOST_REQUEST_BYTES) {
      throw new KernelError(
        "ABI_PAYLOAD_TOO_LARGE",
        `Cannot invoke '${this.id}.${action}': the payload has ${input.length} bytes, above the limit of ${MAX_HOST_REQUEST_BYTES}`,
      );
    }
    return await this.#queue.run(
      () => this.#run(action, input, options.signal),
      options.signal,
    );
  }

  /** @inheritdoc */
  health(): CapsuleHealth {
    return this.#health;
  }

  /** @inheritdoc */
  unload(): Promise<void> {
    if (this.#unloaded) return Promise.resolve();
    this.#unloaded = true;
    this.#health = { status: "failed", reason: "unloaded" };
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread) {
      if (this.#current && !thread.suspended) {
        thread.kill(
          `the worker was stopped to unload capsule '${this.id}' while it ran; restarting on a fresh worker`,
        );
      } else thread.close();
    }
    this.#current?.abort.abort(new Error("capsule unloaded"));
    this.#queue.rejectWaiting(
      new KernelError("ABORTED", `Capsule '${this.id}' was unloaded`),
    );
    return this.#restarting ?? Promise.resolve();
  }

  #spawn(): Promise<PluginThread> {
    const { module, config, limits, host, logger, startTimeoutMs } =
      this.#options;
    let self: PluginThread | undefined;
    return PluginThread.start({
      pool: this.#options.pool,
      dedicated: this.#quarantined,
      label: `capsule '${this.id}'`,
      module,
      config,
      hostPages: Math.max(1, Math.floor(limits.memoryBytes / 65_536)),
      timeoutMs: startTimeoutMs,
    }, {
      onRun: () => this.#current?.switchTo("run"),
      onLost: (reason) => {
        if (self) this.#recycle(reason, self, "close");
      },
      onHostCall: async (request) => {
        const call = this.#current;
        if (!call) {
          return errorEnvelope(
            new KernelError("ABORTED", "Host call outside of an invoke"),
          );
        }
        // Running again only once the Worker says so (`onRun`): the guest
        // may resume behind a neighbour's.
        call.switchTo("wait");
        return await answerHostCall(request, host, {
          signal: call.abort.signal,
        });
      },
      onLog: (level, message) =>
        logger.log(level, message, { source: "guest" }),
    }).then((thread) => {
      self = thread;
      return thread;
    }, (err: unknown) => {
      const timeout = err instanceof Error && err.name === "TimeoutError";
      throw new KernelError(
        timeout ? "CAPSULE_TIMEOUT" : "CAPSULE_FAILED",
        `Cannot instantiate capsule '${this.id}': ${
          err instanceof Error ? err.message : String(err)
        }`,
        { cause: err },
      );
    });
  }

  /**
   * Ends `from` (if it is still the current plug-in) and starts a fresh one
   * in the background: `kill` stops its whole Worker (the guest may be
   * running), `close` drops only this plug-in (idle, suspended, or already
   * lost with its Worker).
   */
  #recycle(reason: string, from: PluginThread, how: "kill" | "close"): void {
    if (from !== this.#thread) return;
    this.#thread = undefined;
    if (how === "kill") {
      from.kill(
        `the shared wasm worker was stopped because capsule '${this.id}' ${
          reason === "restarting after a timeout"
            ? "ran past its deadline"
            : "had to be stopped while it ran"
        }; restarting on a fresh worker`,
      );
    } else from.close();
    if (this.#unloaded) return;
    this.#health = { status: "degraded", reason };
    this.#restarting = this.#spawn().then(
      (thread) => {
        if (this.#unloaded) thread.close();
        else {
          this.#thread = thread;
          this.#health = OK;
        }
      },
      (err: unknown) => {
        this.#health = {
          status: "failed",
          reason: `restart failed: ${(err as Error).message}`,
        };
        this.#options.logger.log("error", "wasm capsule restart failed", {
          error: (err as Error).message,
        });
      },
    ).finally(() => {
      this.#restarting = undefined;
    });
  }

  async #run(
    action: string,
    input: Uint8Array<ArrayBuffer>,
    signal: AbortSignal | undefined,
  ): Promise<JsonValue> {
    if (this.#restarting) await this.#restarting;
    const thread = this.#thread;
    if (this.#unloaded) {
      throw new KernelError("ABORTED", `Capsule '${this.id}' was unloaded`);
    }
    if (!thread) {
      throw new KernelError(
        "CAPSULE_FAILED",
        `Capsule '${this.id}' is not running (${
          this.#health.status === "ok" ? "stopped" : this.#health.reason
        })`,
      );
    }
    if (signal?.aborted) {
      throw new KernelError("ABORTED", `Cancelled '${this.id}.${action}'`, {
        cause: signal.reason,
      });
    }
    const { timeoutMs, waitTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS } =
      this.#options.limits;
    let onAbort: (() => void) | undefined;
    let fire!: (why: "timeout" | "wait_timeout" | "aborted") => void;
    const stop = new Promise<"timeout" | "wait_timeout" | "aborted">((r) => {
      fire = r;
    });
    const call = new CurrentCall(
      new CallClock({ timeoutMs, waitTimeoutMs }),
      (why) => fire(why),
    );
    // Queued on the Worker until it reports `run` (a neighbour may be running).
    call.switchTo("wait");
    this.#current = call;
    onAbort = () => fire("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const outcome = await Promise.race([thread.call(action, input), stop]);
      if (typeof outcome === "string") {
        // A guest suspended in a host call cannot run again once its plug-in
        // is dropped (the reply is never sent): its neighbours are spared.
        // Otherwise it may be running: only stopping the Worker stops it.
        const how = outcome !== "timeout" && thread.suspended
          ? "close"
          : "kill";
        if (outcome === "timeout" && this.#options.quarantine) {
          this.#quarantined = true;
        }
        this.#recycle(
          outcome === "aborted"
            ? "restarting after a cancelled call"
            : outcome === "timeout"
            ? "restarting after a timeout"
            : "restarting after a wait timeout",
          thread,
          how,
        );
        call.abort.abort(new Error(outcome));
        throw outcome === "timeout"
          ? new KernelError(
            "CAPSULE_TIMEOUT",
            `Capsule '${this.id}' action '${action}' ran past its deadline of ${timeoutMs} ms of running time and was stopped`,
            {
              data: {
                capsule: this.id,
                action,
                reason: outcome,
                timeout_ms: timeoutMs,
              },
            },
          )
          : outcome === "wait_timeout"
          ? new KernelError(
            "CAPSULE_TIMEOUT",
            `Capsule '${this.id}' action '${action}' waited longer than ${waitTimeoutMs} ms in all for the kernel (host calls) and was stopped`,
            {
              data: {
                capsule: this.id,
                action,
                reason: outcome,
                wait_timeout_ms: waitTimeoutMs,
              },
            },
          )
          : new KernelError("ABORTED", `Cancelled '${this.id}.${action}'`, {
            cause: signal?.reason,
          });
      }
      return this.#settle(action, outcome, thread);
    } finally {
      call.end();
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      onAbort = undefined;
      call.abort.abort(new Error("invoke finished")); // ends any stray host call
      this.#current = undefined;
    }
  }

  #settle(
    action: string,
    outcome: CallOutcome,
    thread: PluginThread,
  ): JsonValue {
    const where = `Capsule '${this.id}' action '${action}'`;
    if (outcome.ok) return decodeOutput(where, outcome.output);
    if ("crashed" in outcome) {
      if (this.#unloaded) {
        throw new KernelError(
          "ABORTED",
          `${where} was stopped: capsule unloaded`,
        );
      }
      this.#recycle("restarting after a crash", thread, "close");
      throw new KernelError(
        "CAPSULE_FAILED",
        `${where} crashed: ${outcome.crashed}`,
      );
    }
    const f = outcome.failure;
    const message = f.message.slice(0, MAX_GUEST_MESSAGE);
    if (f.kind === "guest") {
      throw new KernelError("CAPSULE_FAILED", `${where} failed: ${message}`, {
        data: { capsule: this.id, action },
      });
    }
    if (f.kind === "missing") {
      throw new KernelError("CAPSULE_NOT_FOUND", `${where} does not exist`);
    }
    const cap = this.#options.limits.memoryBytes;
    if (f.hostMemoryExceeded || nearCap(f.memoryBytes, cap)) {
      throw new KernelError(
        "CAPSULE_MEMORY",
        `${where} ran out of memory at the cap of ${cap} bytes and was stopped (${message})`,
        {
          data: {
            capsule: this.id,
            action,
            memory_bytes: f.memoryBytes,
            cap_bytes: cap,
          },
        },
      );
    }
    throw new KernelError("CAPSULE_FAILED", `${where} trapped: ${message}`, {
      data: { capsule: this.id, action },
    });
  }
}

/** The call in flight: its cancellation, its clock and the one timer. */
class CurrentCall {
  readonly abort = new AbortController();
  readonly #clock: CallClock;
  readonly #onExpire: (why: "timeout" | "wait_timeout") => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    clock: CallClock,
    onExpire: (why: "timeout" | "wait_timeout") => void,
  ) {
    this.#clock = clock;
    this.#onExpire = onExpire;
    this.#arm();
  }

  /** The guest runs again, or blocks on the kernel; re-arms the timer. */
  switchTo(phase: "run" | "wait"): void {
    if (phase === "run") this.#clock.run();
    else this.#clock.wait();
    this.#arm();
  }

  /** Stops the timer. */
  end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const why = this.#clock.expired();
      if (why === undefined) this.#arm();
      else this.#onExpire(why);
    }, this.#clock.msLeft());
  }
}

/**
 * A trap counts as "out of memory" when the guest's memory is within an eighth
 * of the cap: an allocator traps when `memory.grow` returns -1, which only
 * happens near the cap (the module's maximum is the cap, see capMemory).
 */
function nearCap(memoryBytes: number | null, cap: number): boolean {
  if (memoryBytes === null) return false;
  return memoryBytes >= cap - Math.max(65_536, Math.floor(cap / 8));
}

function decodeOutput(where: string, output: Uint8Array | null): JsonValue {
  if (output === null || output.length === 0) return null;
  if (output.length > MAX_HOST_REQUEST_BYTES) {
    throw new KernelError(
      "CAPSULE_FAILED",
      `${where} returned ${output.length} bytes, above the limit of ${MAX_HOST_REQUEST_BYTES}`,
    );
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(output));
  } catch (err) {
    throw new KernelError(
      "CAPSULE_FAILED",
      `${where} returned output that is not UTF-8 JSON (${output.length} bytes)`,
      { cause: err },
    );
  }
}
