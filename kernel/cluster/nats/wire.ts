/**
 * One bus message as it travels between nodes: JSON with the origin node,
 * a message id, the topic, principal, session and payload, signed with the
 * cluster's runtime key (Ed25519, over the RFC 8785 form of the other
 * fields behind a domain prefix, so no other kernel signature — audit
 * entries, tokens — can be replayed as an event, nor an event as one).
 *
 * Security model: {@linkcode decodeEvent} trusts nothing it reads. A
 * message is refused (`CLUSTER_MESSAGE_INVALID`) when it is too large, not
 * JSON of the expected shape, its topic is not a cluster topic, its origin
 * differs from the subject's, or its signature does not verify with the
 * runtime key's public half. The nodes share that key (one runtime
 * identity), so a valid signature proves the message comes from a node of
 * this cluster — not which one; per-node NATS users allowed to publish only
 * `astrid.ev.<own id>.>` stop a node from speaking for another
 * (docs/cluster.md).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { canonicalBytes } from "../../core/canonical_json.ts";
import { KernelError } from "../../core/errors.ts";
import {
  parsePrincipalId,
  parseSessionId,
  type PrincipalId,
  type SessionId,
} from "../../core/ids.ts";
import { sign, verify } from "../../crypto/ed25519.ts";
import type { KeyPair } from "../../crypto/key_pair.ts";
import type { JsonValue } from "../../store/store.ts";
import { validateTopic } from "../../bus/topic.ts";
import { isClusterTopic, isNodeId, parseSubject } from "./subjects.ts";

/** The largest encoded event (larger ones stay on their node, logged). */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Signed before the canonical fields (domain separation). */
const DOMAIN = new TextEncoder().encode("astrid-cluster-event-v1\n");

const ID = /^[A-Za-z0-9_:-]{1,128}$/;

/** A bus message with the node it came from. */
export interface ClusterEvent {
  /** Unique across the cluster: `<origin>:<bus message id>`. */
  readonly id: string;
  /** The node that published it. */
  readonly origin: string;
  /** A cluster topic. */
  readonly topic: string;
  /** The principal the message travels for. */
  readonly principal: PrincipalId;
  /** The session, or `null`. */
  readonly session: SessionId | null;
  /** The payload. */
  readonly payload: JsonValue;
  /** When the origin published it (ms since the epoch). */
  readonly sent_at: number;
}

function invalid(why: string): KernelError {
  return new KernelError(
    "CLUSTER_MESSAGE_INVALID",
    `Refused a message from the cluster: ${why}`,
  );
}

function signedBytes(event: ClusterEvent): Uint8Array {
  const body = canonicalBytes({ v: 1, ...event });
  const out = new Uint8Array(DOMAIN.length + body.length);
  out.set(DOMAIN);
  out.set(body, DOMAIN.length);
  return out;
}

/**
 * Encodes and signs an event.
 *
 * @param event The event.
 * @param key The cluster's runtime key.
 * @returns The bytes to publish.
 * @throws {KernelError} `CLUSTER_MESSAGE_INVALID` when it is larger than
 * {@linkcode MAX_EVENT_BYTES}.
 */
export async function encodeEvent(
  event: ClusterEvent,
  key: KeyPair,
): Promise<Uint8Array> {
  const sig = await sign(key, signedBytes(event));
  const bytes = new TextEncoder().encode(JSON.stringify({
    v: 1,
    ...event,
    sig: Buffer.from(sig).toString("base64"),
  }));
  if (bytes.length > MAX_EVENT_BYTES) {
    throw invalid(
      `the event on '${event.topic}' is ${bytes.length} bytes (at most ${MAX_EVENT_BYTES})`,
    );
  }
  return bytes;
}

function field<T>(ok: boolean, value: unknown, name: string): T {
  if (!ok) throw invalid(`the field '${name}' is missing or malformed`);
  return value as T;
}

/**
 * Decodes and checks an event read from the stream.
 *
 * @param subject The NATS subject it arrived on.
 * @param data Its bytes.
 * @param publicKey The runtime key's public half.
 * @returns The event.
 * @throws {KernelError} `CLUSTER_MESSAGE_INVALID` for anything that is not
 * a well-formed, correctly signed event of a cluster topic whose origin
 * matches the subject.
 */
export async function decodeEvent(
  subject: string,
  data: Uint8Array,
  publicKey: Uint8Array,
): Promise<ClusterEvent> {
  if (data.length > MAX_EVENT_BYTES) throw invalid("it is too large");
  const where = parseSubject(subject);
  if (where === undefined) throw invalid("its subject is not an event subject");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    throw invalid("it is not JSON");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalid("it is not an object");
  }
  field(raw["v"] === 1, 1, "v");
  const id = field<string>(
    typeof raw["id"] === "string" && ID.test(raw["id"]),
    raw["id"],
    "id",
  );
  const origin = field<string>(
    isNodeId(raw["origin"]),
    raw["origin"],
    "origin",
  );
  const topic = field<string>(
    typeof raw["topic"] === "string",
    raw["topic"],
    "topic",
  );
  if (origin !== where.origin || topic !== where.topic) {
    throw invalid("its origin or topic differs from its subject's");
  }
  try {
    validateTopic(topic);
  } catch {
    throw invalid("its topic is malformed");
  }
  if (!isClusterTopic(topic)) {
    throw invalid(`'${topic}' is not a cluster topic`);
  }
  let principal: PrincipalId;
  let session: SessionId | null;
  try {
    principal = parsePrincipalId(raw["principal"]);
    session = raw["session"] === null ? null : parseSessionId(raw["session"]);
  } catch {
    throw invalid("its principal or session is malformed");
  }
  const sentAt = field<number>(
    typeof raw["sent_at"] === "number" && Number.isSafeInteger(raw["sent_at"]),
    raw["sent_at"],
    "sent_at",
  );
  field(raw["payload"] !== undefined, null, "payload");
  const sig = field<string>(typeof raw["sig"] === "string", raw["sig"], "sig");
  const event: ClusterEvent = {
    id,
    origin,
    topic,
    principal,
    session,
    payload: raw["payload"] as JsonValue,
    sent_at: sentAt,
  };
  const extra = Object.keys(raw).filter((k) =>
    !["v", "sig", ...Object.keys(event)].includes(k)
  );
  if (extra.length > 0) {
    throw invalid(`unknown field '${extra[0]!.slice(0, 40)}'`);
  }
  const ok = await verify(
    publicKey,
    signedBytes(event),
    new Uint8Array(Buffer.from(sig, "base64")),
  ).catch(() => false);
  if (!ok) throw invalid("its signature does not verify");
  return event;
}
