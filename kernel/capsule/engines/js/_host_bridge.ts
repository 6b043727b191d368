/**
 * The host-call bridge of one QuickJS instance: the body of the guest's
 * `__astrid_host(fn, payloadJson)` binding. Each call becomes a guest promise
 * (`vm.newPromise()`); the kernel's {@linkcode HostCallDispatcher} runs
 * outside the VM, and its outcome is queued until the invoke loop applies it
 * inside the VM (`applyCompletions`) and runs the pending jobs.
 *
 * Host calls belong to the invoke that is running: outside one (while the
 * module loads) they are refused, and when the invoke ends its pending calls
 * are cancelled through the dispatcher's signal (which fires at the end of
 * every invoke that made a host call: what the invoke holds, such as its
 * HTTP streams, is closed with it) and their guest promises are dropped
 * unsettled.
 *
 * @module
 */
import type { AgentLineage } from "../../../core/agent_lineage.ts";
import type {
  QuickJSContext,
  QuickJSDeferredPromise,
  QuickJSHandle,
} from "quickjs-emscripten-core";
import { HOST_LIMITS } from "../../../../sdk/host_abi.ts";
import { KernelError, toWireError } from "../../../core/errors.ts";
import type { ErrorCode } from "../../../core/errors.ts";
import type { Logger } from "../../../core/ports.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { HostCallDispatcher } from "../../engine.ts";

/** At most this many host calls of one invoke may be pending at once. */
export const MAX_PENDING_HOST_CALLS = 64;

const FN_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The reason the calls of an ended invoke are aborted with: one error for
 * all (an error's stack trace cost more than the rest of ending a call).
 */
const ENDED = new KernelError(
  "ABORTED",
  "The action call that made this host call has ended",
);

interface PendingCall {
  readonly fn: string;
  readonly deferred: QuickJSDeferredPromise;
  done: boolean;
}

type Outcome =
  | { readonly ok: true; readonly value: JsonValue }
  | { readonly ok: false; readonly error: unknown };

interface Invocation {
  /** The invoke's signal. */
  readonly signal: AbortSignal;
  /** The agent the invoke runs for. */
  readonly agent: AgentLineage | undefined;
  /** Made on the first host call: cancels the calls handed to the dispatcher. */
  controller: AbortController | undefined;
  unlink: (() => void) | undefined;
  readonly pending: Set<PendingCall>;
  readonly completions: { call: PendingCall; outcome: Outcome }[];
  wake: (() => void) | undefined;
}

/** Connects one QuickJS context to the kernel's host-call dispatcher. */
export class HostBridge {
  readonly #vm: QuickJSContext;
  readonly #host: HostCallDispatcher;
  readonly #logger: Logger;
  #active: Invocation | undefined;

  /**
   * @param vm The context whose guest calls the binding.
   * @param deps Where host calls go, and a logger for dispatcher failures
   *   that are not `KernelError`s.
   */
  constructor(
    vm: QuickJSContext,
    deps: { host: HostCallDispatcher; logger: Logger },
  ) {
    this.#vm = vm;
    this.#host = deps.host;
    this.#logger = deps.logger;
  }

  /** Host calls of the running invoke that have not been applied yet. */
  get pendingCount(): number {
    return this.#active?.pending.size ?? 0;
  }

  /**
   * Starts an invoke: host calls are accepted until {@linkcode end}.
   *
   * @param signal Cancels the invoke; pending host calls are aborted with it.
   * @param agent The agent the invoke runs for; its host calls carry it.
   */
  begin(signal: AbortSignal, agent?: AgentLineage): void {
    this.#active = {
      signal,
      agent,
      controller: undefined,
      unlink: undefined,
      pending: new Set(),
      completions: [],
      wake: undefined,
    };
  }

  /**
   * The binding's body: validates the call, hands it to the dispatcher and
   * returns the guest promise handle.
   */
  guestCall(
    fnH: QuickJSHandle | undefined,
    payloadH: QuickJSHandle | undefined,
  ): QuickJSHandle {
    const vm = this.#vm;
    const deferred = vm.newPromise();
    const active = this.#active;
    const fn = fnH !== undefined && vm.typeof(fnH) === "string"
      ? vm.getString(fnH)
      : "";
    const refuse = (code: ErrorCode, message: string): QuickJSHandle => {
      this.#settle(deferred, {
        ok: false,
        error: new KernelError(code, message),
      });
      return deferred.handle;
    };
    if (!FN_NAME.test(fn)) {
      return refuse(
        "ABI_UNKNOWN_FUNCTION",
        `Cannot call host function '${
          fn.slice(0, 64)
        }': not a host function name`,
      );
    }
    if (payloadH === undefined || vm.typeof(payloadH) !== "string") {
      return refuse(
        "INVALID_INPUT",
        `Cannot call host function '${fn}': the payload must be a JSON string`,
      );
    }
    if (active === undefined) {
      return refuse(
        "CAPSULE_FAILED",
        `Cannot call host function '${fn}' outside an action call (e.g. while the module loads)`,
      );
    }
    if (active.pending.size >= MAX_PENDING_HOST_CALLS) {
      return refuse(
        "CAPSULE_FAILED",
        `Cannot call host function '${fn}': ${MAX_PENDING_HOST_CALLS} host calls are already pending`,
      );
    }
    const text = vm.getString(payloadH);
    if (text.length > HOST_LIMITS.payload) {
      return refuse(
        "ABI_PAYLOAD_TOO_LARGE",
        `Cannot call host function '${fn}': the payload exceeds ${HOST_LIMITS.payload} bytes`,
      );
    }
    let payload: JsonValue;
    try {
      payload = JSON.parse(text) as JsonValue;
    } catch {
      return refuse(
        "INVALID_INPUT",
        `Cannot call host function '${fn}': the payload is not JSON`,
      );
    }
    const call: PendingCall = { fn, deferred, done: false };
    active.pending.add(call);
    let result: Promise<JsonValue>;
    try {
      const signal = controllerOf(active).signal;
      result = this.#host(
        fn,
        payload,
        active.agent ? { signal, agent: active.agent } : { signal },
      );
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => this.#complete(active, call, { ok: true, value }),
      (error) => this.#complete(active, call, { ok: false, error }),
    );
    return deferred.handle;
  }

  /**
   * Asks to be woken when a host call of the running invoke settles.
   *
   * @param wake Called once, at the next settled host call.
   * @returns `false` when there is nothing to wait for (an outcome is
   *   already queued, or no invoke runs): then `wake` is not kept.
   */
  onCompletion(wake: () => void): boolean {
    const active = this.#active;
    if (active === undefined || active.completions.length > 0) return false;
    active.wake = wake;
    return true;
  }

  /** Settles, inside the VM, the guest promises of the host calls that finished. */
  applyCompletions(): void {
    const active = this.#active;
    if (active === undefined) return;
    for (const { call, outcome } of active.completions.splice(0)) {
      call.done = true;
      active.pending.delete(call);
      this.#settle(call.deferred, outcome);
    }
  }

  /**
   * Ends the running invoke: aborts its pending host calls and drops their
   * guest promises unsettled.
   *
   * @param dispose Whether the VM may still be touched (false once it is broken).
   */
  end(dispose: boolean): void {
    const active = this.#active;
    if (active === undefined) return;
    this.#active = undefined;
    active.unlink?.();
    // Always fired once the invoke made a host call: it cancels the pending
    // calls and closes what the invoke still holds (its HTTP streams).
    active.controller?.abort(ENDED);
    const calls = [...active.pending, ...active.completions.map((c) => c.call)];
    for (const call of calls) {
      if (call.done) continue;
      call.done = true;
      if (dispose) call.deferred.dispose();
    }
    active.pending.clear();
    active.completions.length = 0;
  }

  #complete(active: Invocation, call: PendingCall, outcome: Outcome): void {
    if (call.done || this.#active !== active) return;
    active.completions.push({ call, outcome });
    const wake = active.wake;
    active.wake = undefined;
    wake?.();
  }

  #settle(deferred: QuickJSDeferredPromise, outcome: Outcome): void {
    const vm = this.#vm;
    let text: string | undefined;
    if (outcome.ok) {
      try {
        text = JSON.stringify(outcome.value) ?? "null";
      } catch (err) {
        outcome = { ok: false, error: err };
      }
    }
    if (text !== undefined) {
      const value = vm.newString(text);
      deferred.resolve(value);
      value.dispose();
    } else {
      const cause = outcome.ok ? undefined : outcome.error;
      if (!KernelError.is(cause)) {
        this.#logger.log(
          "error",
          "A host call failed with an unexpected error",
          {
            error: String(cause),
          },
        );
      }
      const wire = toWireError(cause);
      const error = vm.newError({
        name: "HostCallError",
        message: wire.message,
      });
      const code = vm.newString(wire.code);
      vm.setProp(error, "code", code);
      code.dispose();
      deferred.reject(error);
      error.dispose();
    }
    // resolve()/reject() dispose the resolvers; the promise handle belongs to
    // the binding's caller, which disposes it once returned to the guest.
  }
}

/** The invocation's dispatcher controller, linked to its signal on first use. */
function controllerOf(active: Invocation): AbortController {
  if (active.controller !== undefined) return active.controller;
  const controller = new AbortController();
  active.controller = controller;
  const signal = active.signal;
  if (signal.aborted) {
    controller.abort(signal.reason);
    return controller;
  }
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  active.unlink = () => signal.removeEventListener("abort", onAbort);
  return controller;
}
