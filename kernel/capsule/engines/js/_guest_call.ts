/**
 * The invoke loop of one action call. The invoker returns a guest promise;
 * the loop alternates between the VM and the host until it settles:
 *
 * 1. apply the host-call outcomes that arrived (resolve/reject guest promises);
 * 2. run the pending jobs (`rt.executePendingJobs()`), under the interrupt
 *    handler's deadline, memory and cancellation checks;
 * 3. stop when the result promise has settled; fail when it is pending with
 *    nothing left that could settle it;
 * 4. otherwise wait for the next host-call outcome, the waiting bound or the
 *    call's signal — whichever comes first.
 *
 * Two clocks ({@linkcode CallClock}): the deadline `limits.timeoutMs` counts
 * only the guest's own running time (checked by the interrupt handler); the
 * time spent in step 4 counts against `limits.waitTimeoutMs` instead, so a
 * slow gate on a busy machine, a model or a human never times a guest out.
 * When the call ends for any reason its pending host calls are aborted
 * through the dispatcher's signal.
 *
 * @module
 */
import type { AgentLineage } from "../../../core/agent_lineage.ts";
import type { QuickJSHandle } from "quickjs-emscripten-core";
import { HOST_LIMITS } from "../../../../sdk/host_abi.ts";
import { KernelError } from "../../../core/errors.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { CallClock } from "../../call_clock.ts";
import { stopError } from "./_guest_errors.ts";
import type { GuestInstance, GuestTimer } from "./_guest_instance.ts";
import type { GuestPayload } from "./_lazy_fields.ts";

/** One action call. */
export interface InvokeRequest {
  readonly action: string;
  /** The payload's JSON and its lazy fields (`./_lazy_fields.ts`). */
  readonly payload: GuestPayload;
  readonly signal: AbortSignal;
  /** The agent the call runs for; its host calls carry it. */
  readonly agent?: AgentLineage;
}

type Wake = "completion" | "wait_timeout" | "aborted";

/**
 * Runs one action call to completion; see the module doc.
 *
 * @param guest The instance.
 * @param req The call.
 * @returns The handler's JSON result.
 * @throws {KernelError} `CAPSULE_NOT_FOUND`, `CAPSULE_FAILED`,
 *   `CAPSULE_TIMEOUT`, `CAPSULE_MEMORY`, `ABORTED`.
 */
export async function runInvoke(
  guest: GuestInstance,
  req: InvokeRequest,
): Promise<JsonValue> {
  const { rt, bridge } = guest;
  const what = `action '${req.action}'`;
  const clock = guest.arm(req.signal);
  bridge.begin(req.signal, req.agent);
  let result: QuickJSHandle | undefined;
  let waits: Waits | undefined;
  try {
    result = guest.guard(what, () => start(guest, req, what));
    for (;;) {
      guest.guard(what, () => bridge.applyCompletions());
      const settled = guest.guard(what, () => step(guest, result!, what));
      if (settled !== undefined) return parseResult(guest, settled, what);
      if (bridge.pendingCount === 0 && !rt.hasPendingJob()) {
        throw new KernelError(
          "CAPSULE_FAILED",
          `Capsule '${guest.capsule}' ${what} returned a promise that never settles (it awaits nothing the host can resolve)`,
        );
      }
      // Listeners only once the call really waits (cheap sync calls).
      waits ??= new Waits(req.signal);
      const wake = await waitOnce(guest, clock, waits);
      if (wake === "wait_timeout" || wake === "aborted") {
        guest.markStopped(wake);
        throw stopError(guest, wake, { what });
      }
    }
  } finally {
    waits?.end();
    bridge.end(!guest.broken);
    if (result !== undefined && !guest.broken && result.alive) {
      result.dispose();
    }
  }
}

/**
 * The waiting state of one call: what wakes the current wait (a host-call
 * outcome, the waiting bound, the call's signal) and the bound's timer.
 *
 * The waiting bound is one timer per call, not one per wait (arming and
 * cancelling a timer per host call was a measurable share of a call),
 * armed in a wait for the allowance left then. Running time does not use
 * the allowance up, so a timer armed in an earlier wait can only fire
 * early, never late: then it is re-armed for what is left. It is a
 * `Clock.timer`, cancelled when the call ends: no promise, no signal and
 * no error per call (the cancelled sleep it replaces made an error and a
 * rejection per host call, about 5% of one in profiles).
 */
class Waits {
  readonly #signal: AbortSignal;
  readonly #onAbort: () => void;
  /** Resolves the current wait. */
  #wake: ((wake: Wake) => void) | undefined;
  #aborted = false;
  /** Cancels the armed timer. */
  #cancel: (() => void) | undefined;
  /** Which wait armed the timer (waits are counted from 1). */
  #armedIn = 0;
  /** Which wait armed the timer that fired last. */
  #firedFor = 0;
  /** Waits so far. */
  count = 0;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    this.#onAbort = () => {
      this.#aborted = true;
      this.#wake?.("aborted");
    };
    // Removed by `end()` (no options object: converting one per call was a
    // measurable share of a short call).
    if (signal.aborted) this.#aborted = true;
    else signal.addEventListener("abort", this.#onAbort);
  }

  /** Arms the bound for `ms` in wait `wait` unless a timer is armed. */
  arm(timer: GuestTimer, ms: number, wait: number): void {
    if (this.#cancel !== undefined) return;
    this.#armedIn = wait;
    this.#cancel = timer(ms, () => {
      this.#cancel = undefined;
      this.#firedFor = this.#armedIn;
      this.#wake?.("wait_timeout");
    });
  }

  /** Whether the timer that fired last was armed in wait `wait`. */
  firedIn(wait: number): boolean {
    return this.#firedFor === wait;
  }

  /** Waits for the first wake-up: `"completion"` comes from `listen`. */
  next(listen: (wake: () => void) => boolean): Promise<Wake> {
    // A resolver left behind by an earlier wait is harmless: it resolves a
    // promise nobody awaits any more.
    return new Promise<Wake>((resolve) => {
      this.#wake = resolve;
      if (this.#aborted) resolve("aborted");
      else if (!listen(() => resolve("completion"))) resolve("completion");
    });
  }

  /** The call ended: cancels the timer and stops listening to the signal. */
  end(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#wake = undefined;
    this.#signal.removeEventListener("abort", this.#onAbort);
  }
}

/**
 * One wait for the next host-call outcome: the clock counts it as waiting,
 * bounded by what is left of the call's waiting allowance.
 */
async function waitOnce(
  guest: GuestInstance,
  clock: CallClock,
  waits: Waits,
): Promise<Wake> {
  clock.wait();
  try {
    const wait = ++waits.count;
    for (;;) {
      waits.arm(guest.timer, clock.msLeft(), wait);
      const wake = await waits.next((w) => guest.bridge.onCompletion(w));
      // A timer armed in this wait is this wait's bound; an older one fired
      // early (the guest ran since): the loop re-arms it for what is left.
      if (wake !== "wait_timeout" || waits.firedIn(wait)) return wake;
    }
  } finally {
    clock.run();
  }
}

function start(
  guest: GuestInstance,
  req: InvokeRequest,
  what: string,
): QuickJSHandle {
  const { vm } = guest;
  const { ns, invoker } = guest.handles;
  const { json, lazy } = req.payload;
  const args = [vm.newString(req.action), vm.newString(json)];
  if (lazy.length > 0) {
    args.push(vm.newString(JSON.stringify(lazy.map((f) => f.path))));
    for (const f of lazy) args.push(vm.newString(f.text));
  }
  const r = vm.callFunction(invoker, vm.undefined, ns, ...args);
  for (const a of args) a.dispose();
  if (r.error) throw guest.failure(r.error, what);
  const state = vm.getPromiseState(r.value);
  if (state.type === "fulfilled" && state.notAPromise === true) {
    r.value.dispose();
    throw new KernelError(
      "CAPSULE_NOT_FOUND",
      `Capsule '${guest.capsule}' has no action '${req.action}'`,
      { data: { capsule: guest.capsule, action: req.action } },
    );
  }
  if (state.type === "fulfilled") state.value.dispose();
  if (state.type === "rejected") state.error.dispose();
  return r.value;
}

/** Runs pending jobs; returns the result text once the promise is fulfilled. */
function step(
  guest: GuestInstance,
  result: QuickJSHandle,
  what: string,
): string | undefined {
  const { vm, rt } = guest;
  const jobs = rt.executePendingJobs();
  if (jobs.error) throw guest.failure(jobs.error, what);
  // An interrupted job may leave the result promise pending forever.
  if (guest.stop !== undefined) throw stopError(guest, guest.stop, { what });
  const state = vm.getPromiseState(result);
  if (state.type === "rejected") throw guest.failure(state.error, what);
  if (state.type === "pending") return undefined;
  const value = state.value;
  try {
    if (vm.typeof(value) !== "string") {
      throw new KernelError(
        "CAPSULE_FAILED",
        `Capsule '${guest.capsule}' ${what} did not produce a JSON text (the guest tampered with its promise)`,
      );
    }
    return vm.getString(value);
  } finally {
    if (value !== result) value.dispose();
  }
}

function parseResult(
  guest: GuestInstance,
  text: string,
  what: string,
): JsonValue {
  if (guest.overCap) throw stopError(guest, "memory", { what });
  if (text.length > HOST_LIMITS.payload) {
    throw new KernelError(
      "CAPSULE_FAILED",
      `Capsule '${guest.capsule}' ${what} returned more than ${HOST_LIMITS.payload} bytes of JSON`,
    );
  }
  return JSON.parse(text) as JsonValue;
}
