/**
 * The shape of one host function and the per-call state it receives.
 *
 * @module
 */
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";

/** Per-call state handed to a host function. */
export interface CallState {
  /** Who calls. */
  readonly caller: CallerIdentity;
  /** The kernel ports. */
  readonly deps: HostDeps;
  /** Correlates the call's gate decision and audit entries. */
  readonly callId: string;
  /** Fires when the guest's call is cancelled (deadline, unload). */
  readonly signal: AbortSignal;
  /**
   * Passes the gate for `action`, runs `effect` only when allowed, settles the
   * budget and audits the outcome.
   * @throws {KernelError} The refusal's code, or what the effect throws.
   */
  gated<T>(
    action: Action,
    effect: () => Promise<T>,
    fn: string,
    options?: { estimatedCostMicros?: number },
  ): Promise<T>;
}

/** One host function: validates its payload, gates, acts, returns JSON. */
export type HostCall = (
  payload: JsonValue,
  call: CallState,
) => Promise<JsonValue>;
