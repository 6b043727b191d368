/**
 * Private: the kernel-thread handle of one plug-in hosted on a pool Worker
 * (`_worker_pool.ts`). It adds the plug-in to a Worker, sends calls, reports
 * when the guest runs, answers the guest's host calls through a callback,
 * and can drop the plug-in ({@linkcode PluginThread.close}) or stop its
 * whole Worker at any moment ({@linkcode PluginThread.kill}: a running guest
 * dies with the thread, and so does every other plug-in on it).
 *
 * @module
 */
import type { FromWorker, ToWorker } from "./_protocol.ts";
import type { PoolMember, PoolWorker, WorkerPool } from "./_worker_pool.ts";

export { WORKER_PERMISSIONS } from "./_worker_pool.ts";

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
  /** The current call's guest starts running or resumes after a host call. */
  readonly onRun: () => void;
  /** The Worker died under this plug-in while it was idle or busy. */
  readonly onLost: (reason: string) => void;
  /** Receives guest and Extism log lines. */
  readonly onLog: (
    level: "debug" | "info" | "warn" | "error",
    message: string,
  ) => void;
}

/** Options of {@linkcode PluginThread.start}. */
export interface PluginThreadOptions {
  readonly pool: WorkerPool;
  /** Ask for a Worker of its own (quarantine). */
  readonly dedicated: boolean;
  readonly module: WebAssembly.Module;
  readonly config: Readonly<Record<string, string>>;
  readonly hostPages: number;
  /** Instantiation deadline in ms (a start function may loop forever). */
  readonly timeoutMs: number;
  /** Names the capsule in the reason its neighbours get if it hangs. */
  readonly label: string;
}

/** One plug-in instance on a pool Worker. */
export class PluginThread implements PoolMember {
  readonly #worker: PoolWorker;
  readonly #pid: number;
  readonly #hooks: PluginThreadHooks;
  #seq = 0;
  #pending: { id: number; settle: (o: CallOutcome) => void } | undefined;
  #hostWaiting = 0;
  #closed = false;
  #ready: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(
    worker: PoolWorker,
    pid: number,
    hooks: PluginThreadHooks,
  ) {
    this.#worker = worker;
    this.#pid = pid;
    this.#hooks = hooks;
  }

  /**
   * Places the plug-in on a pool Worker and instantiates it there.
   *
   * @param options Pool, module, config and limits.
   * @param hooks Host-call, run, loss and log callbacks.
   * @returns The ready thread.
   * @throws {Error} With `name` "TimeoutError" past the deadline (the Worker
   *   is then stopped, with its other plug-ins), or the instantiation
   *   error's message.
   */
  static async start(
    options: PluginThreadOptions,
    hooks: PluginThreadHooks,
  ): Promise<PluginThread> {
    const worker = options.pool.place(options.dedicated);
    const pid = options.pool.nextPid();
    const thread = new PluginThread(worker, pid, hooks);
    worker.join(pid, thread);
    const ready = new Promise<void>((resolve, reject) => {
      thread.#ready = { resolve, reject };
    });
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
      type: "add",
      pid,
      module: options.module,
      config: options.config,
      hostPages: options.hostPages,
    };
    worker.post(init);
    ready.catch(() => {}); // silent-ok: the race below reports the same rejection
    try {
      await Promise.race([ready, deadline]);
    } catch (err) {
      if ((err as Error).name === "TimeoutError") {
        // A start function that never returns holds the Worker's thread.
        thread.#closed = true;
        worker.kill(
          `${options.label} hung while instantiating on the same worker`,
        );
      } else thread.close();
      throw err;
    } finally {
      clearTimeout(timer);
      thread.#ready = undefined;
    }
    return thread;
  }

  /** True while the current call's guest is suspended in a host call whose reply was not sent. */
  get suspended(): boolean {
    return this.#hostWaiting > 0;
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
    this.#hostWaiting = 0;
    return new Promise<CallOutcome>((settle) => {
      this.#pending = { id, settle };
      const msg: ToWorker = { type: "call", pid: this.#pid, id, action, input };
      this.#worker.post(msg, [input.buffer]);
    });
  }

  /**
   * Drops this plug-in from its Worker; the neighbours keep running. Only
   * safe while the guest is not running (idle, or {@linkcode suspended}):
   * a suspended guest is never resumed. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.leave(this.#pid);
    this.#settle({ ok: false, crashed: "the plug-in was closed" });
  }

  /**
   * Terminates this plug-in's Worker at once: a running guest dies, and so
   * does every other plug-in on the Worker (each is told `reason`).
   *
   * @param reason What the neighbours report.
   */
  kill(reason: string): void {
    this.#closed = true;
    this.#worker.kill(reason);
    this.#settle({ ok: false, crashed: "the worker was terminated" });
  }

  /** @inheritdoc */
  lost(reason: string): void {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#ready?.reject(new Error(reason));
    this.#settle({ ok: false, crashed: reason });
    if (!wasClosed) this.#hooks.onLost(reason);
  }

  #settle(outcome: CallOutcome): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.settle(outcome);
  }

  /** @inheritdoc */
  receive(msg: FromWorker): void {
    switch (msg.type) {
      case "ready":
        this.#ready?.resolve();
        break;
      case "init_failed":
        this.#ready?.reject(new Error(msg.message));
        break;
      case "run":
        if (this.#pending?.id === msg.id) this.#hooks.onRun();
        break;
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
      case "host": {
        this.#hostWaiting++;
        this.#hooks.onHostCall(msg.request).then((reply) => {
          if (this.#closed) return; // silent-ok: the guest is gone
          this.#hostWaiting--;
          const out: ToWorker = {
            type: "host_reply",
            pid: this.#pid,
            id: msg.id,
            reply,
          };
          this.#worker.post(out);
        });
        break;
      }
      case "log":
        this.#hooks.onLog(msg.level, msg.message);
        break;
      default:
        break;
    }
  }
}
