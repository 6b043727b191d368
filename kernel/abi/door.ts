/**
 * The door: the only way a host function reaches an effect. A host function
 * names what it wants as a {@linkcode DoorRequest}; the door derives the gate
 * action from that same request, decides, writes the decision to the audit
 * chain, and only then hands the effect a {@linkcode Granted} port bound to
 * what was decided — the resolved file, the URL, the argv, the topic, the
 * secret name. Host functions never hold the raw ports (`HostDeps`).
 *
 * Security model: two kinds of decision, both audited before the effect.
 * File, HTTP, process and secret-use requests go through `Gate.run` (manifest
 * → policy → mode → token → budget → approval → audit). Bus messages,
 * questions to the human (`elicit`, whose secret answers the kernel stores)
 * and approval requests are decided here against the capsule's own grants
 * (bus ACL; a declared `[env.X]`, `type = "secret"` for secrets;
 * `[capabilities] approval = true` plus a per-capsule rate limit) and each
 * decision — allowed or denied — is one signed audit entry before the effect.
 *
 * @module
 */
import { type ErrorCode, KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";
import {
  busOf,
  gateContext,
  grantedFor,
  spawnsUnsandboxed,
} from "./_granted.ts";
import type { DoorOptions, DoorRequest, Granted } from "./door_request.ts";

export type {
  DoorOptions,
  DoorRequest,
  Granted,
  GrantedFile,
  GrantedSpawn,
} from "./door_request.ts";

/**
 * The gate action a request is judged as (for the requests the gate decides).
 *
 * @param request The request.
 * @param caller Who asks.
 * @returns The action, or `null` when the door decides it itself.
 */
export function actionOf(
  request: DoorRequest,
  caller: CallerIdentity,
  deps?: HostDeps,
): Action | null {
  const capsule_id = caller.capsule;
  switch (request.kind) {
    case "file":
      return {
        type: "capsule_file_access",
        capsule_id,
        path: request.path.hostPath,
        mode: request.mode,
      };
    case "http":
      return {
        type: "capsule_http_request",
        capsule_id,
        url: request.url,
        method: request.method,
      };
    case "secret_use":
      return {
        type: "secret_use",
        capsule_id,
        name: request.name,
        host: request.host,
      };
    case "spawn":
      return {
        type: "capsule_process_spawn",
        capsule_id,
        command: request.command,
        args: request.args,
        ...(deps && spawnsUnsandboxed(deps)
          ? { sandbox: "none" as const }
          : {}),
      };
    default:
      return null;
  }
}

/** The door's own verdict for the requests the gate does not decide. */
function localVerdict(
  request: DoorRequest,
  o: DoorOptions,
): { ok: true } | { ok: false; code: ErrorCode; reason: string } {
  const grants = o.grants;
  switch (request.kind) {
    case "publish":
    case "request": {
      let v;
      try {
        v = busOf(o.deps).checkPublish(o.caller.capsule, request.topic);
      } catch (err) {
        if (!KernelError.is(err)) throw err;
        return { ok: false, code: err.code, reason: err.message };
      }
      return v.ok ? v : { ok: false, code: "BUS_ACL_DENIED", reason: v.reason };
    }
    case "elicit": {
      const secret = request.type === "secret";
      const declared = secret
        ? grants?.secrets.includes(request.key)
        : grants?.env.includes(request.key);
      return declared ? { ok: true } : {
        ok: false,
        code: "MANIFEST_DENIED",
        reason: `${request.key} is not declared as ${
          secret ? "a secret" : "a setting"
        } ([env.${request.key}]${secret ? ' type = "secret"' : ""})`,
      };
    }
    case "approval":
      if (!grants?.other.includes("approval_request")) {
        return {
          ok: false,
          code: "MANIFEST_DENIED",
          reason: "approval requests are not granted ([capabilities] approval)",
        };
      }
      return o.takeApprovalToken() ? { ok: true } : {
        ok: false,
        code: "ABI_RATE_LIMITED",
        reason: "too many approval requests; try again in a minute",
      };
    default:
      return { ok: true };
  }
}

function localAction(request: DoorRequest, caller: CallerIdentity): JsonValue {
  switch (request.kind) {
    case "publish":
    case "request":
      // The bus's own denial entries use the same shape (bus/audit_denials.ts).
      return { type: `bus_${request.kind}`, topic: request.topic };
    case "elicit":
      return {
        type: "capsule_elicit",
        capsule_id: caller.capsule,
        key: request.key,
        value_type: request.type,
      };
    case "approval":
      return {
        type: "capsule_approval_request",
        capsule_id: caller.capsule,
        summary: request.summary,
        risk: request.risk,
      };
    default:
      return null;
  }
}

/**
 * Decides `request` and, when allowed, runs `effect` with the port bound to it.
 *
 * @param request What the host function wants.
 * @param effect The effect; receives the bound port.
 * @param o The door's state.
 * @param extra Estimated cost (gate requests).
 * @returns The effect's result.
 * @throws {KernelError} The refusal's code, or what the effect throws.
 */
export async function passDoor<R extends DoorRequest, T>(
  request: R,
  effect: (granted: Granted<R>) => Promise<T>,
  o: DoorOptions,
  extra: { estimatedCostMicros?: number } = {},
): Promise<T> {
  // What is decided is a frozen copy: the host function cannot change it
  // between the decision and the effect (arrays are mutable at run time).
  request = snapshot(request);
  const action = actionOf(request, o.caller, o.deps);
  if (action !== null) {
    return await o.deps.gate.run(action, gateContext(o), {
      signal: o.signal,
      effect: () => effect(grantedFor(request, o)),
      ...extra,
    });
  }
  const verdict = localVerdict(request, o);
  const recorded = o.deps.audit.append({
    principal: o.caller.principal,
    session: o.caller.session,
    capsule: o.caller.capsule,
    call_id: o.callId,
    ...(o.caller.agent ? { agent: o.caller.agent.id } : {}),
    action: localAction(request, o.caller),
    decision: verdict.ok ? "allowed" : "denied",
    proof: {
      type: request.kind === "publish" || request.kind === "request"
        ? "bus_acl"
        : "manifest",
      ...(verdict.ok ? {} : { reason: verdict.reason }),
    },
    outcome: null,
  }, { lazy: verdict.ok && isBusMessage(request) });
  if (verdict.ok && isBusMessage(request)) {
    // Recorded in order, not waited for (see isBusMessage): it rides with
    // the chain's next eager commit, and a failed commit fails that eager
    // decision too, so no effect outside the kernel runs after it unrecorded.
    recorded.catch((err) =>
      o.deps.logger.log("error", "Cannot record an allowed bus message", {
        capsule: o.caller.capsule,
        error: String(err),
      })
    );
  } else await recorded;
  if (!verdict.ok) {
    throw new KernelError(
      verdict.code,
      `Capsule '${o.caller.capsule}' was refused: ${verdict.reason}`,
    );
  }
  return await effect(grantedFor(request, o));
}

/**
 * Whether `request` is a bus message (publish or request). An allowed bus
 * message is delivered inside the kernel only: whatever reaches outside the
 * process (a file, the network, a process, a human) is a later effect with a
 * gate decision of its own, which waits for its commit — and the queue
 * commits in order, so that commit carries this record first. A crash before
 * that commit loses the record and nothing that happened outside because of
 * it. So the publisher does not wait for the record's own commit.
 */
function isBusMessage(request: DoorRequest): boolean {
  return request.kind === "publish" || request.kind === "request";
}

function snapshot<R extends DoorRequest>(request: R): R {
  const copy: Record<string, unknown> = { ...request };
  for (const [k, v] of Object.entries(copy)) {
    if (Array.isArray(v)) copy[k] = Object.freeze([...v]);
  }
  return Object.freeze(copy) as R;
}
