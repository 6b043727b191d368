/**
 * The options of the daemon's session hub (`session_hub.ts`): roots, the
 * environment, engines, deadlines, the spare session, and a cluster node's
 * events and leases.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";
import type { Bus } from "../bus/bus.ts";
import type { SessionLeases } from "../cluster/session_leases.ts";

/** Options of `createSessionHub()`. */
export interface SessionHubOptions {
  /**
   * Absolute directories a workspace must lie in (config `workspace.roots`
   * plus the roots the daemon was started with, merged by the caller).
   */
  readonly roots: readonly string[];
  /** The daemon's environment (`ASTRID_PROVIDER`, `ASTRID_REPLAY_FILE`). */
  readonly env: Env;
  /** Where a relative `ASTRID_REPLAY_FILE` starts (default `/`). */
  readonly cwd?: string;
  /** `false` on a host without subprocesses (no bubblewrap lookup). */
  readonly mcpAvailable?: boolean;
  /** The longest a turn may take, waits included. */
  readonly turnTimeoutMs?: number;
  /**
   * Keep one session's runtime booted ahead for this workspace (and then
   * for the workspace of the last session created), so that a new
   * session's first turn does not wait for its capsules to boot.
   */
  readonly spare?: string;
  /**
   * The node's kernel bus bridged to the other nodes (`[cluster]
   * nats_url`): sessions' events and approval requests are published on it,
   * other nodes' requests listed and answered through it.
   */
  readonly cluster?: { readonly bus: Bus };
  /**
   * The leases of this cluster node (`store.url` set): a session is served
   * only while this node holds its lease, and its capsules write through the
   * store fenced by it. Absent on a single node.
   */
  readonly leases?: SessionLeases;
  /**
   * Idle session runtimes kept booted (the most recently used; default the
   * config's `sessions.keep_booted`, 8); the others are closed and boot
   * again on their session's next use.
   */
  readonly keepIdleRuntimes?: number;
}
