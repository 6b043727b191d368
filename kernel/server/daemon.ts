/**
 * The daemon: the kernel and its sessions behind the HTTP API on the home's
 * Unix socket. One per `ASTRID_HOME` (an exclusive lock); the files of a
 * killed daemon are recognised as stale and replaced; the token is new each
 * boot; `run/system.ready` exists exactly while it serves. An ephemeral
 * daemon (auto-started by the CLI) exits after `timeouts.idle_secs` without
 * requests or running turns. Shutdown (signal, API, idle) stops accepting,
 * closes the sessions, flushes and closes the kernel, and removes its files.
 *
 * @module
 */
import * as path from "node:path";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { Env, Logger } from "../core/ports.ts";
import {
  createDenoEnv,
  createDenoFs,
  createDenoSignals,
  ensureLayout,
} from "../host/mod.ts";
import { acquireDaemonLock } from "../host/daemon_lock.ts";
import { removeQuietly, writePrivateFile } from "../host/secret_file.ts";
import { createDenoNet } from "../host/deno_net.ts";
import type { UnixServer } from "../core/ports.ts";
import { processFacts, subprocessesPermitted } from "../host/process_info.ts";
import { createApi } from "../api/api.ts";
import { type KernelHandle, kernelPaths, startKernel } from "../daemon/boot.ts";
import { createSessionHub } from "../turn/session_hub.ts";
import { type ClusterSetup, setupCluster } from "./cluster_setup.ts";
import { Activity } from "./activity.ts";
import { watchIdle } from "./idle_watch.ts";
import { engineStatuses } from "./engines.ts";
import {
  newBearerToken,
  type ReadyInfo,
  runFiles,
} from "../daemon/run_files.ts";
import type { RunFiles } from "../daemon/run_files.ts";
import type { SessionHub } from "../api/session_hub.ts";

/** Options of {@linkcode startDaemon}. */
export interface DaemonOptions {
  /** The workspace roots given on the command line (`--root`). */
  readonly roots?: readonly string[];
  /** Exit after `timeouts.idle_secs` without activity (auto-started daemons). */
  readonly ephemeral?: boolean;
  /** Environment; default: the process environment. */
  readonly env?: Env;
  /** Logger; default: the kernel's (stderr). */
  readonly logger?: Logger;
  /** Stop gracefully on SIGINT/SIGTERM (default `true`). */
  readonly handleSignals?: boolean;
}

/** A running daemon. */
export interface Daemon {
  /** Its runtime files. */
  readonly files: RunFiles;
  /** The workspace roots it serves. */
  readonly roots: readonly string[];
  /** Resolves once it has stopped and removed its files. */
  readonly finished: Promise<void>;
  /** Stops it gracefully (idempotent). */
  shutdown(reason: string): Promise<void>;
}

/** Commands whose permission means the MCP engine can start servers. */
const MCP_COMMANDS = ["bwrap", "deno"];

/**
 * Starts the daemon of the home and serves until shut down.
 *
 * @param options Roots, ephemeral, environment.
 * @returns The daemon, serving (`run/system.ready` written).
 * @throws {KernelError} `DAEMON_RUNNING` when another daemon serves the
 *   home; boot errors of the kernel (`CONFIG_*`, `KEY_*`, `STORE_*`, ...).
 */
export async function startDaemon(
  options: DaemonOptions = {},
): Promise<Daemon> {
  const env = options.env ?? createDenoEnv();
  const fs = createDenoFs();
  const { home } = kernelPaths({ env });
  await ensureLayout(fs, home, { principal: DEFAULT_PRINCIPAL });
  const files = runFiles(home);
  const lock = await acquireDaemonLock(files.lock);
  // Undone last-first: the lock goes only after the files are removed, so
  // a failed start never deletes the files of a daemon that started since.
  const undo: Array<() => Promise<unknown>> = [
    () => lock.release(),
    async () => {
      await removeQuietly(files.ready);
      await removeQuietly(files.token);
      await removeQuietly(files.socket);
    },
  ];
  const rollback = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => {});
  };
  try {
    // We hold the lock: any socket, token or sentinel left here belongs to a
    // daemon that died without cleaning up.
    const stale = [
      await removeQuietly(files.socket),
      await removeQuietly(files.ready),
      await removeQuietly(files.token),
    ].some(Boolean);
    const kernel = await startKernel({
      env,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    undo.push(() => kernel.close());
    const logger = kernel.ports.logger.child({ component: "daemon" });
    if (stale) logger.log("warn", "removed the files of a daemon that died");
    const roots = [
      ...new Set(
        [...(options.roots ?? []), ...kernel.config.values.workspace.roots]
          .map((r) => path.resolve(r)),
      ),
    ];
    const mcpAvailable = await subprocessesPermitted(MCP_COMMANDS);
    // The workspace the daemon was started for gets a session booted ahead.
    const spare = options.roots?.[0];
    // With store.url set this kernel is a cluster node (heartbeat, leases);
    // with cluster.nats_url set it also joins the cluster's events.
    const cluster = await setupCluster(kernel, { mode: "socket", env });
    undo.push(() => cluster.close());
    const hub = await createSessionHub(kernel, {
      roots,
      env,
      mcpAvailable,
      ...(spare === undefined ? {} : { spare: path.resolve(spare) }),
      ...(cluster.node ? { leases: cluster.node.leases } : {}),
      ...(cluster.events ? { cluster: cluster.events } : {}),
    });
    undo.push(() => hub.close());
    const token = newBearerToken(kernel.ports.random);
    await writePrivateFile(files.token, token);
    const clock = kernel.ports.clock;
    const startedAt = clock.now();
    const ephemeral = options.ephemeral ?? false;
    const idleMs = ephemeral
      ? kernel.config.values.timeouts.idle_secs * 1000
      : null;
    const activity = new Activity(() => clock.now());
    // A shutdown asked for before the lifecycle exists runs once it does.
    let early: string | undefined;
    let stop: (reason: string) => Promise<void> = (reason) => {
      early ??= reason;
      return Promise.resolve();
    };
    const router = createApi({
      kernel,
      hub,
      mode: "socket",
      startedAt,
      idleTimeoutMs: idleMs,
      engines: engineStatuses(mcpAvailable),
      shutdown: () => void stop("api"),
      cluster: cluster.status,
    });
    const server = await createDenoNet({ logger }).serveUnix(
      files.socket,
      activity.wrap(router.handler({ token: () => token })),
    );
    undo.push(() => server.shutdown());
    const ready: ReadyInfo = {
      pid: processFacts().pid,
      started_at: startedAt,
      ephemeral,
      roots: (options.roots ?? []).map((r) => path.resolve(r)),
    };
    await writePrivateFile(files.ready, JSON.stringify(ready));
    undo.length = 0;
    const stopping = lifecycle({
      kernel,
      hub,
      cluster,
      server,
      files,
      logger,
      release: () => lock.release(),
    });
    stop = stopping.shutdown;
    const idle = idleMs === null ? undefined : watchIdle({
      idleMs,
      activity,
      now: () => clock.now(),
      busy: async () => (await hub.list()).some((s) => s.busy),
      onIdle: () => void stop("idle"),
    });
    const disposeSignals = options.handleSignals === false
      ? () => {}
      : createDenoSignals().onShutdown((signal) => void stop(signal));
    stopping.finished.finally(() => {
      idle?.stop();
      disposeSignals();
    });
    if (early !== undefined) void stop(early);
    logger.log("info", "daemon serving", {
      ephemeral,
      roots: roots.length,
      mcp: mcpAvailable,
    });
    return {
      files,
      roots,
      finished: stopping.finished,
      shutdown: stop,
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}

function lifecycle(parts: {
  kernel: KernelHandle;
  hub: SessionHub;
  cluster: ClusterSetup;
  server: UnixServer;
  files: RunFiles;
  logger: Logger;
  release: () => Promise<void>;
}): { shutdown(reason: string): Promise<void>; finished: Promise<void> } {
  const { kernel, hub, cluster, server, files, logger } = parts;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let running: Promise<void> | undefined;
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      logger.log("error", `shutdown: ${what} failed`, {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };
  const shutdown = (reason: string): Promise<void> => {
    running ??= (async () => {
      logger.log("info", "daemon stopping", { reason });
      // Not ready any more: clients stop coming before the socket closes.
      await removeQuietly(files.ready);
      const serverDone = server.shutdown();
      // Ends every turn and stream, so the open requests can finish.
      await step("closing the sessions", () => hub.close());
      await step("leaving the cluster", () => cluster.close());
      await step("finishing open requests", async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          serverDone,
          new Promise((r) => (timer = setTimeout(r, 5000))),
        ]);
        clearTimeout(timer);
      });
      await step("closing the kernel", () => kernel.close());
      await removeQuietly(files.socket);
      await removeQuietly(files.token);
      await step("releasing the lock", parts.release);
      logger.log("info", "daemon stopped", { reason });
      done();
    })();
    return running;
  };
  return { shutdown, finished };
}
