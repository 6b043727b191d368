/**
 * Private: the messages between the kernel thread and one plug-in worker
 * (`plugin_worker.ts`). Everything crossing is structured-cloneable; the
 * compiled `WebAssembly.Module` is shared, not recompiled.
 *
 * @module
 */

/** Options the worker needs to instantiate the plug-in. */
export interface WorkerInit {
  readonly type: "init";
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
  | {
    readonly type: "call";
    readonly id: number;
    readonly action: string;
    readonly input: Uint8Array;
  }
  | {
    readonly type: "host_reply";
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
  | { readonly type: "ready" }
  | { readonly type: "init_failed"; readonly message: string }
  | {
    readonly type: "result";
    readonly id: number;
    readonly output: Uint8Array | null;
  }
  | {
    readonly type: "failed";
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
  | { readonly type: "host"; readonly id: number; readonly request: string }
  | {
    readonly type: "log";
    readonly level: "debug" | "info" | "warn" | "error";
    readonly message: string;
  };
