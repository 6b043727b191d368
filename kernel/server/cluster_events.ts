/**
 * Joins this node to the cluster's events when `[cluster] nats_url` is set:
 * a kernel bus of the node (the session hub publishes its sessions' events
 * and approval requests on it), the NATS connection (never credentials
 * from the URL)
 * and the bridge to the JetStream events stream. Credentials: a token
 * (`ASTRID_NATS_TOKEN` or `keys/nats.token`) or the node's NKey seed
 * (`keys/nats.nkey`). Without `nats_url` nothing
 * is started and events stay in the process.
 *
 * The node id is the node's `[cluster] node_id` (`ASTRID_NODE_ID`, else
 * generated once into `ASTRID_HOME/var/node_id`, `./cluster_setup.ts`): it is
 * stable across restarts, since it names the node's durable consumer.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Env } from "../core/ports.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import { Bus } from "../bus/bus.ts";
import { auditDenials } from "../bus/audit_denials.ts";
import { connectNats, readNatsAuth } from "../cluster/nats/connection.ts";
import { EventBridge } from "../cluster/nats/event_bridge.ts";
import { isNodeId } from "../cluster/nats/subjects.ts";

/** The node's part of the cluster's events. */
export interface ClusterEvents {
  /** The node's kernel bus, bridged to the other nodes. */
  readonly bus: Bus;
  /** The node id. */
  readonly nodeId: string;
  /** The bridge (counters). */
  readonly bridge: EventBridge;
  /** Stops the bridge and closes the connection and the bus. */
  close(): Promise<void>;
}

/**
 * Starts the cluster's events for a booted kernel, when configured.
 *
 * @param kernel The kernel (config, key, ports, audit).
 * @param env The process's environment (`ASTRID_NATS_TOKEN`).
 * @param nodeId The node's id (stable across restarts).
 * @returns The node's part, or `undefined` when `nats_url` is empty.
 * @throws {KernelError} `CONFIG_INVALID` for a node id NATS cannot name;
 * `CLUSTER_UNAVAILABLE` when NATS or JetStream cannot be reached.
 */
export async function startClusterEvents(
  kernel: KernelHandle,
  env: Env,
  nodeId: string,
): Promise<ClusterEvents | undefined> {
  const url = kernel.config.values.cluster.nats_url;
  if (url === "") return undefined;
  if (!isNodeId(nodeId)) {
    throw new KernelError(
      "CONFIG_INVALID",
      "[cluster] node_id cannot name a NATS consumer: use 1-64 characters of [A-Za-z0-9_-]",
    );
  }
  const auth = await readNatsAuth({
    env,
    fs: kernel.ports.fs,
    home: kernel.home.root,
  });
  const { clock, random, logger } = kernel.ports;
  const bus = new Bus({
    clock,
    random,
    logger,
    onDenied: auditDenials(kernel.security.audit),
  });
  const nc = await connectNats({
    url,
    name: `astrid-${nodeId}`,
    ...(auth === undefined ? {} : { auth }),
  }).catch((err) => {
    bus.close();
    throw err;
  });
  let bridge: EventBridge;
  try {
    bridge = await EventBridge.start({
      bus,
      nc,
      nodeId,
      key: kernel.runtimeKey,
      logger,
      clock,
    });
  } catch (err) {
    await nc.close().catch(() => {});
    bus.close();
    throw err;
  }
  return {
    bus,
    nodeId,
    bridge,
    async close() {
      await bridge.close();
      await nc.drain().catch(() => {});
      bus.close();
    },
  };
}
