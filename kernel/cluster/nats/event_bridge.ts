/**
 * The bridge between a node's kernel bus and the cluster's events stream
 * on NATS JetStream: the cluster topics ({@linkcode isClusterTopic}) the
 * kernel publishes here are sent to every other node, and those the other
 * nodes publish are delivered here, as kernel messages carrying their
 * `origin` node.
 *
 * Security model:
 * - Outbound, only what the local bus already delivered is sent, and only
 *   kernel messages (`source === "kernel"`): a capsule's publish is judged
 *   by its own node's ACLs first, and no ACL lets a capsule publish under
 *   `astrid.` (the bus's reserved domain), so a capsule can neither send a
 *   cluster event nor make the bridge send one. Requests (with a
 *   correlation id) and messages that came from the cluster are never sent.
 * - Inbound, a message is delivered only when it decodes, is signed with
 *   the cluster's runtime key, names a cluster topic and the same origin as
 *   its subject ({@linkcode decodeEvent}); anything else is terminated (never
 *   redelivered) and logged. It is published on the local bus as the kernel
 *   with its `origin` set — never as a local capsule — and messages of this
 *   node's own origin are not delivered again (no echo).
 * - Nothing is lost while a node is down: each node reads through its own
 *   durable consumer and acknowledges a message only after the local bus
 *   took it (queued for every local subscriber); a message the bus refuses
 *   (backpressure) is redelivered later. Message ids are remembered
 *   (bounded) so a redelivery is not delivered twice.
 * - Buffers are bounded: the outbound side is one kernel subscription with a
 *   bounded queue (a full queue is `BUS_BACKPRESSURE` to the local
 *   publisher, never a silent drop), the inbound side pulls at most
 *   {@linkcode INBOUND_BATCH} messages ahead, and JetStream holds at most
 *   `MAX_ACK_PENDING` unacknowledged messages per node.
 *
 * @module
 */
import {
  type ConsumerMessages,
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { KernelError } from "../../core/errors.ts";
import type { Clock, Logger } from "../../core/ports.ts";
import type { KeyPair } from "../../crypto/key_pair.ts";
import type { Bus } from "../../bus/bus.ts";
import { type BusEnvelope, KERNEL_SOURCE } from "../../bus/envelope.ts";
import { consumerName, ensureEventsStream } from "./events_stream.ts";
import type { EventsStreamLimits } from "./events_stream.ts";
import { EVENTS_STREAM, isClusterTopic, isNodeId } from "./subjects.ts";
import { parseSubject, subjectOf } from "./subjects.ts";
import { type ClusterEvent, decodeEvent, encodeEvent } from "./wire.ts";

/** Messages pulled ahead of local delivery. */
export const INBOUND_BATCH = 64;

/** Message ids remembered against redelivery. */
const SEEN_LIMIT = 10_000;

/**
 * Oldest event delivered: the stream's default age plus clock skew. An older
 * one can only be a replay of a captured message.
 */
export const MAX_EVENT_AGE_MS = 24 * 3_600_000 + 5 * 60_000;

/** The longest `close()` waits for outbound events to be sent. */
export const CLOSE_FLUSH_MS = 2_000;

/** Queue of the outbound kernel subscription. */
const OUTBOUND_QUEUE = 1_024;

/** Options of {@linkcode EventBridge.start}. */
export interface EventBridgeOptions {
  /** This node's kernel bus. */
  readonly bus: Bus;
  /** An open NATS connection (the bridge does not close it). */
  readonly nc: NatsConnection;
  /** This node's id (`[A-Za-z0-9_-]{1,64}`, stable across restarts). */
  readonly nodeId: string;
  /** The cluster's runtime key (signs outbound, verifies inbound). */
  readonly key: KeyPair;
  /** Where refused messages and publish failures are logged. */
  readonly logger: Logger;
  /** Time (event stamps are the bus's; ages and retry waits use this). */
  readonly clock: Clock;
  /** Bounds of the events stream (when this node creates it). */
  readonly limits?: EventsStreamLimits;
  /** How long an outbound publish is retried while NATS is away (default 60 s). */
  readonly publishRetryMs?: number;
}

/** Counters of a bridge. */
export interface EventBridgeStats {
  /** Events sent to the cluster. */
  readonly sent: number;
  /** Events of other nodes delivered to the local bus. */
  readonly delivered: number;
  /** Messages refused (malformed, unsigned, false origin, not a cluster topic). */
  readonly refused: number;
  /** Own messages skipped (not echoed). */
  readonly own: number;
  /** Outbound events given up after retrying (logged as errors). */
  readonly failed: number;
}

/** A running bridge; {@linkcode EventBridge.close} stops it. */
export class EventBridge {
  readonly #o: EventBridgeOptions;
  readonly #js: JetStreamClient;
  readonly #log: Logger;
  readonly #seen = new Set<string>();
  readonly #stats = { sent: 0, delivered: 0, refused: 0, own: 0, failed: 0 };
  #unsubscribe: (() => void) | undefined;
  #messages: ConsumerMessages | undefined;
  #reading: Promise<void> | undefined;
  #closed = false;

  private constructor(o: EventBridgeOptions, js: JetStreamClient) {
    this.#o = o;
    this.#js = js;
    this.#log = o.logger.child({ component: "cluster-events", node: o.nodeId });
  }

  /**
   * Sets up the stream and this node's durable consumer, then starts both
   * directions.
   *
   * @param options Bus, connection, node id, key, logger.
   * @returns The running bridge.
   * @throws {KernelError} `CLUSTER_UNAVAILABLE` when JetStream cannot be
   * set up; `INVALID_ID` for an unusable node id.
   */
  static async start(options: EventBridgeOptions): Promise<EventBridge> {
    if (!isNodeId(options.nodeId)) {
      throw new KernelError(
        "INVALID_ID",
        "Cannot join the cluster: a node id is 1-64 characters of [A-Za-z0-9_-]",
      );
    }
    const jsm = await jetstreamManager(options.nc).catch((err) => {
      throw new KernelError(
        "CLUSTER_UNAVAILABLE",
        "Cannot use JetStream on the NATS server (is it started with -js?)",
        { cause: err },
      );
    });
    await ensureEventsStream(jsm, options.nodeId, options.limits);
    const bridge = new EventBridge(options, jetstream(options.nc));
    await bridge.#startInbound();
    bridge.#startOutbound();
    return bridge;
  }

  /** The counters so far. */
  stats(): EventBridgeStats {
    return { ...this.#stats };
  }

  /**
   * Stops both directions: first lets what the node published reach NATS
   * (at most {@linkcode CLOSE_FLUSH_MS}; e.g. the settlements of the
   * requests a stopping node defers), then stops reading (unacknowledged
   * messages are redelivered to this node's consumer later).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const flushed = new AbortController();
    await Promise.race([
      this.#o.bus.whenIdle(),
      this.#o.clock.sleep(CLOSE_FLUSH_MS, { signal: flushed.signal })
        .catch(() => {}),
    ]);
    flushed.abort();
    this.#closed = true;
    this.#unsubscribe?.();
    await this.#messages?.close().catch(() => {});
    await this.#reading;
  }

  #startOutbound(): void {
    this.#unsubscribe = this.#o.bus.subscribe(KERNEL_SOURCE, {
      pattern: "astrid.**",
      queueSize: OUTBOUND_QUEUE,
      handler: (e) => this.#send(e),
    });
  }

  async #send(e: BusEnvelope): Promise<void> {
    if (
      e.source !== KERNEL_SOURCE || e.origin !== undefined ||
      e.correlation_id !== null || !isClusterTopic(e.topic)
    ) return;
    const event: ClusterEvent = {
      id: `${this.#o.nodeId}:${e.id}`,
      origin: this.#o.nodeId,
      topic: e.topic,
      principal: e.principal,
      session: e.session,
      payload: e.payload,
      sent_at: e.timestamp,
    };
    let bytes: Uint8Array;
    try {
      bytes = await encodeEvent(event, this.#o.key);
    } catch (err) {
      this.#stats.failed++;
      this.#log.log("warn", (err as Error).message, { topic: e.topic });
      return;
    }
    const subject = subjectOf(this.#o.nodeId, e.topic);
    const clock = this.#o.clock;
    const until = clock.now() + (this.#o.publishRetryMs ?? 60_000);
    for (let attempt = 0;; attempt++) {
      try {
        await this.#js.publish(subject, bytes, {
          msgID: event.id,
          timeout: 2_000,
        });
        this.#stats.sent++;
        return;
      } catch (err) {
        if (this.#closed || clock.now() >= until) {
          this.#stats.failed++;
          this.#log.log(
            "error",
            `Cannot send the event on '${e.topic}' to the cluster: ${
              (err as Error).message?.split("\n")[0]
            }`,
            { topic: e.topic, code: "CLUSTER_UNAVAILABLE" },
          );
          return;
        }
        await clock.sleep(Math.min(100 * 2 ** attempt, 2_000));
      }
    }
  }

  async #startInbound(): Promise<void> {
    const consumer = await this.#js.consumers.get(
      EVENTS_STREAM,
      consumerName(this.#o.nodeId),
    );
    this.#messages = await consumer.consume({ max_messages: INBOUND_BATCH });
    const messages = this.#messages;
    this.#reading = (async () => {
      try {
        for await (const m of messages) await this.#receive(m);
      } catch (err) {
        if (!this.#closed) {
          this.#log.log("error", "Stopped reading the cluster's events", {
            error: String(err),
          });
        }
      }
    })();
  }

  async #receive(m: JsMsg): Promise<void> {
    if (parseSubject(m.subject)?.origin === this.#o.nodeId) {
      this.#stats.own++;
      m.ack();
      return;
    }
    let event: ClusterEvent;
    try {
      event = await decodeEvent(m.subject, m.data, this.#o.key.publicKey);
    } catch (err) {
      this.#stats.refused++;
      this.#log.log("warn", (err as Error).message, {
        code: "CLUSTER_MESSAGE_INVALID",
      });
      m.term();
      return;
    }
    if (this.#seen.has(event.id)) {
      m.ack();
      return;
    }
    if (this.#o.clock.now() - event.sent_at > MAX_EVENT_AGE_MS) {
      // Older than the stream keeps anything: a replay of a captured event.
      this.#stats.refused++;
      this.#log.log("warn", "Refused a message from the cluster: too old", {
        code: "CLUSTER_MESSAGE_INVALID",
        origin: event.origin,
      });
      m.term();
      return;
    }
    try {
      await this.#o.bus.publish(KERNEL_SOURCE, {
        topic: event.topic,
        payload: event.payload,
        principal: event.principal,
        session: event.session,
        origin: event.origin,
      });
    } catch (err) {
      if (this.#closed) return;
      this.#log.log(
        "warn",
        `Cannot deliver the event on '${event.topic}' here yet: ${
          (err as Error).message
        }`,
        { topic: event.topic },
      );
      m.nak(1_000);
      return;
    }
    this.#remember(event.id);
    this.#stats.delivered++;
    m.ack();
  }

  #remember(id: string): void {
    if (this.#seen.size >= SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.add(id);
  }
}
