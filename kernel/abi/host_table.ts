/**
 * The host-call table shared by the `js` and `wasm` engines: one function per
 * host call, each mapped to a gate action and decided before any effect.
 *
 * Security model: the function name must be in the table
 * (`ABI_UNKNOWN_FUNCTION`); the whole payload is size-checked first
 * (`ABI_PAYLOAD_TOO_LARGE`), then every field by its own limit; effects run
 * only inside `Gate.run`, so a refused call has no effect and every call —
 * allowed or not — is in the audit chain; unloading the capsule aborts its
 * pending calls through the signal.
 *
 * @module
 */
import { HOST_LIMITS, type HostFunctionName } from "../../sdk/host_abi.ts";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import { uuidV4 } from "../core/ids.ts";
import type { Random } from "../core/ports.ts";
import type { HostCallDispatcher } from "../capsule/engine.ts";
import {
  fsExists,
  fsMkdir,
  fsRead,
  fsReadDir,
  fsStat,
  fsUnlink,
  fsWrite,
} from "./fs_calls.ts";
import type { CallState, HostCall } from "./host_call.ts";
import { httpRequest } from "./http_calls.ts";
import { kvDelete, kvGet, kvListKeys, kvSet } from "./kv_calls.ts";
import {
  approvalRequest,
  clockNow,
  configGet,
  elicit,
  identity,
  ipcPublish,
  ipcRequest,
  log,
  secretExists,
} from "./misc_calls.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";
import { processSpawn } from "./process_calls.ts";

/** Options of {@linkcode createHostDispatcher}. */
export interface DispatcherOptions {
  /** Non-secret `[env]` values of the capsule. */
  readonly config: Readonly<Record<string, string>>;
  /** Aborts every pending call (capsule unload). */
  readonly signal: AbortSignal;
  /** Call ids. */
  readonly random: Random;
}

/**
 * Builds the dispatcher one capsule instance uses for its host calls.
 *
 * @param deps Kernel ports.
 * @param caller Who the capsule runs as.
 * @param options Config, unload signal and randomness.
 * @returns The dispatcher to hand to the engine.
 */
export function createHostDispatcher(
  deps: HostDeps,
  caller: CallerIdentity,
  options: DispatcherOptions,
): HostCallDispatcher {
  const table: Readonly<Record<HostFunctionName, HostCall>> = {
    fs_read: fsRead,
    fs_write: fsWrite,
    fs_exists: fsExists,
    fs_readdir: fsReadDir,
    fs_stat: fsStat,
    fs_mkdir: fsMkdir,
    fs_unlink: fsUnlink,
    ipc_publish: ipcPublish,
    ipc_request: ipcRequest,
    kv_get: kvGet,
    kv_set: kvSet,
    kv_delete: kvDelete,
    kv_list_keys: kvListKeys,
    http_request: httpRequest,
    process_spawn: processSpawn,
    approval_request: approvalRequest,
    config_get: configGet(options.config),
    secret_exists: secretExists,
    log,
    clock_now: clockNow,
    identity,
    elicit,
  };
  return async (fn, payload, callOptions) => {
    if (!Object.hasOwn(table, fn)) {
      throw new KernelError(
        "ABI_UNKNOWN_FUNCTION",
        `Capsule '${caller.capsule}' called unknown host function '${
          fn.slice(0, 64)
        }'`,
      );
    }
    if (JSON.stringify(payload ?? null).length > HOST_LIMITS.payload) {
      throw new KernelError(
        "ABI_PAYLOAD_TOO_LARGE",
        `Host call ${fn} payload exceeds ${HOST_LIMITS.payload} bytes`,
      );
    }
    const signal = AbortSignal.any([options.signal, callOptions.signal]);
    throwIfAborted(signal, `host call ${fn}`);
    const callId = uuidV4(options.random);
    const state: CallState = {
      caller,
      deps,
      callId,
      signal,
      gated: (action, effect, _fn, extra = {}) =>
        deps.gate.run(action, {
          principal: caller.principal,
          session: caller.session,
          capsule: caller.capsule,
          workspace: caller.workspace,
          callId,
        }, { signal, effect: () => effect(), ...extra }),
    };
    return await table[fn as HostFunctionName](payload, state);
  };
}
