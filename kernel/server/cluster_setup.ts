/**
 * The cluster part of a kernel process (daemon or headless server), one place
 * for both halves of a node:
 *
 * - with `store.url` set, the kernel is a node of the store — its id
 *   (`kernel/cluster/node_id.ts`), its heartbeat in the node registry and the
 *   leases of the sessions it serves;
 * - with `cluster.nats_url` set, it joins the cluster's events
 *   (`./cluster_events.ts`: the JetStream bridge, named by the same node id,
 *   which names its durable consumer and so must be stable across restarts).
 *
 * With neither, nothing runs, no node id is generated, and the status says
 * "not clustered". Either way it answers `GET /v1/cluster`.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import { type ClusterNode, startClusterNode } from "../cluster/cluster_node.ts";
import {
  type ClusterStatus,
  clusterStatus,
  type NatsCheck,
  natsUnchecked,
} from "../cluster/cluster_status.ts";
import { resolveNodeId } from "../cluster/node_id.ts";
// The NATS client (and Node's net behind it) loads only when
// `cluster.nats_url` is set: a daemon without a cluster starts without it.
import type { ClusterEvents } from "./cluster_events.ts";
import { VERSION } from "../../version.ts";

/** A process's cluster membership. */
export interface ClusterSetup {
  /** The node, when `store.url` is set. */
  readonly node: ClusterNode | undefined;
  /** The node's events bridge, when `cluster.nats_url` is set. */
  readonly events: ClusterEvents | undefined;
  /** Reads the cluster's status (`GET /v1/cluster`). */
  readonly status: () => Promise<ClusterStatus>;
  /** Leaves the events, stops the heartbeat, releases the leases (idempotent). */
  close(): Promise<void>;
}

/**
 * Joins the cluster when `store.url` or `cluster.nats_url` is set.
 *
 * @param kernel The booted kernel.
 * @param options `mode` (`socket` or `serve`); `env`: the process's
 * environment (NATS credentials); `nats`: the NATS check (default: a real
 * health check of `cluster.nats_url`, or "not configured").
 * @returns The membership.
 * @throws {KernelError} `CONFIG_INVALID` (malformed node id),
 * `STORE_UNAVAILABLE`, `CLUSTER_UNAVAILABLE` (NATS or JetStream unreachable).
 */
export async function setupCluster(
  kernel: KernelHandle,
  options: { mode: "socket" | "serve"; env: Env; nats?: NatsCheck },
): Promise<ClusterSetup> {
  const { store, cluster } = kernel.config.values;
  const { clock, fs, random, logger } = kernel.ports;
  const nodeId = store.url === "" && cluster.nats_url === ""
    ? undefined
    : await resolveNodeId({
      configured: cluster.node_id,
      varDir: kernel.home.var,
      fs,
      random,
    });
  const node = store.url === "" || nodeId === undefined
    ? undefined
    : await startClusterNode({
      store: kernel.store,
      clock,
      logger: logger.child({ component: "cluster" }),
      node: nodeId,
      principal: kernel.principal,
      leaseMs: cluster.lease_secs * 1000,
      idleMs: cluster.session_idle_secs * 1000,
      mode: options.mode,
      version: VERSION,
    });
  let events: ClusterEvents | undefined;
  try {
    events = nodeId === undefined || cluster.nats_url === ""
      ? undefined
      : await (await import("./cluster_events.ts")).startClusterEvents(
        kernel,
        options.env,
        nodeId,
      );
  } catch (err) {
    await node?.close();
    throw err;
  }
  const nats = options.nats ?? natsCheck(kernel, options.env);
  let closing: Promise<void> | undefined;
  return {
    node,
    events,
    status: () =>
      clusterStatus({
        store: kernel.store,
        clock,
        node: nodeId ?? null,
        nats,
      }),
    close: () =>
      closing ??= (async () => {
        try {
          await events?.close();
        } finally {
          await node?.close();
        }
      })(),
  };
}

/** The real NATS check of `cluster.nats_url` ("not configured" when empty). */
function natsCheck(kernel: KernelHandle, env: Env): NatsCheck {
  const url = kernel.config.values.cluster.nats_url;
  if (url === "") return natsUnchecked("");
  return async () => {
    const started = performance.now();
    const { readNatsAuth } = await import("../cluster/nats/connection.ts");
    const { natsHealth } = await import("../cluster/nats/health.ts");
    const auth = await readNatsAuth({
      env,
      fs: kernel.ports.fs,
      home: kernel.home.root,
    }).catch(() => undefined);
    const h = await natsHealth(url, auth === undefined ? {} : { auth });
    const latency = Math.round((performance.now() - started) * 100) / 100;
    if (!h.reachable || !h.jetstream) {
      return {
        configured: true,
        reachable: false,
        latency_ms: latency,
        detail: `${h.servers}: ${h.error?.code ?? "CLUSTER_UNAVAILABLE"} ${
          h.error?.message ?? "JetStream does not answer"
        }`,
      };
    }
    const stream = h.events_stream_messages === null ||
        h.events_stream_messages === undefined
      ? "no events stream yet"
      : `events stream ${h.events_stream_messages} messages, ${
        h.events_consumers ?? 0
      } consumers`;
    return {
      configured: true,
      reachable: true,
      latency_ms: latency,
      detail: `${h.server} (nats-server ${h.version}), JetStream on, ${stream}`,
    };
  };
}
