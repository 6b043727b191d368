/**
 * What a host function can ask the door for, and the port each request
 * receives once it is allowed: bound to exactly what was decided.
 *
 * @module
 */
import type { AgentLineage } from "../core/agent_lineage.ts";
import type { ProcessOutput } from "../core/ports.ts";
import type { SpawnResult } from "../capsule/sandbox/spawn_sandbox.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import type { CapsuleGrants } from "../security/manifest_grant.ts";
import type { ResolvedGuestPath } from "../vfs/guest_path.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";

/** What a host function asks the door for. */
export type DoorRequest =
  | {
    readonly kind: "file";
    readonly mode: "read" | "write" | "delete";
    readonly path: ResolvedGuestPath;
  }
  | {
    readonly kind: "http";
    /** The absolute http(s) URL, as `URL.href` (a string: nothing can change it after the decision). */
    readonly url: string;
    readonly method: string;
  }
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

/**
 * A spawn bound to the decided argv: the port runs exactly `command` +
 * `args` (there is no way to pass another argv), in the sandbox over the
 * caller's overlay view — or, only when the decision itself recorded
 * `sandbox: "none"` (no sandbox here and `security.allow_unsandboxed_spawn`),
 * unconfined in the workspace.
 */
export interface GrantedSpawn {
  readonly command: string;
  readonly args: readonly string[];
  /** The decision recorded `sandbox: "none"`. */
  readonly unsandboxed: boolean;
  warn(message: string, data: Record<string, JsonValue>): void;
  /** Runs in the sandbox; the caller imports `changes`, then disposes. */
  runSandboxed(options: {
    readonly id: string;
    readonly stdin?: string;
    readonly signal: AbortSignal;
  }): Promise<SpawnResult>;
  /** Runs unconfined in the workspace (only when `unsandboxed`). */
  runUnconfined(options: {
    readonly stdin?: string;
    readonly signal: AbortSignal;
  }): Promise<ProcessOutput>;
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
        options: {
          timeoutMs: number;
          /** Kernel-made lineage of a sub-agent (agent_delegate), never a guest's. */
          agent?: AgentLineage;
          /** Cancels the request besides the host call's own signal. */
          signal?: AbortSignal;
        },
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
