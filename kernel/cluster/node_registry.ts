/**
 * The node registry: one record per node of a cluster in the shared store
 * (`["cluster:nodes", node_id]`), rewritten by the node's heartbeat. There is
 * no leader and no membership protocol: a node is alive while its last
 * heartbeat is younger than its lease (`cluster.lease_secs`), judged by the
 * reader's clock; a record whose node stopped gracefully says so.
 *
 * Security model: records are facts a node states about itself for
 * operators (`astrid cluster status`); nothing is authorised by them. Session
 * ownership is decided by the session leases (`session_leases.ts`), never by
 * the registry.
 *
 * @module
 */
import type { Clock } from "../core/ports.ts";
import type { JsonValue, Store, StoreKey } from "../store/store.ts";

/** Store namespace of the node records. */
export const NODES_NAMESPACE = "cluster:nodes";

/** Records of nodes silent for longer than this are deleted by any heartbeat. */
export const FORGET_AFTER_MS = 24 * 3_600_000;

/** What a node states about itself. */
export interface NodeRecord {
  /** The node id. */
  readonly node_id: string;
  /** The kernel version. */
  readonly version: string;
  /** `socket` (daemon) or `serve` (headless server). */
  readonly mode: string;
  /** When this process started, ms since the epoch. */
  readonly started_at: number;
  /** The last heartbeat, ms since the epoch (the node's clock). */
  readonly heartbeat_at: number;
  /** How long the heartbeat counts, ms. */
  readonly lease_ms: number;
  /** Sessions whose lease this node holds. */
  readonly sessions: number;
  /** `true` once the node stopped gracefully. */
  readonly stopped: boolean;
}

/** A node as a reader sees it. */
export interface NodeView extends NodeRecord {
  /** `alive` (fresh heartbeat), `stale` (missed it) or `stopped`. */
  readonly health: "alive" | "stale" | "stopped";
  /** How old the last heartbeat is, by the reader's clock (ms, ≥ 0). */
  readonly age_ms: number;
}

/** The registry, for one node's writes and anyone's reads. */
export class NodeRegistry {
  readonly #store: Store;
  readonly #clock: Clock;

  /**
   * @param store The cluster's shared store.
   * @param clock The clock.
   */
  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  #key(id: string): StoreKey {
    return [NODES_NAMESPACE, id];
  }

  /**
   * Writes this node's record (a heartbeat), and forgets records silent for
   * a day.
   *
   * @param record The record (`heartbeat_at` is set to now).
   * @returns The record written.
   */
  async beat(record: Omit<NodeRecord, "heartbeat_at">): Promise<NodeRecord> {
    const now = this.#clock.now();
    const full: NodeRecord = { ...record, heartbeat_at: now };
    await this.#store.set(
      this.#key(record.node_id),
      { ...full } as unknown as JsonValue,
    );
    return full;
  }

  /**
   * One node's record as stored (no health judgement).
   *
   * @param id The node id.
   * @returns The record, or `null`.
   */
  async get(id: string): Promise<NodeRecord | null> {
    const e = await this.#store.get(this.#key(id));
    return e === null ? null : parseNode(e.value);
  }

  /**
   * Every known node, with its health by this reader's clock, by id.
   * Records silent for over a day are deleted on the way.
   *
   * @returns The nodes.
   */
  async list(): Promise<NodeView[]> {
    const now = this.#clock.now();
    const out: NodeView[] = [];
    for await (const e of this.#store.list([NODES_NAMESPACE])) {
      const r = parseNode(e.value);
      if (r === null) continue;
      const age = Math.max(0, now - r.heartbeat_at);
      if (age > FORGET_AFTER_MS) {
        await this.#store.atomic().check(e.key, e.versionstamp).delete(e.key)
          .commit();
        continue;
      }
      out.push({
        ...r,
        age_ms: age,
        health: r.stopped ? "stopped" : age <= r.lease_ms ? "alive" : "stale",
      });
    }
    return out.sort((a, b) => a.node_id.localeCompare(b.node_id));
  }
}

function parseNode(raw: unknown): NodeRecord | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return null;
  }
  const o = raw as Record<string, unknown>;
  const ints = ["started_at", "heartbeat_at", "lease_ms", "sessions"];
  if (
    typeof o["node_id"] !== "string" || typeof o["version"] !== "string" ||
    typeof o["mode"] !== "string" || typeof o["stopped"] !== "boolean" ||
    !ints.every((k) => Number.isSafeInteger(o[k]))
  ) return null;
  return {
    node_id: o["node_id"],
    version: o["version"],
    mode: o["mode"],
    started_at: o["started_at"] as number,
    heartbeat_at: o["heartbeat_at"] as number,
    lease_ms: o["lease_ms"] as number,
    sessions: o["sessions"] as number,
    stopped: o["stopped"],
  };
}
