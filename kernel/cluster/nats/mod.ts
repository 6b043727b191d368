/**
 * Events across nodes on NATS JetStream (issue 17, part 3; docs/cluster.md,
 * "Events across nodes").
 *
 * - {@linkcode connectNats} / {@linkcode readNatsToken}: the connection
 *   (reconnects by itself; failures are `CLUSTER_UNAVAILABLE`; the token
 *   from `ASTRID_NATS_TOKEN` or `ASTRID_HOME/keys/nats.token`, never the URL).
 * - {@linkcode natsHealth}: reachability, round trip, JetStream and the
 *   events stream, for `astrid cluster status`; never throws.
 * - {@linkcode EventBridge}: a node's kernel bus ⇄ the `ASTRID_EVENTS`
 *   stream, through a durable consumer per node.
 * - {@linkcode isClusterTopic}: which topics cross (approvals and answers,
 *   lifecycle, session events) — everything else stays on its node.
 * - {@linkcode encodeEvent} / {@linkcode decodeEvent}: the signed wire form.
 *
 * Security model: only kernel messages of cluster topics leave a node (a
 * capsule's publish is judged by its own node's ACLs, and the cluster
 * topics are in the reserved `astrid.` domain); a message from NATS is
 * delivered only when signed with the cluster's runtime key, of a cluster
 * topic, with the origin of its subject, and not older than the stream
 * keeps; it arrives as the kernel with `origin` set, never as a local
 * capsule, and never back at its origin.
 *
 * @module
 */
export {
  clusterUnavailable,
  connectNats,
  NATS_NKEY_FILE,
  NATS_TOKEN_ENV,
  NATS_TOKEN_FILE,
  natsServersLabel,
  readNatsAuth,
  readNatsToken,
} from "./connection.ts";
export type {
  ConnectNatsOptions,
  NatsAuth,
  ReadNatsAuthOptions,
  ReadNatsTokenOptions,
} from "./connection.ts";
export { natsHealth } from "./health.ts";
export type { NatsHealth, NatsHealthOptions } from "./health.ts";
export {
  EventBridge,
  INBOUND_BATCH,
  MAX_EVENT_AGE_MS,
} from "./event_bridge.ts";
export type { EventBridgeOptions, EventBridgeStats } from "./event_bridge.ts";
export {
  ACK_WAIT_MS,
  consumerName,
  ensureEventsStream,
  MAX_ACK_PENDING,
} from "./events_stream.ts";
export type { EventsStreamLimits } from "./events_stream.ts";
export {
  CLUSTER_TOPIC_PATTERNS,
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  isClusterTopic,
  isNodeId,
  parseSubject,
  subjectOf,
} from "./subjects.ts";
export { decodeEvent, encodeEvent, MAX_EVENT_BYTES } from "./wire.ts";
export type { ClusterEvent } from "./wire.ts";
