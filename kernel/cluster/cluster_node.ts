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
 * @throws {KernelError} `STORE_UNAVAILABLE` when the first heartbeat fails.
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
