/**
 * The shape of one host function and the per-call state it receives.
 *
 * Security model: a host function gets no effect port. It reads its payload,
 * uses the {@linkcode PurePorts} (the one reviewed list of calls without an
 * outside effect) and reaches every effect through `gated`, which hands over a
 * port bound to what was decided (see `door.ts`).
 *
 * @module
 */
import type { Clock, Logger } from "../core/ports.ts";
import type { JsonValue } from "../store/store.ts";
import type { ResolvedGuestPath } from "../vfs/guest_path.ts";
import type { DoorRequest, Granted } from "./door.ts";
import type { CapsuleKv } from "./capsule_kv.ts";
import type { CallerIdentity, MeterPort } from "./ports.ts";
import type { InvokeStreams } from "./_http_streams.ts";

/**
 * What a host function may use without a decision: reading the clock,
 * writing the kernel log, the capsule's config and whether a secret is set,
 * and the capsule's own KV namespace (quota-bound, see `kv_calls.ts`).
 */
export interface PurePorts {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Non-secret `[env]` values of the capsule. */
  readonly config: Readonly<Record<string, string>>;
  /** Whether the capsule's secret `name` is set (never its value). */
  secretExists(name: string): Promise<boolean>;
  /** The capsule's own KV namespace (quota-bound). */
  readonly kv: CapsuleKv;
  /** Appends an entry for this call (principal, session, capsule, call id bound). */
  audit(entry: {
    action: JsonValue;
    decision: "allowed" | "denied" | "deferred";
    proof: JsonValue;
  }): Promise<void>;
}

/** Per-call state handed to a host function. */
export interface CallState {
  /** Who calls. */
  readonly caller: CallerIdentity;
  /** Correlates the call's gate decision and audit entries. */
  readonly callId: string;
  /** Fires when the guest's call is cancelled (deadline, unload). */
  readonly signal: AbortSignal;
  /** The calls without an outside effect. */
  readonly pure: PurePorts;
  /** The kernel's model meter (sub-agent budget slices), when running. */
  readonly meter: MeterPort | undefined;
  /**
   * The HTTP streams of the invoke making this call (opened through the
   * door by `http_stream_open`; read and closed without a new decision).
   */
  readonly streams: InvokeStreams;
  /**
   * Resolves a guest path once, by the one mapper, into the exact host
   * location; pass the result to `gated` (never the string).
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID` (audited as denied).
   */
  resolvePath(
    guest: string,
    mode: "read" | "write" | "delete",
  ): Promise<ResolvedGuestPath>;
  /**
   * Decides `request`, runs `effect` only when allowed with the port bound to
   * it, settles the budget and audits.
   * @throws {KernelError} The refusal's code, or what the effect throws.
   */
  gated<R extends DoorRequest, T>(
    request: R,
    effect: (granted: Granted<R>) => Promise<T>,
    options?: { estimatedCostMicros?: number },
  ): Promise<T>;
}

/** One host function: validates its payload, gates, acts, returns JSON. */
export type HostCall = (
  payload: JsonValue,
  call: CallState,
) => Promise<JsonValue>;
