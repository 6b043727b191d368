/**
 * Private: builds the port an allowed door request receives, bound to what
 * was decided (the resolved file and mode, the URL pinned to its checked
 * address, the argv, the topic, the `[env]` key).
 *
 * @module
 */
import type { AgentLineage } from "../core/agent_lineage.ts";
import { linkSignals } from "../core/linked_signal.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import type { HostDeps } from "./ports.ts";
import { checkedFetch } from "./_checked_fetch.ts";
import { runInSandbox } from "../capsule/sandbox/spawn_sandbox.ts";
import { spawnEnv } from "../capsule/sandbox/sandbox_env.ts";
import type {
  DoorOptions,
  DoorRequest,
  Granted,
  GrantedFile,
  GrantedSpawn,
} from "./door_request.ts";

/** The port for an allowed request. */
export function grantedFor<R extends DoorRequest>(
  request: R,
  o: DoorOptions,
): Granted<R> {
  const { deps, caller, signal } = o;
  switch (request.kind) {
    case "file": {
      const fs = deps.fs(caller);
      const p = request.path;
      const mode = request.mode;
      const need = (...m: (typeof mode)[]) => {
        if (!m.includes(mode)) {
          throw new TypeError(`A ${mode} decision does not cover a ${m[0]}`);
        }
      };
      // Whether the decided path exists is part of every decision; a delete
      // decision may list and stat what it deletes (a directory tree).
      const file: GrantedFile = {
        path: p,
        read: () => (need("read"), fs.read(p, { signal })),
        exists: () => fs.exists(p),
        readDir: () => (need("read", "delete"), fs.readDir(p)),
        stat: () => (need("read", "delete"), fs.stat(p)),
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
          checkedFetch(new URL(request.url), {
            ...init,
            method: request.method,
          }, deps),
      } as unknown as Granted<R>;
    case "secret_use":
      return {
        value: () => deps.secrets.get(caller.capsule, request.name),
      } as Granted<R>;
    case "spawn": {
      const process = deps.process;
      const unsandboxed = spawnsUnsandboxed(deps);
      const spawn: GrantedSpawn = {
        command: request.command,
        args: request.args,
        unsandboxed,
        warn: (message, data) =>
          deps.logger.log("warn", message, {
            capsule: caller.capsule,
            ...data,
          }),
        runSandboxed: async (options) =>
          runInSandbox({
            fs: process.hostFs,
            spawner: deps.spawner,
            sandbox: process.sandbox,
          }, {
            id: options.id,
            command: request.command,
            args: request.args,
            ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
            workspace: caller.workspace,
            overlay: await process.overlay(caller),
            signal: options.signal,
          }),
        runUnconfined: (options) => {
          if (!unsandboxed) {
            throw new TypeError("The decision did not allow an unconfined run");
          }
          return deps.spawner.output(request.command, {
            args: [...request.args],
            cwd: caller.workspace,
            env: spawnEnv(),
            signal: options.signal,
            ...(options.stdin === undefined ? {} : { input: options.stdin }),
          });
        },
      };
      return spawn as Granted<R>;
    }
    case "publish":
      return {
        publish: (payload: JsonValue) =>
          busOf(deps).publish(caller.capsule, request.topic, payload, {
            principal: caller.principal,
            session: caller.session,
            callId: o.callId,
            ...(caller.agent ? { agent: caller.agent } : {}),
          }),
      } as Granted<R>;
    case "request":
      return {
        request: (
          payload: JsonValue,
          options: {
            timeoutMs: number;
            agent?: AgentLineage;
            signal?: AbortSignal;
          },
        ) => {
          const agent = options.agent ?? caller.agent;
          const linked = linkSignals([signal, options.signal]);
          return busOf(deps).request(caller.capsule, request.topic, payload, {
            principal: caller.principal,
            session: caller.session,
            callId: o.callId,
            timeoutMs: options.timeoutMs,
            signal: linked.signal,
            ...(agent ? { agent } : {}),
          }).finally(linked.unlink);
        },
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

/** The bus port; `CAPSULE_NOT_FOUND` when the runtime has none. */
export function busOf(deps: HostDeps) {
  if (!deps.bus) {
    throw new KernelError("CAPSULE_NOT_FOUND", "The bus is not running");
  }
  return deps.bus;
}

/** The gate context of a door call. */
export function gateContext(o: DoorOptions) {
  return {
    principal: o.caller.principal,
    session: o.caller.session,
    capsule: o.caller.capsule,
    workspace: o.caller.workspace,
    callId: o.callId,
    ...(o.caller.agent ? { agent: o.caller.agent.id } : {}),
  };
}

/**
 * Whether a spawn runs unconfined: no sandbox works here and config allows
 * that (`security.allow_unsandboxed_spawn`) — recorded in the decision.
 */
export function spawnsUnsandboxed(deps: HostDeps): boolean {
  return deps.process.sandbox.bwrap === null && deps.process.allowUnsandboxed;
}
