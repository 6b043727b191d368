/**
 * Prepares and spawns one `[[mcp_server]]`: the confined command line (Deno
 * flags or broker, or bubblewrap for other commands), the checks before
 * launch, the npm cache, the per-start permission broker.
 *
 * Security model: every start re-runs the checks (a symlink planted between
 * two starts is caught): granted roots must not hold a symlink that leaves
 * them, and the static import graph must stay inside the capsule dir. npm
 * packages are fetched by the kernel (`deno cache`) before the first start;
 * the child runs with `--cached-only`, so it never downloads code itself. In
 * broker mode each start gets a fresh socket that only this child may use;
 * closing it (cleanup) ends the child. Non-Deno commands run inside
 * bubblewrap, or not at all unless the capsule was installed `unconfined`.
 * In flags mode (and for sandboxed servers) every granted value that the
 * launch turns into a permission is first decided by the gate and audited
 * (`flags_decisions.ts`); one refusal refuses the start.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import { claimSocketSlot } from "../../../core/socket_slots.ts";
import { downloadError } from "../../tool_failure.ts";
import type {
  FileSystem,
  Logger,
  Net,
  Random,
  Spawner,
} from "../../../core/ports.ts";
import { denoLaunchArgs, grantedRoots } from "./launch_flags.ts";
import type { LaunchGrants, McpServerCommand } from "./launch_flags.ts";
import {
  checkGrantedRootsForSymlinkEscape,
  checkImportGraph,
} from "./prelaunch_checks.ts";
import {
  type BrokerDecide,
  startPermissionBroker,
} from "./permission_broker.ts";
import { sandboxLaunchArgs } from "./sandbox_launch.ts";
import { decideFlags, flagChecks } from "./flags_decisions.ts";
import type { LaunchedServer } from "./server_process.ts";

/** Host dependencies of {@linkcode createServerLauncher}. */
export interface ServerLaunchDeps {
  readonly spawner: Spawner;
  readonly fs: FileSystem;
  readonly net: Net;
  readonly random: Random;
  /** The `deno` executable. */
  readonly denoPath: string;
  /** Deno's cache dir, shared by the kernel and its children. */
  readonly denoDir?: string;
  /** Environment of `deno cache` (certificates, proxies); never given to servers. */
  readonly cacheEnv: Readonly<Record<string, string>>;
  /** `bwrap` when bubblewrap works here, else `null`. */
  readonly bubblewrap: string | null;
}

/** What one server of one capsule is launched with. */
export interface ServerLaunchSpec {
  /** The server id (manifest). */
  readonly server: string;
  /** Its command and arguments. */
  readonly command: McpServerCommand;
  /** The capsule's manifest grants. */
  readonly grants: LaunchGrants;
  /** Absolute capsule dir (cwd). */
  readonly capsuleDir: string;
  /** Absolute workspace root. */
  readonly workspace: string;
  /** Absolute principal home. */
  readonly principalHome?: string;
  /** Values of the granted env names. */
  readonly envValues: Readonly<Record<string, string>>;
  /** `broker` (default) or `flags`. */
  readonly mode: "broker" | "flags";
  /** Gate decisions: each broker check (broker mode), each flag value (flags mode, sandbox). */
  readonly decide: BrokerDecide;
  /** A `0700` directory for broker sockets (short path). */
  readonly socketDir: string;
  /** Sandboxed servers: their only writable dir. */
  readonly scratchDir: string;
  /** Sandboxed servers: dirs hidden behind an empty tmpfs (the kernel's home). */
  readonly hiddenDirs: readonly string[];
  /** The operator installed the capsule `unconfined` and approved that. */
  readonly unconfined: boolean;
}

/** How the server was (or will be) confined, for logs and audit. */
export type Confinement = "deno-broker" | "deno-flags" | "bwrap" | "unconfined";

/**
 * Returns a launch function for one server: each call runs the pre-launch
 * checks, starts a fresh broker when needed and spawns the child.
 *
 * @param deps Host ports and paths.
 * @param spec The server, its grants and confinement choices.
 * @param logger Receives what the launcher decided.
 * @returns `confinement` and `launch(signal)`.
 * @throws {KernelError} (from `launch`) `MANIFEST_INVALID`, `VFS_PATH_ESCAPE`,
 *   `HOST_PERMISSION_DENIED` (no bubblewrap), `CAPSULE_FAILED` (npm cache),
 *   `HOST_IO`, `ABORTED`.
 */
export function createServerLauncher(
  deps: ServerLaunchDeps,
  spec: ServerLaunchSpec,
  logger: Logger,
): {
  confinement: Confinement;
  launch(signal: AbortSignal): Promise<LaunchedServer>;
} {
  const probe = denoLaunchArgs(spec.command, spec.grants, {
    denoPath: deps.denoPath,
    capsuleDir: spec.capsuleDir,
    workspace: spec.workspace,
    mode: spec.mode,
    ...(spec.principalHome ? { principalHome: spec.principalHome } : {}),
  });
  if (probe.kind === "needs_sandbox") {
    const confinement = deps.bubblewrap ? "bwrap" : "unconfined";
    return {
      confinement,
      launch: (signal) => launchSandboxed(deps, spec, signal, logger),
    };
  }
  let cached = false;
  return {
    confinement: spec.mode === "broker" ? "deno-broker" : "deno-flags",
    async launch(signal) {
      if (!cached) {
        await cacheEntry(deps, probe.entry, signal);
        cached = true;
      }
      return await launchDeno(deps, spec, signal, logger);
    },
  };
}

async function cacheEntry(
  deps: ServerLaunchDeps,
  entry: string,
  signal: AbortSignal,
): Promise<void> {
  const out = await deps.spawner.output(deps.denoPath, {
    args: ["cache", "--no-config", entry],
    env: {
      ...deps.cacheEnv,
      ...(deps.denoDir ? { DENO_DIR: deps.denoDir } : {}),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    signal,
  });
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    const download = downloadError(
      `Starting the MCP server '${path.posix.basename(entry)}'`,
      stderr,
    );
    if (download) throw download;
    const err = stderr.split("\n")
      .filter((l) => l.trim() !== "").slice(-3).join(" ");
    throw new KernelError(
      "CAPSULE_FAILED",
      `Cannot fetch the MCP server '${
        path.posix.basename(entry)
      }' into Deno's cache: ${err.slice(0, 500)}`,
    );
  }
}

async function launchDeno(
  deps: ServerLaunchDeps,
  spec: ServerLaunchSpec,
  signal: AbortSignal,
  logger: Logger,
): Promise<LaunchedServer> {
  const base = {
    denoPath: deps.denoPath,
    capsuleDir: spec.capsuleDir,
    workspace: spec.workspace,
    envValues: spec.envValues,
    ...(spec.principalHome ? { principalHome: spec.principalHome } : {}),
    ...(deps.denoDir ? { denoDir: deps.denoDir } : {}),
  };
  const roots = grantedRoots(spec.grants, base);
  await checkGrantedRootsForSymlinkEscape(deps.fs, [
    ...roots.read,
    ...roots.write,
  ], { signal });
  const first = denoLaunchArgs(spec.command, spec.grants, {
    ...base,
    mode: spec.mode,
  });
  if (first.kind !== "deno") throw new TypeError("not a Deno server");
  // `deno info` is kernel tooling: the tool environment, never the server's.
  await checkImportGraph(deps, {
    denoPath: deps.denoPath,
    entry: first.entry,
    capsuleDir: spec.capsuleDir,
    env: {
      ...deps.cacheEnv,
      ...(deps.denoDir ? { DENO_DIR: deps.denoDir } : {}),
    },
    signal,
  });
  if (spec.mode === "flags") {
    // Every flag value is a gate decision (policy, mode, audit) first.
    await decideFlags(spec.decide, flagChecks(spec.grants, base), spec.server);
    logger.log("info", `MCP server '${spec.server}' starts with flags`, {
      server: spec.server,
      flags: first.args.filter((a) => a.startsWith("--allow-")),
    });
  }
  let broker: Awaited<ReturnType<typeof startPermissionBroker>> | null = null;
  let slot: { release(): void } | null = null;
  let args = first.args;
  let env = first.env;
  if (spec.mode === "broker") {
    // A fixed slot name: the daemon's Deno flags allow exactly those paths.
    const claimed = await claimSocketSlot(
      spec.socketDir,
      "mcp",
      async (socketPath) => {
        try {
          return await startPermissionBroker({
            socketPath,
            decide: spec.decide,
            net: deps.net,
            logger,
            signal,
          });
        } catch (err) {
          if (KernelError.is(err) && err.data?.["inUse"] === true) return null;
          throw err;
        }
      },
    );
    slot = claimed;
    broker = claimed.value;
    const withBroker = denoLaunchArgs(spec.command, spec.grants, {
      ...base,
      mode: "broker",
      brokerPath: broker.path,
    });
    if (withBroker.kind !== "deno") throw new TypeError("not a Deno server");
    args = withBroker.args;
    env = withBroker.env;
  }
  const cleanup = async (): Promise<void> => {
    try {
      await broker?.close();
    } finally {
      slot?.release();
    }
  };
  try {
    const child = deps.spawner.spawn(first.command, {
      args: [args[0]!, "--cached-only", ...args.slice(1)],
      env,
      cwd: first.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    return { child, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function launchSandboxed(
  deps: ServerLaunchDeps,
  spec: ServerLaunchSpec,
  signal: AbortSignal,
  logger: Logger,
): Promise<LaunchedServer> {
  signal.throwIfAborted();
  const plan = sandboxLaunchArgs(spec.command, spec.grants, {
    bwrapPath: deps.bubblewrap,
    capsuleDir: spec.capsuleDir,
    workspace: spec.workspace,
    writableDir: spec.scratchDir,
    envValues: spec.envValues,
    unconfined: spec.unconfined,
    hiddenDirs: spec.hiddenDirs,
    ...(spec.principalHome ? { principalHome: spec.principalHome } : {}),
  });
  // The sandbox's grants are decided like flags (policy, mode, audit).
  await decideFlags(
    spec.decide,
    flagChecks(spec.grants, {
      capsuleDir: spec.capsuleDir,
      workspace: spec.workspace,
      ...(spec.principalHome ? { principalHome: spec.principalHome } : {}),
    }),
    spec.server,
  );
  if (plan.kind === "unconfined") {
    logger.log(
      "warn",
      `MCP server '${spec.server}' runs UNCONFINED (operator-approved at install): bubblewrap is not available`,
      { server: spec.server },
    );
  }
  if (plan.warning !== undefined) {
    logger.log("warn", plan.warning, { server: spec.server });
  }
  await deps.fs.mkdir(spec.scratchDir, { recursive: true });
  const child = deps.spawner.spawn(plan.command, {
    args: plan.args,
    env: plan.env,
    cwd: plan.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  return { child, cleanup: () => Promise.resolve() };
}
