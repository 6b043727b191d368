/**
 * The one interface every capsule engine (js, wasm, mcp, static) implements,
 * and the host-call seam engines use to reach the kernel.
 *
 * Engines never perform side effects themselves: a guest's host call is handed
 * to {@linkcode HostCallDispatcher} by name with a JSON payload; the dispatcher
 * (kernel/abi) maps it to a gate action, decides, and only then acts.
 *
 * @module
 */
import type { AgentLineage } from "../core/agent_lineage.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import { DEFAULT_WAIT_TIMEOUT_MS } from "./call_clock.ts";
import type {
  CapsuleManifest,
  InterceptorDef,
} from "./manifest/manifest_types.ts";

/**
 * Forwards one guest host call to the kernel (`kernel/abi`). `signal` is the
 * invoke's: every host call of one invoke gets the same signal, and it fires
 * when that invoke ends (returns, fails, times out, is cancelled), so the
 * kernel can tie what a call opens (an HTTP stream) to the invoke.
 */
export type HostCallDispatcher = (
  fn: string,
  payload: JsonValue,
  options: HostCallOptions,
) => Promise<JsonValue>;

/** What the engine tells the kernel about one host call besides its payload. */
export interface HostCallOptions {
  /** Cancels the call (the invoke was cancelled or the capsule unloads). */
  readonly signal: AbortSignal;
  /** The agent the invoke runs for (from the bus message that caused it). */
  readonly agent?: AgentLineage;
}

/** Options of {@linkcode Capsule.invoke}. */
export interface InvokeOptions {
  /** Cancels the call, and its pending host calls. */
  readonly signal?: AbortSignal;
  /** The agent the call runs for; its host calls carry it. */
  readonly agent?: AgentLineage;
}

/** Limits an engine enforces on its guest. */
export interface EngineLimits {
  /**
   * The guest's own running time per `invoke`, in ms. Time the guest spends
   * waiting for the kernel (host calls, the bus, a model, a human) is not
   * counted here (see `waitTimeoutMs`).
   */
  readonly timeoutMs: number;
  /**
   * Total time one `invoke` may spend waiting for the kernel, in ms. Default
   * {@linkcode DEFAULT_WAIT_TIMEOUT_MS} (30 minutes).
   */
  readonly waitTimeoutMs?: number;
  /** Maximum guest memory in bytes. */
  readonly memoryBytes: number;
}

/**
 * Default limits: 5 s of running time per call (tests and demos lower it),
 * 30 minutes of waiting for the kernel, 64 MiB of memory.
 */
export const DEFAULT_ENGINE_LIMITS: EngineLimits = Object.freeze({
  timeoutMs: 5_000,
  waitTimeoutMs: DEFAULT_WAIT_TIMEOUT_MS,
  memoryBytes: 64 * 1024 * 1024,
});

/** What an engine needs to load a capsule. */
export interface EngineLoadOptions {
  /** The capsule's id (its `[package] name`). */
  readonly capsule: CapsuleId;
  /** The artifact bytes (bundled JS, wasm module, or static data), already integrity-checked. */
  readonly artifact: Uint8Array;
  /** Where guest host calls go. */
  readonly host: HostCallDispatcher;
  /** Limits. */
  readonly limits: EngineLimits;
  /** Read-only configuration visible to the guest (`[env]` values that are not secrets). */
  readonly config: Readonly<Record<string, string>>;
  /** The capsule's directory (engines that run files in place, e.g. `mcp`). */
  readonly dir?: string;
  /** The validated manifest. */
  readonly manifest?: CapsuleManifest;
  /**
   * How many instances may run calls at once (`[[component]] instances`,
   * 1..16, default 1). Only the `js` engine uses it; the manifest refuses
   * more than 1 on a `wasm` component, and `mcp` / `static` capsules have no
   * component, so the other engines ignore it.
   */
  readonly instances?: number;
  /** The operator installed the capsule `unconfined` and approved that (signed `meta.json`). */
  readonly unconfined?: boolean;
  /**
   * Checks the capsule's directory against its pins again (every file, none
   * added); engines that run files in place (`mcp`) call it before every
   * (re)launch. Rejects with `CAPSULE_INTEGRITY` naming the file.
   */
  readonly verify?: (signal?: AbortSignal) => Promise<void>;
}

/** Health of a loaded capsule. */
export type CapsuleHealth =
  | { readonly status: "ok" }
  | { readonly status: "degraded" | "failed"; readonly reason: string };

/** A loaded capsule instance. */
export interface Capsule {
  /** The capsule's id. */
  readonly id: CapsuleId;
  /**
   * Calls an exported action of the guest with a JSON payload.
   * @throws {KernelError} `CAPSULE_TIMEOUT` past the deadline, `CAPSULE_MEMORY` past the cap,
   *   `CAPSULE_FAILED` when the guest throws, `ABORTED` when cancelled.
   */
  invoke(
    action: string,
    payload: JsonValue,
    options?: InvokeOptions,
  ): Promise<JsonValue>;
  /** Current health. */
  health(): CapsuleHealth;
  /** Stops the capsule and cancels its pending host calls. Idempotent. */
  unload(): Promise<void>;
  /**
   * Interceptors the capsule discovered at run time (an MCP server's tools),
   * wired by the registry in addition to the manifest's `[[interceptor]]`s.
   */
  interceptors?(): readonly InterceptorDef[];
  /** Calls `listener` when {@linkcode Capsule.interceptors} changes; returns unsubscribe. */
  onInterceptorsChanged?(listener: () => void): () => void;
}

/** An engine: turns artifacts into running capsules. */
export interface Engine {
  /** The engine name used in `[[component]] type` / manifests. */
  readonly name: "js" | "wasm" | "mcp" | "static";
  /** Loads one capsule instance. */
  load(options: EngineLoadOptions): Promise<Capsule>;
}
