/**
 * The `mcp` engine: loads a capsule made of `[[mcp_server]]` entries, each a
 * confined, supervised subprocess spoken to over MCP.
 *
 * Security model: see {@linkcode createServerLauncher} (confinement and
 * checks), {@linkcode McpCapsule} (every call gated) and
 * {@linkcode clientHandlers} (elicitation and sampling gated). The default
 * confinement of Deno servers is the permission broker; `mode = "flags"`
 * per server selects manifest-derived `--allow-*` lists instead.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import type { Clock, Logger } from "../../../core/ports.ts";
import type { PrincipalId, SessionId } from "../../../core/ids.ts";
import { uuidV4 } from "../../../core/ids.ts";
import type { Gate } from "../../../security/gate.ts";
import type { GateContext } from "../../../security/context.ts";
import { grantsFromManifest } from "../../manifest/grants_from_manifest.ts";
import type { Capsule, Engine, EngineLoadOptions } from "../../engine.ts";
import { connectMcpClient } from "./client/mod.ts";
import { refuseProtectedFlagRoots } from "./flags_protected_home.ts";
import { brokerDecider } from "./broker_decider.ts";
import {
  clientHandlers,
  type McpElicitPort,
  type McpSamplingPort,
} from "./client_handlers.ts";
import {
  createServerLauncher,
  type ServerLaunchDeps,
} from "./launch_server.ts";
import { type CapsuleServer, McpCapsule } from "./mcp_capsule.ts";
import { McpServerProcess, type RestartPolicy } from "./server_process.ts";

/** Dependencies of {@linkcode createMcpEngine}. */
export interface McpEngineDeps {
  readonly gate: Pick<Gate, "run" | "decide">;
  readonly launch: ServerLaunchDeps;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The session the capsules run in. */
  readonly context: {
    readonly principal: PrincipalId;
    readonly session: SessionId;
    readonly workspace: string;
    readonly principalHome?: string;
  };
  /** A `0700` directory for broker sockets. */
  readonly socketDir: string;
  /** Sandboxed servers get `<scratchRoot>/<capsule>/<server>` as their only writable dir. */
  readonly scratchRoot: string;
  /** Dirs a sandboxed server must not see (the kernel's home with its keys). */
  readonly hiddenDirs: readonly string[];
  /** Spellings of `$ASTRID_HOME`: a flags-mode server's roots may not touch it. */
  readonly kernelHome?: readonly string[];
  readonly elicit?: McpElicitPort;
  readonly sampling?: McpSamplingPort;
  readonly restart?: Partial<RestartPolicy>;
}

/**
 * Creates the `mcp` engine.
 *
 * @param deps Gate, host ports, session context, ports for elicitation and sampling.
 * @returns The engine.
 * @throws {KernelError} (from `load`) `MANIFEST_INVALID` when the capsule has no
 *   `[[mcp_server]]`, plus the launch and start codes of its servers
 *   (`VFS_PATH_ESCAPE`, `HOST_PERMISSION_DENIED`, `CAPSULE_FAILED`, `CAPSULE_TIMEOUT`).
 */
export function createMcpEngine(deps: McpEngineDeps): Engine {
  return {
    name: "mcp",
    load: (options) => loadMcpCapsule(deps, options),
  };
}

async function loadMcpCapsule(
  deps: McpEngineDeps,
  options: EngineLoadOptions,
): Promise<Capsule> {
  const { manifest, dir } = options;
  if (!manifest || dir === undefined || manifest.mcp_servers.length === 0) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Capsule '${options.capsule}' has no [[mcp_server]] to run`,
    );
  }
  const capsuleLog = deps.logger.child({ capsule: options.capsule });
  const ctx = (): GateContext => ({
    principal: deps.context.principal,
    session: deps.context.session,
    capsule: options.capsule,
    workspace: deps.context.workspace,
    callId: uuidV4(deps.launch.random),
  });
  const grants = grantsFromManifest(manifest);
  const servers: CapsuleServer[] = [];
  let capsule: McpCapsule | null = null;
  for (const def of manifest.mcp_servers) {
    const log = capsuleLog.child({ server: def.id });
    if ((def.mode ?? "broker") === "flags") {
      refuseProtectedFlagRoots(grants, {
        server: def.id,
        kernelHome: deps.kernelHome ?? [],
        principal: deps.context.principal,
        capsuleDir: dir,
        workspace: deps.context.workspace,
        ...(deps.context.principalHome
          ? { principalHome: deps.context.principalHome }
          : {}),
      });
    }
    const launcher = createServerLauncher(deps.launch, {
      server: def.id,
      command: def,
      grants,
      capsuleDir: dir,
      workspace: deps.context.workspace,
      ...(deps.context.principalHome
        ? { principalHome: deps.context.principalHome }
        : {}),
      envValues: options.config,
      mode: def.mode ?? "broker",
      decide: brokerDecider(deps.gate, {
        ctx,
        server: def.id,
      }),
      socketDir: deps.socketDir,
      scratchDir: path.posix.join(deps.scratchRoot, options.capsule, def.id),
      hiddenDirs: deps.hiddenDirs,
      unconfined: options.unconfined === true,
    }, log);
    log.log(
      "info",
      `MCP server '${def.id}' confined by ${launcher.confinement}`,
    );
    const handlers = clientHandlers({
      gate: deps.gate,
      ctx,
      capsule: options.capsule,
      server: def.id,
      workspace: deps.context.workspace,
      logger: log,
      ...(deps.elicit ? { elicit: deps.elicit } : {}),
      ...(deps.sampling ? { sampling: deps.sampling } : {}),
      listChanged: (kind) => {
        if (kind !== "tools" || !capsule) return;
        capsule.refreshTools(def.id).catch((err) =>
          log.log("warn", `Cannot refresh the tools of '${def.id}': ${err}`)
        );
      },
    });
    const process = new McpServerProcess({
      clock: deps.clock,
      logger: log,
      // The pinned files are checked before every launch, restarts included.
      launch: async (signal) => {
        await options.verify?.(signal);
        return await launcher.launch(signal);
      },
      connect: (io, signal) =>
        connectMcpClient(io, {
          handlers,
          signal,
          requestTimeoutMs: options.limits.timeoutMs,
        }),
      onReady: async () => {
        if (capsule) await capsule.refreshTools(def.id);
      },
    }, {
      name: def.id,
      ...(deps.restart ? { restart: deps.restart } : {}),
    });
    servers.push({ id: def.id, process });
  }
  capsule = new McpCapsule(options.capsule, servers, {
    gate: deps.gate,
    ctx,
    host: options.host,
    logger: capsuleLog,
    timeoutMs: options.limits.timeoutMs,
  }, manifest.package.description ?? "");
  try {
    for (const s of servers) await s.process.start();
    for (const s of servers) await capsule.refreshTools(s.id);
  } catch (err) {
    await capsule.unload();
    throw err;
  }
  return capsule;
}
