/**
 * The capsule runtime of a kernel session: the bus (denials audited), the
 * engines (js, wasm, mcp, static), the session's copy-on-write overlay as the guest
 * file system, the host-call table through the gate, and the registry that
 * boots the installed capsules. Composition only: no policy lives here.
 *
 * @module
 */
import * as path from "node:path";
import type { CapsuleId, SessionId } from "../core/ids.ts";
import { newSessionId } from "../core/ids.ts";
import { Bus } from "../bus/bus.ts";
import { auditDenials } from "../bus/audit_denials.ts";
import { createHostDispatcher } from "../abi/host_table.ts";
import type {
  CallerIdentity,
  ElicitHandler,
  HostDeps,
  SecretStore,
} from "../abi/ports.ts";
import { guestFsOf } from "../abi/guest_fs.ts";
import { busPortOf } from "../abi/bus_port.ts";
import type { EngineLimits } from "../capsule/engine.ts";
import { DEFAULT_ENGINE_LIMITS } from "../capsule/engine.ts";
import { createJsEngine } from "../capsule/engines/js/js_engine.ts";
import { createWasmEngine } from "../capsule/engines/wasm/wasm_engine.ts";
import { createStaticEngine } from "../capsule/engines/static/static_engine.ts";
import { createMcpEngine } from "../capsule/engines/mcp/mcp_engine.ts";
import type {
  McpElicitPort,
  McpSamplingPort,
} from "../capsule/engines/mcp/client_handlers.ts";
import type { RestartPolicy } from "../capsule/engines/mcp/server_process.ts";
import { createDenoNet } from "../host/deno_net.ts";
import { createDenoEnv } from "../host/deno_env.ts";
import { denoToolchain } from "../host/deno_toolchain.ts";
import { findBubblewrap } from "../capsule/sandbox/find_bwrap.ts";
import { cachedBubblewrap } from "./bwrap_probe_cache.ts";
import { UNSHARE_PATH } from "../capsule/sandbox/sandbox_env.ts";
import {
  type BootReport,
  CapsuleRegistry,
} from "../capsule/registry/registry.ts";
import {
  type CapsuleConsent,
  WorkspaceConsent,
} from "../capsule/registry/workspace_consent.ts";
import type { CapsuleConfigValues } from "../capsule/registry/capsule_config.ts";
import { OverlayManager } from "../vfs/overlay_manager.ts";
import type { SessionVfs } from "../vfs/session_vfs.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { resolveHostAddresses } from "../host/deno_dns.ts";
import { checkedFetch } from "../abi/_checked_fetch.ts";
import { createPinnedFetch } from "../host/pinned_fetch.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";
import { KvSecretStore } from "./kv_secrets.ts";
import type { Store } from "../store/store.ts";
import type { FileSystem } from "../core/ports.ts";
import { ModelMeter } from "./model_meter.ts";
import type { BusEnvelope, InterceptResult } from "../bus/envelope.ts";

/** The kernel's check of a tool call against the caller's lineage. */
function toolAllowed(env: BusEnvelope): InterceptResult {
  const tools = env.agent?.tools;
  if (tools === undefined || tools === null) return { type: "continue" };
  const name = env.topic.slice("tool.v1.execute.".length);
  return tools.includes(name) ? { type: "continue" } : {
    type: "deny",
    reason: `agent '${env.agent!.id}' was not given the tool '${name}'`,
  };
}

/** Options of {@linkcode startRuntime}. */
export interface RuntimeOptions {
  /** The workspace (project) root of this session. */
  readonly workspace: string;
  /** The session; default: a new one. */
  readonly session?: SessionId;
  /** Engine limits (default 5 s per call, 64 MiB). */
  readonly limits?: EngineLimits;
  /**
   * Path of `bwrap`, or `null` to say bubblewrap is not available (then
   * `process_spawn` is refused unless `security.allow_unsandboxed_spawn`,
   * and non-Deno MCP servers unless installed `unconfined`). Absent: a
   * working one is looked up.
   */
  readonly bubblewrap?: string | null;
  /** A frontend that can answer `elicit` calls. */
  readonly elicit?: ElicitHandler;
  /** Resolves host names for the SSRF check (default: Deno's DNS resolver). */
  readonly resolveDns?: (host: string) => Promise<string[]>;
  /** Fetch used by `http_request` (default: the global fetch). */
  readonly fetch?: typeof fetch;
  /** Decides on workspace capsules (default: the approval handler, persisted in the store). */
  readonly consent?: CapsuleConsent;
  /**
   * The operator's configuration of capsules: capsule name → `[env]` key →
   * value (over the manifest defaults; undeclared keys and secrets refused).
   */
  readonly capsuleConfig?: CapsuleConfigValues;
  /**
   * The overlay manager to share (a daemon keeps one, so that its workspace
   * routes and the session's capsules see one overlay instance); default: a
   * new one ({@linkcode createOverlayManager}).
   */
  readonly overlays?: OverlayManager;
  /**
   * The store the session's capsules write through (their KV: the session
   * history among it); default the kernel's. A cluster node passes the
   * session's fenced store (`kernel/cluster/fenced_store.ts`).
   */
  readonly store?: Store;
  /** MCP capsules: who answers elicitation and sampling, restart policy. */
  readonly mcp?: {
    /** Shows an MCP server's question to the human; without it questions are declined. */
    readonly elicit?: McpElicitPort;
    /** The active LLM provider for MCP sampling; without it sampling fails. */
    readonly sampling?: McpSamplingPort;
    /** Restart policy of MCP server subprocesses. */
    readonly restart?: Partial<RestartPolicy>;
  };
}

/** A running capsule runtime. */
export interface Runtime extends AsyncDisposable {
  readonly session: SessionId;
  readonly workspace: string;
  readonly bus: Bus;
  readonly registry: CapsuleRegistry;
  readonly overlays: OverlayManager;
  readonly secrets: SecretStore;
  /** The session's guest file system (overlay, `home://`, `/tmp`). */
  vfs(): Promise<SessionVfs>;
  /**
   * Boots the capsules: the principal's installed ones (signed install
   * records), then `<workspace>/.astrid/capsules` — each of those only once
   * the operator approved its exact record through the approval handler
   * (register one with `kernel.security.approvals.setHandler()` first).
   */
  boot(): Promise<BootReport>;
  /** The consent store of workspace capsules (e.g. to revoke an approval). */
  readonly consent: WorkspaceConsent;
  /** Charges the model use providers report; tracks turns and sub-agents. */
  readonly meter: ModelMeter;
  /** Unloads every capsule and closes the bus. */
  close(): Promise<void>;
}

/**
 * The overlay manager of a kernel's sessions (overlays under the principal
 * homes — or under `cluster.overlay_root`, storage every node of a cluster
 * mounts — commits through the kernel's gate and audit log).
 *
 * @param kernel The kernel.
 * @param options `fs`: the file system overlays write through (default the
 *   kernel's; a cluster node guards writes with the session leases).
 * @returns A new manager.
 */
export function createOverlayManager(
  kernel: KernelHandle,
  options: { fs?: FileSystem } = {},
): OverlayManager {
  const { logger } = kernel.ports;
  const fs = options.fs ?? kernel.ports.fs;
  const { gate, audit } = kernel.security;
  return new OverlayManager({ fs, gate, audit, logger }, {
    homes: kernel.home.homes,
    ...(kernel.config.values.cluster.overlay_root
      ? { overlayRoot: kernel.config.values.cluster.overlay_root }
      : {}),
  });
}

/**
 * Starts the capsule runtime of one session on a booted kernel.
 *
 * @param kernel The kernel (store, gate, home, ports).
 * @param options Workspace, session, limits.
 * @returns The runtime; call `boot()` to load the installed capsules.
 */
export async function startRuntime(
  kernel: KernelHandle,
  options: RuntimeOptions,
): Promise<Runtime> {
  const { fs, clock, random, logger } = kernel.ports;
  const { gate, audit, approvals, setGrants, grantsFor } = kernel.security;
  const session = options.session ?? newSessionId(random);
  const workspace = await fs.realPath(options.workspace);
  const principalHome = kernel.home.home(kernel.principal).root;
  const bus = new Bus({ clock, random, logger, onDenied: auditDenials(audit) });
  const overlays = options.overlays ?? createOverlayManager(kernel);
  let vfsPromise: Promise<SessionVfs> | null = null;
  const vfs = () => (vfsPromise ??= overlays.vfs(kernel.principal, session, {
    workspace,
  }));
  const secrets = new KvSecretStore(kernel.store, kernel.principal);
  const meter = new ModelMeter({
    bus,
    budget: kernel.security.budget,
    audit,
    logger,
    prices: {
      inputUsdPerMtok: kernel.config.get("model.input_usd_per_mtok"),
      outputUsdPerMtok: kernel.config.get("model.output_usd_per_mtok"),
    },
    ctx: { principal: kernel.principal, session, workspace },
  });
  meter.start();
  // A sub-agent calls only the tools its lineage holds: refused (and
  // audited as a bus denial) before any tool capsule sees the call.
  bus.intercept("kernel", {
    pattern: "tool.v1.execute.*",
    priority: Number.MIN_SAFE_INTEGER,
    handler: (env) => toolAllowed(env),
  });
  const toolchain = denoToolchain(createDenoEnv());
  const spawner = createDenoSpawner();
  // Spawned processes and MCP servers that are not Deno programs run only
  // inside bubblewrap: find it unless the caller decided (null = not available);
  // a positive probe is remembered in var/ (bwrap_probe_cache.ts).
  const bwrap = options.bubblewrap !== undefined
    ? options.bubblewrap
    : await cachedBubblewrap({
      fs,
      clock,
      varDir: kernel.home.var,
      probe: () => findBubblewrap(spawner),
    });
  const hostDeps: HostDeps = {
    gate,
    audit,
    approvals,
    store: options.store ?? kernel.store,
    clock,
    logger,
    fetch: options.fetch ?? globalThis.fetch,
    spawner,
    secrets,
    fs: () => guestFsOf(vfs),
    bus: busPortOf(bus),
    meter,
    ...(options.elicit ? { elicit: options.elicit } : {}),
    process: {
      sandbox: {
        bwrap,
        unshare: UNSHARE_PATH,
        hiddenDirs: [kernel.home.root],
        scratchRoot: path.join(kernel.home.var, "spawn", session),
      },
      allowUnsandboxed: kernel.config.get("security.allow_unsandboxed_spawn"),
      hostFs: fs,
      overlay: () =>
        overlays.forSession(kernel.principal, session, { workspace }),
    },
    resolveDns: options.resolveDns ?? resolveHostAddresses,
    // An embedder's own fetch is used as given (it cannot be pinned).
    ...(options.fetch
      ? {}
      : { pinnedFetch: createPinnedFetch({ socketDir: kernel.home.run }) }),
  };
  const consent = new WorkspaceConsent({
    store: kernel.store,
    approvals,
    audit,
    clock,
    random,
    logger,
    principal: kernel.principal,
    session,
    workspace,
  });
  const registry = new CapsuleRegistry({
    fs,
    clock,
    random,
    logger,
    bus,
    engines: {
      js: createJsEngine({ logger, clock, fs }),
      wasm: createWasmEngine({ logger }),
      static: createStaticEngine(),
      mcp: createMcpEngine({
        gate,
        launch: {
          spawner: hostDeps.spawner,
          fs,
          net: createDenoNet({ logger }),
          random,
          denoPath: toolchain.denoPath,
          ...(toolchain.denoDir ? { denoDir: toolchain.denoDir } : {}),
          cacheEnv: toolchain.toolEnv,
          bubblewrap: bwrap,
        },
        logger,
        clock,
        context: {
          principal: kernel.principal,
          session,
          workspace,
          principalHome,
        },
        socketDir: kernel.home.run,
        scratchRoot: path.join(kernel.home.var, "mcp", session),
        hiddenDirs: [kernel.home.root],
        kernelHome: [kernel.home.root, await fs.realPath(kernel.home.root)],
        ...(options.mcp?.elicit ? { elicit: options.mcp.elicit } : {}),
        ...(options.mcp?.sampling ? { sampling: options.mcp.sampling } : {}),
        ...(options.mcp?.restart ? { restart: options.mcp.restart } : {}),
        // Remote MCP servers: the http host call's checked fetch (DNS once,
        // public addresses only, pinned connection) and the secret store.
        remote: {
          fetch: (url, init) => checkedFetch(url, init, hostDeps),
          secret: (capsule, name) => secrets.get(capsule as CapsuleId, name),
        },
      }),
    },
    // This session's grants: another session's copy of a capsule keeps its own.
    setGrants: (id, g) => setGrants(id, g, session),
    hostFor: (capsule: CapsuleId, config, signal) => {
      const caller: CallerIdentity = {
        capsule,
        principal: kernel.principal,
        session,
        workspace,
        principalHome,
      };
      // The door decides bus messages, secret storage and approval requests
      // against the same grants the gate judges (kernel/abi/door.ts).
      const grants = grantsFor(capsule, session);
      return createHostDispatcher(hostDeps, caller, {
        config,
        signal,
        random,
        ...(grants ? { grants } : {}),
      });
    },
    kernelVersion: VERSION,
    ...(options.capsuleConfig ? { capsuleConfig: options.capsuleConfig } : {}),
    context: { principal: kernel.principal, session },
    trust: {
      keyId: kernel.runtimeKey.keyId,
      publicKey: kernel.runtimeKey.publicKey,
    },
    consent: options.consent ?? consent,
    onRefused: async (r) => {
      await audit.append({
        principal: kernel.principal,
        session,
        capsule: r.capsule as CapsuleId,
        call_id: null,
        action: {
          type: "capsule_load",
          capsule_id: r.capsule,
          ...(r.dir === undefined ? {} : { dir: r.dir }),
        },
        decision: "denied",
        proof: { type: "boot", code: r.code, reason: r.reason.slice(0, 1000) },
        outcome: null,
      });
    },
  }, options.limits ?? DEFAULT_ENGINE_LIMITS);
  const roots = [
    { dir: kernel.home.home(kernel.principal).capsules, kind: "installed" },
    { dir: path.join(workspace, ".astrid", "capsules"), kind: "workspace" },
  ] as const;
  async function close(): Promise<void> {
    try {
      await registry.unloadAll();
    } finally {
      meter.close();
      bus.close();
    }
  }
  return {
    session,
    workspace,
    bus,
    registry,
    overlays,
    secrets,
    meter,
    vfs,
    consent,
    async boot() {
      const report = await registry.boot(roots);
      // Every file host call resolves its guest path through the session VFS
      // before the gate (the one mapper): open it now, not inside the first
      // call's deadline. A failure surfaces again on that call.
      if (report.loaded.length > 0) {
        await vfs().catch(() => {/* silent-ok: reported by the first call */});
      }
      return report;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
