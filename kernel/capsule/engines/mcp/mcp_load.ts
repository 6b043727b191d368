/**
 * Loading an MCP capsule: its servers launched (confined) and connected,
 * their tools exposed on the bus — the part of the `mcp` engine that pulls
 * in the MCP SDK, loaded on the first MCP capsule.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import { uuidV4 } from "../../../core/ids.ts";
import type { GateContext } from "../../../security/context.ts";
import { grantsFromManifest } from "../../manifest/grants_from_manifest.ts";
import type { Capsule, EngineLoadOptions } from "../../engine.ts";
import { connectMcpClient } from "./client/mod.ts";
import { refuseProtectedFlagRoots } from "./flags_protected_home.ts";
import { brokerDecider } from "./broker_decider.ts";
import { clientHandlers } from "./client_handlers.ts";
import { createServerLauncher } from "./launch_server.ts";
import { type CapsuleServer, McpCapsule } from "./mcp_capsule.ts";
import { type LaunchedServer, McpServerProcess } from "./server_process.ts";
import { createRemoteLauncher } from "./remote_server.ts";
import type { Logger } from "../../../core/ports.ts";
import type { McpServerDef } from "../../manifest/manifest_types.ts";
import type { McpEngineDeps } from "./mcp_engine.ts";

/**
 * Loads one MCP capsule (the `load` of the engine `createMcpEngine` makes).
 *
 * @param deps The engine's dependencies.
 * @param options The capsule to load.
 * @returns The capsule.
 */
export async function loadMcpCapsule(
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
    const launch = launcherOf(deps, options, def, { grants, ctx, log, dir });
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
        return await launch(signal);
      },
      connect: (io, signal) =>
        connectMcpClient(io, {
          handlers,
          signal,
          requestTimeoutMs: options.limits.timeoutMs,
        }),
      onReady: async (session) => {
        log.log(
          "info",
          `MCP server '${def.id}' connected (protocol ${session.protocolVersion})`,
          { protocol: session.protocolVersion },
        );
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

/**
 * How a server starts: a confined subprocess (`command`) or an HTTP
 * endpoint (`url`); the rest of the capsule (session, tools, gate, restart
 * policy) is the same for both.
 */
function launcherOf(
  deps: McpEngineDeps,
  options: EngineLoadOptions,
  def: McpServerDef,
  o: {
    grants: ReturnType<typeof grantsFromManifest>;
    ctx: () => GateContext;
    log: Logger;
    dir: string;
  },
): (signal: AbortSignal) => Promise<LaunchedServer> {
  const { grants, ctx, log, dir } = o;
  if (def.type === "http") {
    if (!deps.remote) {
      throw new KernelError(
        "CAPSULE_FAILED",
        `MCP server '${def.id}' is remote, and this kernel has no HTTP client for MCP`,
      );
    }
    log.log(
      "info",
      `MCP server '${def.id}' is remote: ${new URL(def.url).origin}`,
    );
    return createRemoteLauncher({
      capsule: options.capsule,
      def,
      gate: deps.gate,
      ctx,
      remote: deps.remote,
    }).launch;
  }
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
  return (signal) => launcher.launch(signal);
}
