/**
 * The cluster part of a kernel process (daemon or headless server): with
 * `store.url` set, the kernel is a node — its id (`kernel/cluster/node_id.ts`),
 * its heartbeat in the node registry and the leases of the sessions it
 * serves; with the embedded Deno KV store nothing runs and the status says
 * "not clustered". Either way it answers `GET /v1/cluster`.
 *
 * @module
 */
import type { KernelHandle } from "../daemon/boot.ts";
import { type ClusterNode, startClusterNode } from "../cluster/cluster_node.ts";
import {
  type ClusterStatus,
  clusterStatus,
  type NatsCheck,
  natsUnchecked,
} from "../cluster/cluster_status.ts";
import { resolveNodeId } from "../cluster/node_id.ts";
import { VERSION } from "../../version.ts";

/** A process's cluster membership. */
export interface ClusterSetup {
  /** The node, when `store.url` is set. */
  readonly node: ClusterNode | undefined;
  /** Reads the cluster's status (`GET /v1/cluster`). */
  readonly status: () => Promise<ClusterStatus>;
  /** Stops the heartbeat and releases the leases (idempotent). */
  close(): Promise<void>;
}

/**
 * `cluster.nats_url` when the config knows the key (owned by the NATS part),
 * else `""`.
 */
function natsUrlOf(kernel: KernelHandle): string {
  const cluster = kernel.config.values.cluster as unknown as Record<
    string,
    unknown
  >;
  const url = cluster["nats_url"];
  return typeof url === "string" ? url : "";
}

/**
 * Joins the cluster when `store.url` is set.
 *
 * @param kernel The booted kernel.
 * @param options `mode` (`socket` or `serve`); `nats`: the NATS check (default: "not configured" / "not checked").
 * @returns The membership.
 * @throws {KernelError} `CONFIG_INVALID` (malformed node id), `STORE_UNAVAILABLE`.
 */
export async function setupCluster(
  kernel: KernelHandle,
  options: { mode: "socket" | "serve"; nats?: NatsCheck },
): Promise<ClusterSetup> {
  const nats = options.nats ?? natsUnchecked(natsUrlOf(kernel));
  const { clock, fs, random, logger } = kernel.ports;
  const node = kernel.config.values.store.url === ""
    ? undefined
    : await startClusterNode({
      store: kernel.store,
      clock,
      logger: logger.child({ component: "cluster" }),
      node: await resolveNodeId({
        configured: kernel.config.values.cluster.node_id,
        varDir: kernel.home.var,
        fs,
        random,
      }),
      principal: kernel.principal,
      leaseMs: kernel.config.values.cluster.lease_secs * 1000,
      idleMs: kernel.config.values.cluster.session_idle_secs * 1000,
      mode: options.mode,
      version: VERSION,
    });
  return {
    node,
    status: () =>
      clusterStatus({
        store: kernel.store,
        clock,
        node: node?.id ?? null,
        nats,
      }),
    close: () => node?.close() ?? Promise.resolve(),
  };
}
