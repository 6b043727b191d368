/**
 * The message envelope of the bus and the types around it: who sent a
 * message, on whose behalf, and what handlers and interceptors return.
 *
 * Wire fields are snake_case (DESIGN §3). Envelopes are frozen before any
 * handler sees them, so one subscriber cannot change the topic, source,
 * principal or session the next one reads. Payloads are shared between
 * receivers and must be treated as read-only (engines copy them into the
 * guest anyway).
 *
 * @module
 */
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import type { AgentLineage } from "../core/agent_lineage.ts";

export type { JsonValue };

/**
 * The source that stands for the kernel itself. It is not a valid capsule
 * name on the bus: {@linkcode Bus.registerCapsule} refuses it.
 *
 * @example Tell kernel messages apart
 * ```ts
 * import { KERNEL_SOURCE, type BusSource } from "./envelope.ts";
 * const source: BusSource = KERNEL_SOURCE;
 * console.assert(source === "kernel");
 * ```
 */
export const KERNEL_SOURCE = "kernel" as const;

/** Who published a message or owns a subscription: a capsule or the kernel. */
export type BusSource = CapsuleId | typeof KERNEL_SOURCE;

/** On whose behalf a message travels. Every message carries both. */
export interface BusContext {
  /** The principal of the invocation that published (or the capsule's own). */
  readonly principal: PrincipalId;
  /** The session, or `null` for kernel events that belong to no session. */
  readonly session: SessionId | null;
  /** The agent the publishing call runs for (kernel-stamped), when known. */
  readonly agent?: AgentLineage;
  /**
   * The cluster node a kernel message came from, set only by the kernel's
   * NATS bridge on messages of another node (absent on local messages).
   * Kept on kernel messages only: a capsule's message never carries one.
   */
  readonly origin?: string;
}

/** What a publisher hands to {@linkcode Bus.publish} / {@linkcode Bus.request}. */
export interface BusMessage extends BusContext {
  /** The concrete topic (no wildcards). */
  readonly topic: string;
  /** The JSON payload. */
  readonly payload: JsonValue;
}

/** One message as subscribers and interceptors receive it. */
export interface BusEnvelope extends BusMessage {
  /** Unique id of the message on this bus (`<bus id>-<seq>`). */
  readonly id: string;
  /** Position in the bus's publish order, from 1. */
  readonly seq: number;
  /** The publishing capsule, or `"kernel"`. */
  readonly source: BusSource;
  /** Set on requests: answer with {@linkcode Bus.respond} or by returning a value. */
  readonly correlation_id: string | null;
  /** Publish time in ms since the epoch (Clock port). */
  readonly timestamp: number;
}

/**
 * A subscriber. Its return value answers a request (an envelope with a
 * `correlation_id`) unless it is `undefined`; for plain events it is ignored.
 * A thrown error is logged and, on a request, fails it when every recipient
 * failed.
 */
export type BusHandler = (
  envelope: BusEnvelope,
) => JsonValue | undefined | void | Promise<JsonValue | undefined | void>;

/**
 * What an interceptor decides (reference §4.4):
 * - `continue`: pass on, replacing the payload when `payload` is given;
 * - `final`: stop the chain and hand `payload` back to the publisher;
 * - `deny`: stop the chain; the publisher gets `BUS_DENIED` and the denial
 *   is reported to the bus's denial sink (the audit log).
 */
export type InterceptResult =
  | { readonly type: "continue"; readonly payload?: JsonValue }
  | { readonly type: "final"; readonly payload: JsonValue }
  | { readonly type: "deny"; readonly reason: string };

/** What an interceptor learns about the publish besides its envelope. */
export interface InterceptorCallOptions {
  /**
   * The publisher's cancellation (`publish` / `request` `signal`), absent
   * when it gave none. An interceptor that waits (a capsule call, a bus
   * request of its own) passes it on; the chain stops with `ABORTED` when it
   * fires whether or not the interceptor honours it.
   */
  readonly signal?: AbortSignal;
}

/**
 * An interceptor: sees the message before subscribers and decides. The
 * second argument carries the publisher's signal; interceptors that never
 * wait may ignore it.
 */
export type Interceptor = (
  envelope: BusEnvelope,
  options: InterceptorCallOptions,
) => InterceptResult | Promise<InterceptResult>;

/** A denial the bus reports to its sink before the denied caller gets its error. */
export interface BusDenial {
  /** Which check denied. */
  readonly kind: "publish_acl" | "subscribe_acl" | "interceptor";
  /** The capsule that tried to publish or subscribe. */
  readonly capsule: BusSource;
  /** The topic (publish) or pattern (subscribe). */
  readonly topic: string;
  /** On whose behalf; `null` when the call had no context (a subscribe without one). */
  readonly principal: PrincipalId | null;
  /** The session, or `null`. */
  readonly session: SessionId | null;
  /** Why, in words. */
  readonly reason: string;
  /** For `interceptor` denials: the capsule whose interceptor denied. */
  readonly interceptor: BusSource | null;
  /** For publish denials: the envelope id, else `null`. */
  readonly message_id: string | null;
}

/** Receives denials; the bus awaits it (for publishes) before throwing. */
export type DenialSink = (denial: BusDenial) => void | Promise<void>;
