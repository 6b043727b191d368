/**
 * What `astrid cluster status` shows (`GET /v1/cluster`): this node, every
 * node of the registry with its health, whether the store answers (and how
 * fast) and whether NATS does. No leader is asked: each node reads the
 * shared store and judges the others' heartbeats by its own clock.
 *
 * Security model: read-only; the store URL, its password and host paths are
 * never part of the answer (errors are reduced to their code).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";
import type { Store } from "../store/store.ts";
import {
  NodeRegistry,
  NODES_NAMESPACE,
  type NodeView,
} from "./node_registry.ts";

/** Whether a dependency answers. */
export interface Reachability {
  /** `false` when the dependency is not configured (nothing was tried). */
  readonly configured: boolean;
  /** Whether it answered (`null` when not configured or not checked). */
  readonly reachable: boolean | null;
  /** How long the check took, ms (`null` when not checked). */
  readonly latency_ms: number | null;
  /** One line for people: what was checked, or the error code. */
  readonly detail: string;
}

/** The answer of `GET /v1/cluster`. */
export interface ClusterStatus {
  /** `true` when this kernel shares a PostgreSQL store (`store.url` is set). */
  readonly clustered: boolean;
  /** This node's id (`null` when not clustered). */
  readonly node_id: string | null;
  /** `deno-kv` (embedded, single node) or `postgres`. */
  readonly store_backend: "deno-kv" | "postgres";
  /** The store's reachability (a one-key read). */
  readonly store: Reachability;
  /** NATS's reachability (`cluster.nats_url`). */
  readonly nats: Reachability;
  /** The nodes of the registry (empty when not clustered). */
  readonly nodes: readonly NodeView[];
}

/** A check of NATS (pluggable: the NATS module provides the real one). */
export type NatsCheck = () => Promise<Reachability>;

/**
 * The NATS check used until a real one is wired: "not configured" for an
 * empty `cluster.nats_url`, else "configured, not checked".
 *
 * @param url `cluster.nats_url` (`""` = none).
 * @returns The check.
 */
export function natsUnchecked(url: string): NatsCheck {
  return () =>
    Promise.resolve(
      url === ""
        ? {
          configured: false,
          reachable: null,
          latency_ms: null,
          detail:
            "not configured (cluster.nats_url is empty): events stay on each node",
        }
        : {
          configured: true,
          reachable: null,
          latency_ms: null,
          detail: "configured; this build does not check it",
        },
    );
}

/** What {@linkcode clusterStatus} reads. */
export interface ClusterStatusDeps {
  /** The kernel's store. */
  readonly store: Store;
  /** The clock. */
  readonly clock: Clock;
  /** This node's id, or `null` when not clustered (no `store.url`). */
  readonly node: string | null;
  /** Checks NATS. */
  readonly nats: NatsCheck;
}

/**
 * Reads the cluster's state.
 *
 * @param deps Store, clock, node id, NATS check.
 * @returns The status (a store failure is reported, not thrown).
 */
export async function clusterStatus(
  deps: ClusterStatusDeps,
): Promise<ClusterStatus> {
  const clustered = deps.node !== null;
  const t0 = performance.now();
  let store: Reachability;
  let nodes: NodeView[] = [];
  try {
    await deps.store.get([NODES_NAMESPACE, deps.node ?? "-"]);
    const ms = Math.round((performance.now() - t0) * 100) / 100;
    store = {
      configured: true,
      reachable: true,
      latency_ms: ms,
      detail: "a one-key read answered",
    };
    if (clustered) {
      nodes = await new NodeRegistry(deps.store, deps.clock).list();
    }
  } catch (err) {
    store = {
      configured: true,
      reachable: false,
      latency_ms: Math.round((performance.now() - t0) * 100) / 100,
      detail: `the store did not answer (${
        err instanceof KernelError ? err.code : "INTERNAL"
      })`,
    };
  }
  const nats = await deps.nats().catch((err): Reachability => ({
    configured: true,
    reachable: false,
    latency_ms: null,
    detail: `the check failed (${
      err instanceof KernelError ? err.code : "INTERNAL"
    })`,
  }));
  return {
    clustered,
    node_id: deps.node,
    store_backend: clustered ? "postgres" : "deno-kv",
    store,
    nats,
    nodes,
  };
}
