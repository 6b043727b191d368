/**
 * Loading a capsule into a fresh QuickJS context: install the host binding,
 * evaluate the bootstrap to get the invoker, evaluate the capsule's module and
 * settle it (a module with top-level await evaluates to a promise of its
 * namespace). Host calls are refused while the module loads.
 *
 * @module
 */
import type { QuickJSHandle } from "quickjs-emscripten-core";
import { HOST_BINDING_NAME } from "../../../../sdk/capsule.ts";
import { KernelError } from "../../../core/errors.ts";
import { stopError } from "./_guest_errors.ts";
import type { GuestInstance } from "./_guest_instance.ts";
import { BOOTSTRAP_FILE, BOOTSTRAP_SOURCE } from "./_guest_source.ts";

const WHAT = "module evaluation";

/**
 * Loads the capsule module into the instance's context.
 *
 * @param guest The fresh instance (armed with its deadline).
 * @param source The bundled ESM source.
 * @param config The capsule's configuration, frozen into every handler context.
 * @returns The invoker and module namespace handles (owned by the caller).
 * @throws {KernelError} `CAPSULE_FAILED`, `CAPSULE_TIMEOUT`, `CAPSULE_MEMORY`.
 */
export function loadGuestModule(
  guest: GuestInstance,
  source: string,
  config: Readonly<Record<string, string>>,
): { invoker: QuickJSHandle; ns: QuickJSHandle } {
  const { vm } = guest;
  const binding = vm.newFunction(
    HOST_BINDING_NAME,
    (fn, payload) => guest.bridge.guestCall(fn, payload),
  );
  vm.defineProp(vm.global, HOST_BINDING_NAME, {
    value: binding,
    configurable: false,
    enumerable: false,
  });
  binding.dispose();
  const invoker = makeInvoker(guest, config);
  try {
    const ns = vm.evalCode(source, `${guest.capsule}.js`, { type: "module" });
    if (ns.error) throw guest.failure(ns.error, WHAT);
    return { invoker, ns: settleModule(guest, ns.value) };
  } catch (err) {
    if (!guest.broken) invoker.dispose();
    throw err;
  }
}

function makeInvoker(
  guest: GuestInstance,
  config: Readonly<Record<string, string>>,
): QuickJSHandle {
  const { vm } = guest;
  const factory = vm.evalCode(BOOTSTRAP_SOURCE, BOOTSTRAP_FILE, {
    type: "global",
  });
  if (factory.error) throw guest.failure(factory.error, "bootstrap");
  const name = vm.newString(guest.capsule);
  const configJson = vm.newString(JSON.stringify(config));
  const invoker = vm.callFunction(
    factory.value,
    vm.undefined,
    name,
    configJson,
  );
  factory.value.dispose();
  name.dispose();
  configJson.dispose();
  if (invoker.error) throw guest.failure(invoker.error, "bootstrap");
  return invoker.value;
}

function settleModule(
  guest: GuestInstance,
  handle: QuickJSHandle,
): QuickJSHandle {
  const { vm, rt } = guest;
  for (;;) {
    const jobs = rt.executePendingJobs();
    if (jobs.error) {
      handle.dispose();
      throw guest.failure(jobs.error, WHAT);
    }
    if (guest.stop !== undefined) {
      handle.dispose();
      throw stopError(guest, guest.stop, { what: WHAT });
    }
    const state = vm.getPromiseState(handle);
    if (state.type === "fulfilled") {
      if (state.notAPromise) return handle;
      handle.dispose();
      return state.value;
    }
    if (state.type === "rejected") {
      handle.dispose();
      throw guest.failure(state.error, WHAT);
    }
    if (!rt.hasPendingJob()) {
      handle.dispose();
      throw new KernelError(
        "CAPSULE_FAILED",
        `Capsule '${guest.capsule}' cannot load: its top-level await never settles (host calls are refused while the module loads)`,
      );
    }
  }
}
