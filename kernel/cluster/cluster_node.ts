/**
 * One kernel as a node of a cluster: its id, its heartbeat in the node
 * registry, and the leases of the sessions it serves — renewed together by
 * one loop every third of `cluster.lease_secs`. Started by the daemon and
 * the headless server only when `store.url` is set; with the embedded Deno
 * KV store (one process per home) nothing of this runs.
 *
 * Security model: see `session_leases.ts` (fencing) and `node_registry.ts`
 * (records are informational). A stopping node releases its leases (other
 * nodes may take its sessions at once) and marks its record stopped; a node
 * that dies is taken over once its leases expire.
 *
 * @module
 */
import type { Clock, Logger } from "../core/ports.ts";
import { KernelError } from "../core/errors.ts";
import type { Store } from "../store/store.ts";
import { NodeRegistry } from "./node_registry.ts";
import { SessionLeases } from "./session_leases.ts";

/**
 * Refuses a node id another live process uses (e.g. a home copied with its
 * `var/node_id`): a lease naming "this node" is taken without waiting, so
 * two processes with one id would both serve a session. A fresh record that
 * is not marked stopped may also be this node's own, from before a crash:
 * wait until it would be stale; if its heartbeat moved meanwhile, another
 * process is beating with this id.
 */
async function checkIdFree(
  registry: NodeRegistry,
  clock: Clock,
  node: string,
): Promise<void> {
  const seen = await registry.get(node);
  if (seen === null || seen.stopped) return;
  const staleAt = seen.heartbeat_at + seen.lease_ms;
  const now = clock.now();
  if (now > staleAt) return;
  await clock.sleep(staleAt - now + 1);
  const again = await registry.get(node);
  if (
    again !== null && !again.stopped && again.heartbeat_at !== seen.heartbeat_at
  ) {
    throw new KernelError(
      "CONFIG_INVALID",
      `Another live process is cluster node ${node} (its heartbeat is fresh): give each node its own [cluster] node_id (or delete var/node_id of a copied home)`,
    );
  }
}

/** What {@linkcode startClusterNode} needs. */
export interface ClusterNodeOptions {
  /** The shared store. */
  readonly store: Store;
  /** The clock. */
  readonly clock: Clock;
  /** The logger. */
  readonly logger: Logger;
  /** This node's id (`node_id.ts`). */
  readonly node: string;
  /** The principal whose sessions this kernel serves. */
  readonly principal: string;
  /** `cluster.lease_secs` in ms. */
  readonly leaseMs: number;
  /** `cluster.session_idle_secs` in ms (`0` = never offer a session). */
  readonly idleMs?: number;
  /** `socket` or `serve`. */
  readonly mode: string;
  /** The kernel version. */
  readonly version: string;
}

/** A running node. */
export interface ClusterNode {
  /** This node's id. */
  readonly id: string;
  /** The leases of the sessions it serves. */
  readonly leases: SessionLeases;
  /** The registry (reads). */
  readonly registry: NodeRegistry;
  /** Stops the heartbeat, releases the leases, marks the record stopped. */
  close(): Promise<void>;
}

/**
 * Registers the node (first heartbeat) and starts the heartbeat loop.
 *
 * @param options Store, clock, ids, lease length.
 * @returns The node.
 * @throws {KernelError} `STORE_UNAVAILABLE` when the first heartbeat fails;
 *   `CONFIG_INVALID` when another live process uses this node id (a fresh
 *   record of this id that is not stopped is waited out first: at most one
 *   lease, after a crash).
 */
export async function startClusterNode(
  options: ClusterNodeOptions,
): Promise<ClusterNode> {
  const { store, clock, logger } = options;
  const registry = new NodeRegistry(store, clock);
  const leases = new SessionLeases(store, clock, {
    node: options.node,
    principal: options.principal,
    ttlMs: options.leaseMs,
    ...(options.idleMs ? { idleMs: options.idleMs } : {}),
  });
  const startedAt = clock.now();
  const record = (stopped: boolean) => ({
    node_id: options.node,
    version: options.version,
    mode: options.mode,
    started_at: startedAt,
    lease_ms: options.leaseMs,
    sessions: leases.size,
    stopped,
  });
  await checkIdFree(registry, clock, options.node);
  await registry.beat(record(false));
  const stop = new AbortController();
  const every = Math.max(100, Math.floor(options.leaseMs / 3));
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        await clock.sleep(every, { signal: stop.signal });
      } catch {
        return;
      }
      try {
        await leases.renew();
        await registry.beat(record(false));
      } catch (err) {
        logger.log("warn", "cluster heartbeat failed", {
          code: err instanceof KernelError ? err.code : "INTERNAL",
        });
      }
    }
  })();
  leases.onLost((session) =>
    logger.log("warn", "session lease lost", { session })
  );
  let closing: Promise<void> | undefined;
  return {
    id: options.node,
    leases,
    registry,
    close: () =>
      closing ??= (async () => {
        stop.abort();
        await loop;
        await leases.releaseAll();
        await registry.beat(record(true)).catch(() => {});
      })(),
  };
}
