/**
 * Private: the messages between the kernel thread and one pool worker
 * (`plugin_worker.ts`), which hosts several plug-ins, each under its own
 * `pid`. Everything crossing is structured-cloneable; the compiled
 * `WebAssembly.Module` is shared, not recompiled.
 *
 * @module
 */

/** Options the worker needs to instantiate one plug-in. */
export interface WorkerInit {
  readonly type: "add";
  /** The plug-in's id on this worker. */
  readonly pid: number;
  /** The compiled, memory-capped module. */
  readonly module: WebAssembly.Module;
  /** Read-only config the guest reads with `config_get`. */
  readonly config: Readonly<Record<string, string>>;
  /** Cap of Extism's host-side blocks (input, output, host-call results), in pages. */
  readonly hostPages: number;
}

/** Kernel → worker. */
export type ToWorker =
  | WorkerInit
  | { readonly type: "drop"; readonly pid: number }
  | {
    readonly type: "call";
    readonly pid: number;
    readonly id: number;
    readonly action: string;
    readonly input: Uint8Array;
  }
  | {
    readonly type: "host_reply";
    readonly pid: number;
    readonly id: number;
    readonly reply: string;
  };

/** Why a call failed inside the worker. */
export type FailureKind =
  /** The guest reported an error with `error_set` (a clean failure). */
  | "guest"
  /** The guest trapped (unreachable, out-of-bounds, stack overflow...). */
  | "trap"
  /** The export does not exist. */
  | "missing"
  /** Extism itself failed (a bad block, a host-side limit). */
  | "host";

/** Worker → kernel. */
export type FromWorker =
  | { readonly type: "ready"; readonly pid: number }
  | {
    readonly type: "init_failed";
    readonly pid: number;
    readonly message: string;
  }
  /**
   * The call `id` of plug-in `pid` starts running, or resumes after a host
   * call: its guest owns the worker's thread until the next message about it.
   */
  | { readonly type: "run"; readonly pid: number; readonly id: number }
  | {
    readonly type: "result";
    readonly pid: number;
    readonly id: number;
    readonly output: Uint8Array | null;
  }
  | {
    readonly type: "failed";
    readonly pid: number;
    readonly id: number;
    readonly kind: FailureKind;
    readonly message: string;
    /** Guest linear memory at the failure, in bytes (null if not exported). */
    readonly memoryBytes: number | null;
    /** Extism refused a host-side allocation during the call. */
    readonly hostMemoryExceeded: boolean;
    /** The worker re-instantiated the plug-in after a trap. */
    readonly recycled: boolean;
  }
  | {
    readonly type: "host";
    readonly pid: number;
    readonly id: number;
    readonly request: string;
  }
  | {
    readonly type: "log";
    readonly pid: number;
    readonly level: "debug" | "info" | "warn" | "error";
    readonly message: string;
  };
