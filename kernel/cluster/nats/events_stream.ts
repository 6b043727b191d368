/**
 * The JetStream stream of the cluster's events and each node's durable
 * consumer on it, created when missing (idempotent: every node runs this at
 * start; identical configurations do not conflict).
 *
 * - Stream `ASTRID_EVENTS`, subjects `astrid.ev.>`, file storage, bounded:
 *   at most `maxAgeMs` old (default 24 h), `maxMessages` (100,000) and
 *   `maxBytes` (256 MiB), oldest discarded first; messages deduplicated by
 *   id within two minutes (a publish retried after a lost ack is stored once).
 * - Consumer `node_<id>` per node: durable (it outlives the node's process,
 *   so a restarted node gets what it missed while the stream keeps it),
 *   explicit acks, starting at the messages published after it was first
 *   created (a new node does not replay the cluster's past).
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { clusterUnavailable } from "./connection.ts";
import { MAX_EVENT_BYTES } from "./wire.ts";
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, isNodeId } from "./subjects.ts";

/** Bounds of the events stream. */
export interface EventsStreamLimits {
  /** Oldest message kept, ms (default 24 h). */
  readonly maxAgeMs?: number;
  /** Most messages kept (default 100,000). */
  readonly maxMessages?: number;
  /** Most bytes kept (default 256 MiB). */
  readonly maxBytes?: number;
}

/** How long a delivered message may stay unacknowledged before redelivery. */
export const ACK_WAIT_MS = 30_000;

/** Most messages delivered to one node and not yet acknowledged. */
export const MAX_ACK_PENDING = 1_024;

/**
 * The durable consumer name of a node.
 *
 * @param nodeId The node.
 * @returns `node_<id>`.
 */
export function consumerName(nodeId: string): string {
  if (!isNodeId(nodeId)) throw new RangeError("Cannot use that node id");
  return `node_${nodeId}`;
}

function notFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/**
 * Creates the events stream and the node's durable consumer when missing.
 *
 * @param jsm The JetStream manager.
 * @param nodeId This node.
 * @param limits Bounds of the stream.
 * @throws {KernelError} `CLUSTER_UNAVAILABLE` when JetStream refuses or
 * does not answer.
 */
export async function ensureEventsStream(
  jsm: JetStreamManager,
  nodeId: string,
  limits: EventsStreamLimits = {},
): Promise<void> {
  try {
    try {
      await jsm.streams.info(EVENTS_STREAM);
    } catch (err) {
      if (!notFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add({
        name: EVENTS_STREAM,
        subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(limits.maxAgeMs ?? 24 * 3_600_000),
        max_msgs: limits.maxMessages ?? 100_000,
        max_bytes: limits.maxBytes ?? 256 * 1024 * 1024,
        max_msg_size: MAX_EVENT_BYTES + 4_096,
        duplicate_window: nanos(120_000),
        num_replicas: 1,
      });
    }
    const durable = consumerName(nodeId);
    try {
      await jsm.consumers.info(EVENTS_STREAM, durable);
    } catch (err) {
      if (!notFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      await jsm.consumers.add(EVENTS_STREAM, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: MAX_ACK_PENDING,
        filter_subject: `${EVENTS_SUBJECT_PREFIX}.>`,
      });
    }
  } catch (err) {
    throw clusterUnavailable(
      `Cannot set up the events stream '${EVENTS_STREAM}' for node '${nodeId}'`,
      err,
    );
  }
}
