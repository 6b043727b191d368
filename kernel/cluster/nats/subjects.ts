/**
 * Which bus topics travel between the nodes of a cluster, and how a topic
 * maps to a NATS subject of the events stream.
 *
 * The decision (docs/cluster.md, "Events across nodes"): only kernel topics
 * that a frontend on another node needs cross — approval requests and their
 * answers, lifecycle events, and the sessions' events (without the streamed
 * text). Everything else stays on its node: capsule-to-capsule IPC (a
 * capsule's messages are judged by its own node's ACLs and concern its own
 * runtime), the streamed text deltas (many tiny messages; the final answer
 * crosses), elicitation requests and answers (they carry the values and
 * secrets a user types), the watchdog tick, health and `capsules_loaded`
 * (they describe one node's runtime), `client.v1.*` and tool cancellation
 * (they address calls running on one node).
 *
 * Subjects: `astrid.ev.<origin node>.<topic>`, so that the origin is part
 * of the subject (a consumer can tell it without parsing) and must agree
 * with the signed body.
 *
 * @module
 */
import { KERNEL_TOPICS } from "../../../sdk/topics.ts";
import { compileTopicPattern, type TopicPattern } from "../../bus/topic.ts";

/** The JetStream stream that holds the cluster's events. */
export const EVENTS_STREAM = "ASTRID_EVENTS";

/** The first two tokens of every subject of the events stream. */
export const EVENTS_SUBJECT_PREFIX = "astrid.ev";

/** The patterns of the topics that cross nodes. */
export const CLUSTER_TOPIC_PATTERNS: readonly string[] = Object.freeze([
  KERNEL_TOPICS.approval,
  KERNEL_TOPICS.approvalResponses,
  KERNEL_TOPICS.lifecycle,
  KERNEL_TOPICS.sessionEvents,
]);

const COMPILED: readonly TopicPattern[] = CLUSTER_TOPIC_PATTERNS.map((p) =>
  compileTopicPattern(p)
);

/** A node id: one subject token and one durable-name part. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether a topic crosses nodes.
 *
 * @param topic A concrete topic.
 * @returns `true` for approvals, their answers, lifecycle and session events.
 *
 * @example
 * ```ts
 * import { isClusterTopic } from "./subjects.ts";
 * console.assert(isClusterTopic("astrid.v1.approval"));
 * console.assert(!isClusterTopic("astrid.v1.elicit"));
 * console.assert(!isClusterTopic("agent.v1.response"));
 * ```
 */
export function isClusterTopic(topic: string): boolean {
  return COMPILED.some((p) => p.matches(topic));
}

/**
 * Whether a string is usable as a node id here (`[A-Za-z0-9_-]{1,64}`).
 *
 * @param id The candidate.
 * @returns `true` when it is.
 */
export function isNodeId(id: unknown): id is string {
  return typeof id === "string" && NODE_ID.test(id);
}

/**
 * The subject of a topic published by a node.
 *
 * @param origin The publishing node.
 * @param topic A cluster topic.
 * @returns `astrid.ev.<origin>.<topic>`.
 * @throws {RangeError} When the node id is not usable.
 */
export function subjectOf(origin: string, topic: string): string {
  if (!isNodeId(origin)) throw new RangeError("Cannot use that node id");
  return `${EVENTS_SUBJECT_PREFIX}.${origin}.${topic}`;
}

/**
 * Splits a subject of the events stream.
 *
 * @param subject The subject.
 * @returns The origin node and topic, or `undefined` when it is not one.
 */
export function parseSubject(
  subject: string,
): { origin: string; topic: string } | undefined {
  const parts = subject.split(".");
  if (parts.length < 4 || `${parts[0]}.${parts[1]}` !== EVENTS_SUBJECT_PREFIX) {
    return undefined;
  }
  const origin = parts[2]!;
  if (!isNodeId(origin)) return undefined;
  return { origin, topic: parts.slice(3).join(".") };
}
