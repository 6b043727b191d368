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
import type { ProcessOutput } from "../core/ports.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import type { CapsuleGrants } from "../security/manifest_grant.ts";
import type { ResolvedGuestPath } from "../vfs/guest_path.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";
import { checkedFetch } from "./_checked_fetch.ts";

/** What a host function asks the door for. */
export type DoorRequest =
  | {
    readonly kind: "file";
    readonly mode: "read" | "write" | "delete";
    readonly path: ResolvedGuestPath;
  }
  | { readonly kind: "http"; readonly url: URL; readonly method: string }
  | {
    readonly kind: "secret_use";
    readonly name: string;
    readonly host: string;
  }
  | {
    readonly kind: "spawn";
    readonly command: string;
    readonly args: readonly string[];
  }
  | { readonly kind: "publish"; readonly topic: string }
  | { readonly kind: "request"; readonly topic: string }
  | {
    readonly kind: "elicit";
    readonly type: "text" | "select" | "secret";
    readonly key: string;
    readonly description?: string;
    readonly options?: readonly string[];
  }
  | {
    readonly kind: "approval";
    readonly summary: string;
    readonly risk: "low" | "medium" | "high" | "critical";
  };

/** File operations bound to one resolved path. */
export interface GrantedFile {
  readonly path: ResolvedGuestPath;
  read(): Promise<Uint8Array>;
  exists(): Promise<boolean>;
  readDir(): Promise<{ name: string; is_dir: boolean }[]>;
  stat(): Promise<{ size: number; is_dir: boolean; mtime_ms: number | null }>;
  write(data: Uint8Array): Promise<void>;
  mkdir(): Promise<void>;
  remove(): Promise<void>;
}

/** A spawn bound to the decided argv: `command` + `args` must end the executed line. */
export interface GrantedSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly bubblewrap: string | null;
  warn(message: string, data: Record<string, JsonValue>): void;
  output(
    program: string,
    options: {
      args: string[];
      cwd: string;
      env: Record<string, string>;
      signal: AbortSignal;
      input?: string;
    },
  ): Promise<ProcessOutput>;
}

/** The port an allowed request receives. */
export type Granted<R extends DoorRequest> = R extends { kind: "file" }
  ? GrantedFile
  : R extends { kind: "http" } ? {
      fetch(
        init: {
          headers: Record<string, string>;
          body?: string;
          signal: AbortSignal;
        },
      ): Promise<Response>;
    }
  : R extends { kind: "secret_use" } ? { value(): Promise<string | null> }
  : R extends { kind: "spawn" } ? GrantedSpawn
  : R extends { kind: "publish" }
    ? { publish(payload: JsonValue): Promise<void> }
  : R extends { kind: "request" } ? {
      request(
        payload: JsonValue,
        options: { timeoutMs: number },
      ): Promise<JsonValue>;
    }
  : R extends { kind: "elicit" } ? {
      /** Asks the human (`APPROVAL_DEFERRED` when no frontend is connected). */
      ask(): Promise<string | null>;
      /** Stores the answer as the capsule's secret `key` (type `secret` only). */
      store(value: string): Promise<void>;
    }
  : R extends { kind: "approval" } ? {
      ask(action: Action): Promise<
        Awaited<ReturnType<HostDeps["approvals"]["ask"]>>
      >;
    }
  : never;

/** Per-dispatcher state of the door. */
export interface DoorOptions {
  readonly deps: HostDeps;
  readonly caller: CallerIdentity;
  readonly callId: string;
  readonly signal: AbortSignal;
  /** The capsule's manifest grants (for the decisions made here). */
  readonly grants: CapsuleGrants | undefined;
  /** Takes one approval-request token; `false` when the capsule is over its rate. */
  takeApprovalToken(): boolean;
}

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
        url: request.url.href,
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
      };
    default:
      return null;
  }
}

function grantedFor<R extends DoorRequest>(
  request: R,
  o: DoorOptions,
): Granted<R> {
  const { deps, caller, signal } = o;
  switch (request.kind) {
    case "file": {
      const fs = deps.fs(caller);
      const p = request.path;
      const mode = request.mode;
      const need = (m: typeof mode) => {
        if (mode !== m) {
          throw new TypeError(`A ${mode} decision does not cover a ${m}`);
        }
      };
      const file: GrantedFile = {
        path: p,
        read: () => (need("read"), fs.read(p, { signal })),
        exists: () => (need("read"), fs.exists(p)),
        readDir: () => (need("read"), fs.readDir(p)),
        stat: () => (need("read"), fs.stat(p)),
        write: (data) => (need("write"), fs.write(p, data, { signal })),
        mkdir: () => (need("write"), fs.mkdir(p)),
        remove: () => (need("delete"), fs.remove(p)),
      };
      return file as Granted<R>;
    }
    case "http":
      return {
        fetch: (
          init: Parameters<Granted<{ kind: "http" } & DoorRequest>["fetch"]>[0],
        ) =>
          checkedFetch(request.url, {
            ...init,
            method: request.method,
          }, deps),
      } as unknown as Granted<R>;
    case "secret_use":
      return {
        value: () => deps.secrets.get(caller.capsule, request.name),
      } as Granted<R>;
    case "spawn": {
      const spawn: GrantedSpawn = {
        command: request.command,
        args: request.args,
        bubblewrap: deps.bubblewrap ?? null,
        warn: (message, data) =>
          deps.logger.log("warn", message, {
            capsule: caller.capsule,
            ...data,
          }),
        output: (program, options) => {
          const line = [program, ...options.args];
          const decided = [request.command, ...request.args];
          const tail = line.slice(line.length - decided.length);
          if (
            tail.length !== decided.length ||
            tail.some((a, i) => a !== decided[i])
          ) {
            throw new TypeError("The spawned argv is not the decided argv");
          }
          return deps.spawner.output(program, options);
        },
      };
      return spawn as Granted<R>;
    }
    case "publish":
      return {
        publish: (payload: JsonValue) =>
          bus(deps).publish(caller.capsule, request.topic, payload, {
            principal: caller.principal,
            session: caller.session,
            callId: o.callId,
          }),
      } as Granted<R>;
    case "request":
      return {
        request: (payload: JsonValue, options: { timeoutMs: number }) =>
          bus(deps).request(caller.capsule, request.topic, payload, {
            principal: caller.principal,
            session: caller.session,
            callId: o.callId,
            timeoutMs: options.timeoutMs,
            signal,
          }),
      } as Granted<R>;
    case "elicit":
      return {
        ask: () => {
          if (!deps.elicit) {
            throw new KernelError(
              "APPROVAL_DEFERRED",
              "No frontend is connected to answer the question",
            );
          }
          return deps.elicit.request({
            capsule: caller.capsule,
            type: request.type,
            key: request.key,
            ...(request.description === undefined
              ? {}
              : { description: request.description }),
            ...(request.options === undefined
              ? {}
              : { options: [...request.options] }),
          }, { signal });
        },
        store: (value: string) => {
          if (request.type !== "secret") {
            throw new TypeError("Only a secret answer is stored");
          }
          return deps.secrets.set(caller.capsule, request.key, value);
        },
      } as Granted<R>;
    case "approval":
      return {
        ask: (action: Action) =>
          deps.approvals.ask(action, gateContext(o), {
            summary: request.summary,
            risk: request.risk,
            signal,
          }),
      } as Granted<R>;
  }
  throw new TypeError("Unknown door request");
}

function bus(deps: HostDeps) {
  if (!deps.bus) {
    throw new KernelError("CAPSULE_NOT_FOUND", "The bus is not running");
  }
  return deps.bus;
}

function gateContext(o: DoorOptions) {
  return {
    principal: o.caller.principal,
    session: o.caller.session,
    capsule: o.caller.capsule,
    workspace: o.caller.workspace,
    callId: o.callId,
  };
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
        v = bus(o.deps).checkPublish(o.caller.capsule, request.topic);
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
  const action = actionOf(request, o.caller);
  if (action !== null) {
    return await o.deps.gate.run(action, gateContext(o), {
      signal: o.signal,
      effect: () => effect(grantedFor(request, o)),
      ...extra,
    });
  }
  const verdict = localVerdict(request, o);
  await o.deps.audit.append({
    principal: o.caller.principal,
    session: o.caller.session,
    capsule: o.caller.capsule,
    call_id: o.callId,
    action: localAction(request, o.caller),
    decision: verdict.ok ? "allowed" : "denied",
    proof: {
      type: request.kind === "publish" || request.kind === "request"
        ? "bus_acl"
        : "manifest",
      ...(verdict.ok ? {} : { reason: verdict.reason }),
    },
    outcome: null,
  });
  if (!verdict.ok) {
    throw new KernelError(
      verdict.code,
      `Capsule '${o.caller.capsule}' was refused: ${verdict.reason}`,
    );
  }
  return await effect(grantedFor(request, o));
}
