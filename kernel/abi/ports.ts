/**
 * What the host ABI needs from the rest of the kernel, as small ports. The
 * composition root adapts the VFS, the bus and the secret store to them.
 *
 * Security model: these ports are handed to the dispatcher only
 * (`createHostDispatcher`); host functions never see them. A host function
 * reaches an effect port only inside a decision (`CallState.gated`), bound to
 * what was decided (see `door.ts`).
 *
 * @module
 */
import type { AgentLineage } from "../core/agent_lineage.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { FetchFn, FileSystem, Logger, Spawner } from "../core/ports.ts";
import type { SpawnSandbox } from "../capsule/sandbox/spawn_sandbox.ts";
import type { OverlaySource } from "../capsule/sandbox/view_layer.ts";
import type { Clock } from "../core/ports.ts";
import type { Store } from "../store/store.ts";
import type { Gate } from "../security/gate.ts";
import type { ApprovalManager } from "../security/approval/manager.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { JsonValue } from "../store/store.ts";
import type { ResolvedGuestPath } from "../vfs/guest_path.ts";

/** Who is calling: fixed per capsule instance and session. */
export interface CallerIdentity {
  readonly capsule: CapsuleId;
  readonly principal: PrincipalId;
  readonly session: SessionId;
  /** Canonical absolute workspace root. */
  readonly workspace: string;
  /** Absolute principal home (`home://`). */
  readonly principalHome: string;
  /** The agent the current call runs for (kernel-stamped), when any. */
  readonly agent?: AgentLineage;
}

/**
 * Files as the guest sees them (overlay, `home://`, `/tmp`). A guest path is
 * resolved once by `resolve` (the one mapper); every effect takes that
 * resolved value and uses it as is.
 */
export interface GuestFs {
  /** Resolves a guest path into the exact host location (pure, lexical). */
  resolve(path: string): Promise<ResolvedGuestPath>;
  read(
    path: ResolvedGuestPath,
    options: { signal: AbortSignal },
  ): Promise<Uint8Array>;
  write(
    path: ResolvedGuestPath,
    data: Uint8Array,
    options: { signal: AbortSignal },
  ): Promise<void>;
  exists(path: ResolvedGuestPath): Promise<boolean>;
  readDir(
    path: ResolvedGuestPath,
  ): Promise<{ name: string; is_dir: boolean }[]>;
  stat(
    path: ResolvedGuestPath,
  ): Promise<{ size: number; is_dir: boolean; mtime_ms: number | null }>;
  mkdir(path: ResolvedGuestPath): Promise<void>;
  remove(path: ResolvedGuestPath): Promise<void>;
}

/** The verdict of a bus ACL check. */
export type BusVerdict = { readonly ok: true } | {
  readonly ok: false;
  readonly reason: string;
};

/** The bus as the ABI uses it. */
export interface BusPort {
  /** The publish ACL of `source` for `topic` (no side effect). */
  checkPublish(source: CapsuleId, topic: string): BusVerdict;
  publish(
    source: CapsuleId,
    topic: string,
    payload: JsonValue,
    ctx: {
      principal: PrincipalId;
      session: SessionId;
      callId: string;
      agent?: AgentLineage;
    },
  ): Promise<void>;
  request(
    source: CapsuleId,
    topic: string,
    payload: JsonValue,
    ctx: {
      principal: PrincipalId;
      session: SessionId;
      callId: string;
      timeoutMs: number;
      signal: AbortSignal;
      agent?: AgentLineage;
    },
  ): Promise<JsonValue>;
}

/**
 * The kernel's model meter: charges the model use a provider reports for a
 * history session to the budget, and stops a tracked agent past its slice.
 */
export interface MeterPort {
  /**
   * Tracks a sub-agent's history session.
   *
   * @param historySession The `session_id` its model requests carry.
   * @param track The agent, its slice (micro-dollars, `null` = none) and
   *   what to do past it (abort the delegation).
   * @returns Stops tracking.
   */
  track(
    historySession: string,
    track: {
      readonly agent: string;
      readonly limitMicros: number | null;
      onExceeded(error: Error): void;
    },
  ): () => void;
  /**
   * The cost of model use at the kernel's prices.
   *
   * @param usage Tokens in and out.
   * @returns Micro-dollars (rounded up).
   */
  costMicros(usage: { input_tokens: number; output_tokens: number }): number;
}

/** Secret values held by the kernel; capsules never read them. */
export interface SecretStore {
  get(capsule: CapsuleId, name: string): Promise<string | null>;
  set(capsule: CapsuleId, name: string, value: string): Promise<void>;
}

/** A frontend that can ask the human for a value. */
export interface ElicitHandler {
  request(
    req: {
      capsule: CapsuleId;
      type: "text" | "select" | "secret";
      key: string;
      description?: string;
      options?: string[];
    },
    options: { signal: AbortSignal },
  ): Promise<string | null>;
}

/** Everything the host table needs. */
export interface HostDeps {
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly approvals: ApprovalManager;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fetch: FetchFn;
  readonly spawner: Spawner;
  readonly secrets: SecretStore;
  /** The guest file system of a caller (session overlay). */
  fs(caller: CallerIdentity): GuestFs;
  readonly bus?: BusPort;
  /** Charges sub-agents' model use and enforces their budget slices. */
  readonly meter?: MeterPort;
  readonly elicit?: ElicitHandler;
  /** Resolves a host name to addresses (SSRF check before connecting); absent ⇒ literal-IP checks only. */
  resolveDns?(host: string): Promise<string[]>;
  /** How `process_spawn` confines a process. */
  readonly process: ProcessDeps;
  /**
   * Fetches a URL over a connection to a given address (the one the SSRF
   * check approved); absent ⇒ `fetch` by name (no rebinding protection).
   */
  pinnedFetch?(
    url: URL,
    init: {
      method: string;
      headers: Record<string, string>;
      body?: string;
      signal: AbortSignal;
    },
    pin: { readonly address: string },
  ): Promise<Response>;
  /** Per-capsule KV quota (default {@linkcode DEFAULT_KV_QUOTA}). */
  readonly kvQuota?: KvQuota;
  /** Most `approval_request` calls one capsule may make per minute (default 10). */
  readonly approvalRatePerMinute?: number;
}

/** What `process_spawn` needs: the sandbox and the session overlay. */
export interface ProcessDeps {
  /** The sandbox; its `bwrap` is `null` when none works here. */
  readonly sandbox: SpawnSandbox;
  /**
   * `security.allow_unsandboxed_spawn`: without a sandbox, run processes
   * unconfined (an audited decision) instead of refusing them.
   */
  readonly allowUnsandboxed: boolean;
  /** The host file system, for the per-spawn dirs. */
  readonly hostFs: FileSystem;
  /** The session overlay a caller's process sees (workspace-relative paths). */
  overlay(caller: CallerIdentity): Promise<OverlaySource>;
}

/** How much KV state one capsule may keep per principal. */
export interface KvQuota {
  /** Most keys. */
  readonly keys: number;
  /** Most bytes (key + JSON value, UTF-8). */
  readonly bytes: number;
}

/** The default KV quota: 10 000 keys, 64 MiB. */
export const DEFAULT_KV_QUOTA: KvQuota = Object.freeze({
  keys: 10_000,
  bytes: 64 * 1024 * 1024,
});
