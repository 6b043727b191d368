/**
 * The host-call table shared by the `js` and `wasm` engines: one function per
 * host call, each mapped to a gate action and decided before any effect.
 *
 * Security model: the function name must be in the table
 * (`ABI_UNKNOWN_FUNCTION`); the whole payload is size-checked first
 * (`ABI_PAYLOAD_TOO_LARGE`), then every field by its own limit; effects run
 * only inside a decision of the door (`door.ts`): host functions hold no
 * effect port, only the reviewed pure list and `gated(request, (granted) =>
 * …)`, whose port is bound to what was decided. A refused call has no effect
 * and every effect call — allowed or not — is in the audit chain (the door
 * test, `door_test.ts`, walks every host function); unloading the capsule
 * aborts its pending calls through the signal.
 *
 * @module
 */
import { agentDelegate } from "./agent_calls.ts";
import { HOST_LIMITS, type HostFunctionName } from "../../sdk/host_abi.ts";
import { throwIfAborted } from "../core/abort.ts";
import { linkSignals } from "../core/linked_signal.ts";
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
import type { CallState, HostCall, PurePorts } from "./host_call.ts";
import { type DoorOptions, passDoor } from "./door.ts";
import { capsuleKv, kvNamespaceOf } from "./capsule_kv.ts";
import type { CapsuleGrants } from "../security/manifest_grant.ts";
import type { ResolvedGuestPath } from "../vfs/guest_path.ts";
import { httpRequest } from "./http_calls.ts";
import {
  httpStreamClose,
  httpStreamOpen,
  httpStreamRead,
} from "./http_stream_calls.ts";
import { HttpStreams } from "./_http_streams.ts";
import { kvDelete, kvGet, kvListKeys, kvSet } from "./kv_calls.ts";
import {
  approvalRequest,
  clockNow,
  clockSleep,
  configGet,
  elicit,
  identity,
  ipcPublish,
  ipcRequest,
  log,
  secretExists,
} from "./misc_calls.ts";
import {
  type CallerIdentity,
  DEFAULT_KV_QUOTA,
  type GuestFs,
  type HostDeps,
} from "./ports.ts";
import { processSpawn } from "./process_calls.ts";

/** Options of {@linkcode createHostDispatcher}. */
export interface DispatcherOptions {
  /** Non-secret `[env]` values of the capsule. */
  readonly config: Readonly<Record<string, string>>;
  /** Aborts every pending call (capsule unload). */
  readonly signal: AbortSignal;
  /** Call ids. */
  readonly random: Random;
  /** The capsule's manifest grants (decisions the door makes itself). */
  readonly grants?: CapsuleGrants;
}

/**
 * The host table: every SDK host function, each classified. `effect` calls
 * reach the outside only through `CallState.gated` (a decision entry before
 * the effect); `pure` calls use only the reviewed {@linkcode PurePorts};
 * `stream` calls read or close an HTTP stream the same invoke opened through
 * the door (`http_stream_open`), within its caps.
 */
export const HOST_TABLE: Readonly<
  Record<
    HostFunctionName,
    { kind: "effect" | "pure" | "stream"; fn: HostCall }
  >
> = Object.freeze({
  fs_read: { kind: "effect", fn: fsRead },
  fs_write: { kind: "effect", fn: fsWrite },
  fs_exists: { kind: "effect", fn: fsExists },
  fs_readdir: { kind: "effect", fn: fsReadDir },
  fs_stat: { kind: "effect", fn: fsStat },
  fs_mkdir: { kind: "effect", fn: fsMkdir },
  fs_unlink: { kind: "effect", fn: fsUnlink },
  ipc_publish: { kind: "effect", fn: ipcPublish },
  ipc_request: { kind: "effect", fn: ipcRequest },
  agent_delegate: { kind: "effect", fn: agentDelegate },
  http_request: { kind: "effect", fn: httpRequest },
  http_stream_open: { kind: "effect", fn: httpStreamOpen },
  // Continue a stream decided when it opened: no new decision, only the
  // calling invoke's own streams (`_http_streams.ts`).
  http_stream_read: { kind: "stream", fn: httpStreamRead },
  http_stream_close: { kind: "stream", fn: httpStreamClose },
  process_spawn: { kind: "effect", fn: processSpawn },
  approval_request: { kind: "effect", fn: approvalRequest },
  elicit: { kind: "effect", fn: elicit },
  // The reviewed pure list: no effect outside the capsule's own state.
  kv_get: { kind: "pure", fn: kvGet },
  kv_set: { kind: "pure", fn: kvSet },
  kv_delete: { kind: "pure", fn: kvDelete },
  kv_list_keys: { kind: "pure", fn: kvListKeys },
  config_get: { kind: "pure", fn: configGet },
  secret_exists: { kind: "pure", fn: secretExists },
  log: { kind: "pure", fn: log },
  clock_now: { kind: "pure", fn: clockNow },
  clock_sleep: { kind: "pure", fn: clockSleep },
  identity: { kind: "pure", fn: identity },
});

const APPROVALS_PER_MINUTE = 10;

/**
 * Builds the dispatcher one capsule instance uses for its host calls.
 *
 * @param deps Kernel ports (held here; host functions never see them).
 * @param caller Who the capsule runs as.
 * @param options Config, unload signal, randomness and grants.
 * @returns The dispatcher to hand to the engine.
 */
export function createHostDispatcher(
  deps: HostDeps,
  caller: CallerIdentity,
  options: DispatcherOptions,
): HostCallDispatcher {
  const rate = deps.approvalRatePerMinute ?? APPROVALS_PER_MINUTE;
  let window = { start: deps.clock.now(), used: 0 };
  function takeApprovalToken(): boolean {
    const now = deps.clock.now();
    if (now - window.start >= 60_000) window = { start: now, used: 0 };
    if (window.used >= rate) return false;
    window.used++;
    return true;
  }
  const streams = new HttpStreams({
    clock: deps.clock,
    random: options.random,
  }, { unload: options.signal });
  const kv = capsuleKv(
    deps.store,
    kvNamespaceOf(caller),
    deps.kvQuota ?? DEFAULT_KV_QUOTA,
  );
  // The engine passes one signal for all host calls of an invoke, and it
  // fires when the invoke ends (HostCallDispatcher): the link to the unload
  // signal is made once per invoke and undone when the invoke ends.
  const combined = new WeakMap<AbortSignal, AbortSignal>();
  const signalOf = (call: AbortSignal): AbortSignal => {
    let s = combined.get(call);
    if (s === undefined) {
      // Unlinked by itself when either fires: the call's does when the
      // invoke ends, so the unload signal keeps nothing of past invokes.
      s = linkSignals([options.signal, call]).signal;
      combined.set(call, s);
    }
    return s;
  };
  return async (fn, payload, callOptions) => {
    if (!Object.hasOwn(HOST_TABLE, fn)) {
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
    const signal = signalOf(callOptions.signal);
    throwIfAborted(signal, `host call ${fn}`);
    const callId = uuidV4(options.random);
    // The agent this call runs for comes from the engine (the bus message
    // that caused the invoke), never from the guest's payload.
    const who: CallerIdentity = callOptions.agent
      ? { ...caller, agent: callOptions.agent }
      : caller;
    const door: DoorOptions = {
      deps,
      caller: who,
      callId,
      signal,
      grants: options.grants,
      takeApprovalToken,
    };
    const audit: PurePorts["audit"] = async (entry) => {
      await deps.audit.append({
        principal: who.principal,
        session: who.session,
        capsule: who.capsule,
        call_id: callId,
        ...(who.agent ? { agent: who.agent.id } : {}),
        ...entry,
        outcome: null,
      });
    };
    const state: CallState = {
      caller: who,
      callId,
      signal,
      meter: deps.meter,
      pure: {
        clock: deps.clock,
        logger: deps.logger,
        config: options.config,
        secretExists: async (name) =>
          (await deps.secrets.get(who.capsule, name)) !== null,
        kv,
        audit,
      },
      streams: streams.of(callOptions.signal),
      resolvePath: (guest, mode) =>
        resolveOrAudit(deps.fs(who), guest, { mode, caller: who }, audit),
      gated: (request, effect, extra = {}) =>
        passDoor(request, effect, door, extra),
    };
    return await HOST_TABLE[fn as HostFunctionName].fn(payload, state);
  };
}

/**
 * Resolves a guest path; a path the one mapper refuses (outside every mount,
 * malformed) is refused before the gate and audited as a denied decision, so
 * an escape attempt is in the chain too.
 */
async function resolveOrAudit(
  fs: GuestFs,
  guest: string,
  o: { mode: "read" | "write" | "delete"; caller: CallerIdentity },
  audit: PurePorts["audit"],
): Promise<ResolvedGuestPath> {
  try {
    return await fs.resolve(guest);
  } catch (err) {
    if (!KernelError.is(err)) throw err;
    await audit({
      action: {
        type: "capsule_file_access",
        capsule_id: o.caller.capsule,
        path: guest.slice(0, 4096),
        mode: o.mode,
      },
      decision: "denied",
      proof: { type: "door", layer: "path", code: err.code },
    });
    throw err;
  }
}
