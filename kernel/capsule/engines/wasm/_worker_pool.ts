/**
 * Private: the small pool of Workers that host the wasm plug-ins. A capsule
 * does not get a Worker of its own (a Worker is a V8 isolate plus the Extism
 * SDK, ≈ 14 MB resident); the pool keeps at most `size` shared Workers and
 * places each new plug-in on the one with the fewest plug-ins (starting a new
 * Worker while there are fewer than `size`). A Worker with no plug-in left is
 * terminated, so an idle engine holds no thread.
 *
 * A guest that runs past its deadline cannot be interrupted inside its
 * Worker, so the kernel terminates the whole Worker
 * ({@linkcode PoolWorker.kill}): every plug-in on it is lost, their in-flight
 * calls fail, and their capsules re-instantiate on a fresh Worker. A capsule
 * that has once run past its deadline asks for a *dedicated* Worker from then
 * on (quarantine), so that it can no longer take neighbours down with it.
 *
 * @module
 */
import type { FromWorker, ToWorker } from "./_protocol.ts";

/**
 * The module every wasm engine Worker runs. Starting it needs read access to
 * this file when the kernel runs from local files (the daemon's flags grant
 * exactly this file: `kernel/daemon/deno_flags.ts`).
 */
export const PLUGIN_WORKER_URL: URL = new URL(
  "./plugin_worker.ts",
  import.meta.url,
);

/**
 * The Workers' own Deno permissions: nothing but the two environment
 * variables the Extism SDK reads when it loads. Modules arrive as compiled
 * `WebAssembly.Module`s in messages, so a Worker needs no file access; a
 * guest's only way out is `astrid_call`, answered by the kernel thread after
 * the gate. (Needs `--unstable-worker-options`, set in `deno.json`; without
 * it starting a worker fails — closed.)
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

/** What a Worker tells the plug-ins it hosts. */
export interface PoolMember {
  /** A message for this plug-in arrived. */
  receive(msg: FromWorker): void;
  /** The Worker died (terminated or crashed); the plug-in is gone. */
  lost(reason: string): void;
}

/** One Worker hosting several plug-ins. */
export class PoolWorker {
  readonly dedicated: boolean;
  readonly #worker: Worker;
  readonly #members = new Map<number, PoolMember>();
  readonly #onEmpty: (w: PoolWorker) => void;
  #dead = false;

  constructor(dedicated: boolean, onEmpty: (w: PoolWorker) => void) {
    this.dedicated = dedicated;
    this.#onEmpty = onEmpty;
    this.#worker = new Worker(
      PLUGIN_WORKER_URL,
      {
        type: "module",
        name: dedicated ? "astrid wasm (dedicated)" : "astrid wasm pool",
        deno: { permissions: WORKER_PERMISSIONS },
      },
    );
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#members.get(event.data.pid)?.receive(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.kill(event.message || "the wasm worker crashed");
    };
    this.#worker.onmessageerror = () => this.kill("unreadable worker message");
  }

  /** Plug-ins hosted (or being added). */
  get size(): number {
    return this.#members.size;
  }

  /** False once terminated. */
  get alive(): boolean {
    return !this.#dead;
  }

  /** Registers a plug-in under `pid`. */
  join(pid: number, member: PoolMember): void {
    this.#members.set(pid, member);
  }

  /** Drops one plug-in; the Worker ends when none is left. */
  leave(pid: number): void {
    if (!this.#members.delete(pid) || this.#dead) return;
    this.post({ type: "drop", pid });
    if (this.#members.size === 0) {
      this.#dead = true;
      this.#worker.terminate();
      this.#onEmpty(this);
    }
  }

  /** Sends one message (no-op once dead). */
  post(msg: ToWorker, transfer: Transferable[] = []): void {
    if (!this.#dead) this.#worker.postMessage(msg, transfer);
  }

  /**
   * Terminates the Worker at once — any running guest dies with it — and
   * tells every plug-in it hosted that it is lost. Idempotent.
   *
   * @param reason Why, as the hosted capsules will report it.
   */
  kill(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#worker.terminate();
    this.#onEmpty(this);
    const members = [...this.#members.values()];
    this.#members.clear();
    for (const m of members) m.lost(reason);
  }
}

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Shared Workers at most (≥ 1). */
  readonly size: number;
}

/** The shared Workers of one wasm engine. */
export class WorkerPool {
  readonly size: number;
  readonly #shared = new Set<PoolWorker>();
  #nextPid = 0;

  constructor(options: WorkerPoolOptions) {
    if (!(Number.isInteger(options.size) && options.size >= 1)) {
      throw new RangeError(
        `the wasm worker pool size must be a positive integer, got ${options.size}`,
      );
    }
    this.size = options.size;
  }

  /** Shared Workers alive now (dedicated ones not counted). */
  get workers(): number {
    return this.#shared.size;
  }

  /** A fresh plug-in id (unique within the pool). */
  nextPid(): number {
    return ++this.#nextPid;
  }

  /**
   * Where a new plug-in goes: a Worker of its own when `dedicated`, else a
   * new shared Worker while there are fewer than `size`, else the shared
   * Worker with the fewest plug-ins.
   */
  place(dedicated: boolean): PoolWorker {
    if (dedicated) return new PoolWorker(true, () => {});
    let best: PoolWorker | undefined;
    for (const w of this.#shared) {
      if (!w.alive) continue;
      if (!best || w.size < best.size) best = w;
    }
    if (best && (this.#shared.size >= this.size || best.size === 0)) {
      return best;
    }
    const w = new PoolWorker(false, (dead) => this.#shared.delete(dead));
    this.#shared.add(w);
    return w;
  }
}
