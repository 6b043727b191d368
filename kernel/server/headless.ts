/**
 * The headless server's composition (`kernel/serve.ts`, run by `deno serve`
 * or on Deno Deploy): the same API as the daemon, over HTTP, with a bearer
 * token the operator chooses (`ASTRID_SERVE_TOKEN`, at least 32
 * characters). Where subprocesses are not permitted, the MCP engine is
 * reported unavailable and sessions boot without it. The web console is
 * mounted under `/console/`: its login form takes the same token, and it
 * reaches the API in process.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { Env } from "../core/ports.ts";
import { createDenoEnv, createDenoFs, ensureLayout } from "../host/mod.ts";
import { acquireDaemonLock } from "../host/daemon_lock.ts";
import { subprocessesPermitted } from "../host/process_info.ts";
import { createApi } from "../api/api.ts";
import { ApiClient } from "../api/client.ts";
import type { ConnectionInfo } from "../api/router.ts";
import { createConsole } from "../web/console.ts";
import { kernelPaths, startKernel } from "../daemon/boot.ts";
import { createSessionHub } from "../turn/session_hub.ts";
import { type ClusterSetup, setupCluster } from "./cluster_setup.ts";
import { engineStatuses } from "./engines.ts";
import { runFiles } from "../daemon/run_files.ts";

/** The shortest `ASTRID_SERVE_TOKEN` accepted. */
export const MIN_SERVE_TOKEN_LENGTH = 32;

/** Where the headless server mounts the web console. */
export const CONSOLE_BASE = "/console/";

/** A running headless server. */
export interface HeadlessServer {
  /** The fetch handler: the API (bearer auth, routes, coded errors) and the console under `/console/`. */
  readonly fetch: (
    request: Request,
    info?: ConnectionInfo,
  ) => Promise<Response>;
  /** Closes the sessions and the kernel, releases the home (idempotent). */
  close(): Promise<void>;
}

/**
 * Checks the operator's bearer token.
 *
 * @param token `ASTRID_SERVE_TOKEN`.
 * @returns The token.
 * @throws {KernelError} `CONFIG_INVALID` when missing or shorter than 32 characters.
 */
export function checkServeToken(token: string | undefined): string {
  if (token === undefined || token.length < MIN_SERVE_TOKEN_LENGTH) {
    throw new KernelError(
      "CONFIG_INVALID",
      `The headless server needs ASTRID_SERVE_TOKEN, a secret of at least ${MIN_SERVE_TOKEN_LENGTH} characters (e.g. 'openssl rand -base64 32')`,
    );
  }
  return token;
}

/**
 * Boots the kernel of `ASTRID_HOME` and builds the API for `deno serve`.
 * Takes the home's daemon lock: a home is served by one process at a time.
 *
 * @param env Environment (default: the process's).
 * @returns The server.
 * @throws {KernelError} `CONFIG_INVALID` (token), `HOME_INVALID` (no
 *   `ASTRID_HOME`), `DAEMON_RUNNING`, boot errors.
 */
export async function startHeadless(
  env: Env = createDenoEnv(),
): Promise<HeadlessServer> {
  const token = checkServeToken(env.get("ASTRID_SERVE_TOKEN"));
  if (!env.get("ASTRID_HOME")) {
    throw new KernelError(
      "HOME_INVALID",
      "The headless server needs ASTRID_HOME (an absolute directory for its state)",
    );
  }
  const { home } = kernelPaths({ env });
  await ensureLayout(createDenoFs(), home, { principal: DEFAULT_PRINCIPAL });
  const lock = await acquireDaemonLock(runFiles(home).lock);
  try {
    const kernel = await startKernel({ env });
    let cluster: ClusterSetup | undefined;
    try {
      const mcpAvailable = await subprocessesPermitted(["bwrap", "deno"]);
      const roots = kernel.config.values.workspace.roots.map((r) =>
        path.resolve(r)
      );
      // With store.url set this kernel is a cluster node (heartbeat, leases);
      // with cluster.nats_url set it also joins the cluster's events.
      const joined = await setupCluster(kernel, { mode: "serve", env });
      cluster = joined;
      const hub = await createSessionHub(kernel, {
        roots,
        env,
        mcpAvailable,
        ...(joined.node ? { leases: joined.node.leases } : {}),
        ...(joined.events ? { cluster: joined.events } : {}),
      });
      const router = createApi({
        kernel,
        hub,
        mode: "serve",
        startedAt: kernel.ports.clock.now(),
        idleTimeoutMs: null,
        engines: engineStatuses(mcpAvailable),
        shutdown: () => {},
        cluster: joined.status,
      });
      const api = router.handler({ token: () => token });
      // The console logs in with the server's token (its login form) and
      // reaches the API in process, as any other client would.
      const web = createConsole({
        api: new ApiClient({ handler: (r) => api(r) }, token),
        base: CONSOLE_BASE,
        loginSecret: () => token,
        secureCookie: "auto",
      });
      let closing: Promise<void> | undefined;
      return {
        fetch: (request, info) => {
          const p = new URL(request.url).pathname;
          return p === "/console" || p.startsWith(CONSOLE_BASE)
            ? web.handler(request, info)
            : api(request, info);
        },
        close: () =>
          closing ??= (async () => {
            web.close();
            try {
              try {
                await hub.close();
              } finally {
                // Leave the cluster: the leases go back at once.
                await joined.close();
              }
            } finally {
              try {
                await kernel.close();
              } finally {
                await lock.release();
              }
            }
          })(),
      };
    } catch (err) {
      await cluster?.close().catch(() => {});
      await kernel.close().catch(() => {});
      throw err;
    }
  } catch (err) {
    await lock.release();
    throw err;
  }
}
