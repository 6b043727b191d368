/**
 * Private: the kernel-thread handle of one plug-in worker. It starts the
 * worker, sends calls, answers the guest's host calls through a callback, and
 * can be terminated at any moment (a running guest is killed with its thread).
 *
 * @module
 */
import type { FromWorker, ToWorker } from "./_protocol.ts";

/**
 * The worker's own Deno permissions: nothing but the two environment
 * variables the Extism SDK reads when it loads. The module arrives as a
 * compiled `WebAssembly.Module` in the init message, so the worker needs no
 * file access; the guest's only way out is `astrid_call`, answered by the
 * kernel thread after the gate. (Needs `--unstable-worker-options`, set in
 * `deno.json`; without it starting a worker fails — closed.)
 */
export const WORKER_PERMISSIONS: {
  readonly env: string[];
  readonly read: false;
  readonly write: false;
  readonly net: false;
  readonly run: false;
  readonly ffi: false;
  readonly sys: false;
  readonly import: false;
} = Object.freeze({
  env: ["EXTISM_ENABLE_WASI_OUTPUT", "__MINIMATCH_TESTING_PLATFORM__"],
  read: false,
  write: false,
  net: false,
  run: false,
  ffi: false,
  sys: false,
  import: false,
});

/** How a call ended, as seen from the kernel thread. */
export type CallOutcome =
  | { readonly ok: true; readonly output: Uint8Array | null }
  | {
    readonly ok: false;
    readonly failure: Extract<FromWorker, { type: "failed" }>;
  }
  | { readonly ok: false; readonly crashed: string };

/** Callbacks of a {@linkcode PluginThread}. */
export interface PluginThreadHooks {
  /** Answers one guest host call; must resolve to the reply envelope text (never reject). */
  readonly onHostCall: (request: string) => Promise<string>;
  /** Receives guest and Extism log lines. */
  readonly onLog: (
    level: "debug" | "info" | "warn" | "error",
    message: string,
  ) => void;
}

/** Options of {@linkcode PluginThread.start}. */
export interface PluginThreadOptions {
  readonly module: WebAssembly.Module;
  readonly config: Readonly<Record<string, string>>;
  readonly hostPages: number;
  /** Instantiation deadline in ms (a start function may loop forever). */
  readonly timeoutMs: number;
}

/** One worker running one plug-in instance. */
export class PluginThread {
  readonly #worker: Worker;
  readonly #hooks: PluginThreadHooks;
  #seq = 0;
  #pending: { id: number; settle: (o: CallOutcome) => void } | undefined;
  #closed = false;
  #crash: ((message: string) => void) | undefined;

  private constructor(worker: Worker, hooks: PluginThreadHooks) {
    this.#worker = worker;
    this.#hooks = hooks;
  }

  /**
   * Starts a worker and instantiates the plug-in in it.
   *
   * @param options Module, config and limits.
   * @param hooks Host-call and log callbacks.
   * @returns The ready thread.
   * @throws {Error} With `name` "TimeoutError" past the deadline, or the
   *   instantiation error's message.
   */
  static async start(
    options: PluginThreadOptions,
    hooks: PluginThreadHooks,
  ): Promise<PluginThread> {
    const worker = new Worker(new URL("./plugin_worker.ts", import.meta.url), {
      type: "module",
      name: "astrid wasm capsule",
      deno: { permissions: WORKER_PERMISSIONS },
    });
    const thread = new PluginThread(worker, hooks);
    const ready = new Promise<void>((resolve, reject) => {
      thread.#crash = (message) => reject(new Error(message));
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const msg = event.data;
        if (msg.type === "ready") resolve();
        else if (msg.type === "init_failed") reject(new Error(msg.message));
        else thread.#onMessage(msg);
      };
    });
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      thread.#crash?.(event.message || "the capsule worker crashed");
    };
    worker.onmessageerror = () => thread.#crash?.("unreadable worker message");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(
          `instantiation took longer than ${options.timeoutMs} ms`,
        );
        err.name = "TimeoutError";
        reject(err);
      }, options.timeoutMs);
    });
    const init: ToWorker = {
      type: "init",
      module: options.module,
      config: options.config,
      hostPages: options.hostPages,
    };
    worker.postMessage(init);
    ready.catch(() => {}); // silent-ok: the race below reports the same rejection
    try {
      await Promise.race([ready, deadline]);
    } catch (err) {
      thread.terminate();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    worker.onmessage = (event: MessageEvent<FromWorker>) =>
      thread.#onMessage(event.data);
    thread.#crash = (message) =>
      thread.#settle({ ok: false, crashed: message });
    return thread;
  }

  /**
   * Runs one export. Only one call may be in flight (the caller serialises).
   *
   * @param action The export name.
   * @param input The input bytes (moved to the worker).
   * @returns How the call ended; never rejects.
   */
  call(action: string, input: Uint8Array<ArrayBuffer>): Promise<CallOutcome> {
    if (this.#closed) {
      return Promise.resolve({ ok: false, crashed: "the worker is closed" });
    }
    if (this.#pending) throw new Error("PluginThread: one call at a time");
    const id = ++this.#seq;
    return new Promise<CallOutcome>((settle) => {
      this.#pending = { id, settle };
      const msg: ToWorker = { type: "call", id, action, input };
      this.#worker.postMessage(msg, [input.buffer]);
    });
  }

  /** Kills the worker (and any running guest) at once. Idempotent. */
  terminate(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    this.#settle({ ok: false, crashed: "the worker was terminated" });
  }

  #settle(outcome: CallOutcome): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.settle(outcome);
  }

  #onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case "result":
        if (this.#pending?.id === msg.id) {
          this.#settle({ ok: true, output: msg.output });
        }
        break;
      case "failed":
        if (this.#pending?.id === msg.id) {
          this.#settle({ ok: false, failure: msg });
        }
        break;
      case "host":
        this.#hooks.onHostCall(msg.request).then((reply) => {
          if (this.#closed) return; // silent-ok: the guest is gone
          const out: ToWorker = { type: "host_reply", id: msg.id, reply };
          this.#worker.postMessage(out);
        });
        break;
      case "log":
        this.#hooks.onLog(msg.level, msg.message);
        break;
      default:
        break;
    }
  }
}
