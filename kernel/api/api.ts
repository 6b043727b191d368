/**
 * The API's composition: the route table with every slice's handlers, one
 * per concern — sessions, prompts, approvals and workspaces
 * (`routes_sessions.ts`); the tool gateway (`routes_tools.ts`); capsules, audit, keys and config
 * (`routes_admin.ts`); status and shutdown (`routes_system.ts`).
 *
 * @module
 */
import type { KernelHandle } from "../daemon/boot.ts";
import type { EngineStatus } from "./contract.ts";
import { Router } from "./router.ts";
import type { ClusterStatus } from "../cluster/cluster_status.ts";
import type { SessionHub } from "./session_hub.ts";
import { sessionRoutes } from "./routes_sessions.ts";
import { adminRoutes } from "./routes_admin.ts";
import { systemRoutes } from "./routes_system.ts";
import { toolRoutes } from "./routes_tools.ts";

/** What the routes work on. */
export interface ApiDeps {
  /** The kernel (store, gate, audit, keys, config). */
  readonly kernel: KernelHandle;
  /** The sessions. */
  readonly hub: SessionHub;
  /** `socket` (daemon) or `serve` (headless server). */
  readonly mode: "socket" | "serve";
  /** When the server started (ms since the epoch). */
  readonly startedAt: number;
  /** Idle timeout of an ephemeral daemon, or `null`. */
  readonly idleTimeoutMs: number | null;
  /** Which engines can run here. */
  readonly engines: readonly EngineStatus[];
  /** Asks the server to stop (graceful). */
  readonly shutdown: () => void;
  /**
   * The cluster's status (`GET /v1/cluster`); default: this kernel alone
   * (not clustered, NATS not configured).
   */
  readonly cluster?: () => Promise<ClusterStatus>;
}

/**
 * Builds the API's router.
 *
 * @param deps Kernel, sessions, server facts.
 * @returns The router (serve it with `router.handler({ token })`).
 */
export function createApi(deps: ApiDeps): Router {
  const router = new Router();
  sessionRoutes(router, deps);
  toolRoutes(router, deps);
  adminRoutes(router, deps);
  systemRoutes(router, deps);
  return router;
}
