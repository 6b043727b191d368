/**
 * Options and result types of {@linkcode Bus}.
 *
 * @module
 */
import type { Clock, Logger, Random } from "../core/ports.ts";
import type {
  BusContext,
  BusHandler,
  DenialSink,
  Interceptor,
  JsonValue,
} from "./envelope.ts";
import type { RateLimit } from "./rate_limiter.ts";

/** What a {@linkcode Bus} needs from the host. */
export interface BusDeps {
  /** Timestamps, rate limits and request deadlines. */
  readonly clock: Clock;
  /** Correlation ids and the bus id. */
  readonly random: Random;
  /** Handler failures and discarded deliveries are logged here. */
  readonly logger: Logger;
  /**
   * Receives every denial (ACL or interceptor) before the denied caller gets
   * its error, e.g. `auditDenials(auditLog)`. Absent: denials are only errors.
   */
  readonly onDenied?: DenialSink;
}

/** A capsule's bus grants, from its manifest. */
export interface BusGrants {
  /** `ipc_publish` patterns; empty means the capsule may not publish. */
  readonly publish: readonly string[];
  /** `ipc_subscribe` patterns; empty means the capsule may not subscribe. */
  readonly subscribe: readonly string[];
  /** Publish rate; default {@linkcode DEFAULT_RATE_LIMIT}. */
  readonly rateLimit?: RateLimit | "unlimited";
  /** Capacity of the capsule's ordered queue; default {@linkcode DEFAULT_QUEUE_SIZE}. */
  readonly queueSize?: number;
}

/** A subscription request. */
export interface SubscribeOptions {
  /** The topic pattern (`*` one segment, trailing `**` one or more). */
  readonly pattern: string;
  /** Called once per matching message, in order, never concurrently per queue. */
  readonly handler: BusHandler;
  /** On whose behalf the subscription is made (recorded if it is denied). */
  readonly context?: BusContext;
  /**
   * Queue capacity of a kernel subscription (each has its own queue).
   * Capsules share one queue per capsule, sized at registration.
   */
  readonly queueSize?: number;
}

/** An interceptor registration. */
export interface InterceptOptions {
  /** The topic pattern the interceptor sees. */
  readonly pattern: string;
  /** The interceptor. */
  readonly handler: Interceptor;
  /** Lower runs first (default 100, as in `[[interceptor]]`); ties run in registration order. */
  readonly priority?: number;
}

/** Options of {@linkcode Bus.publish}. */
export interface PublishOptions {
  /** Cancels an interceptor chain still running. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode Bus.request}. */
export interface RequestOptions {
  /** Deadline in ms; default {@linkcode DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
}

/** An answer given with {@linkcode Bus.respond}. */
export interface BusResponse {
  /** The `correlation_id` of the request envelope. */
  readonly correlation_id: string;
  /** The answer. */
  readonly payload: JsonValue;
}

/** A snapshot of the bus, for health output and tests. */
export interface BusStats {
  /** Registered capsules. */
  readonly capsules: number;
  /** Live subscriptions (capsules and kernel). */
  readonly subscriptions: number;
  /** Requests waiting for an answer. */
  readonly pendingRequests: number;
  /** Queues with deliveries waiting or in flight. */
  readonly busyQueues: number;
}

/**
 * Default request deadline: 10 s.
 *
 * @example The default
 * ```ts
 * import { DEFAULT_REQUEST_TIMEOUT_MS } from "./bus_types.ts";
 * console.assert(DEFAULT_REQUEST_TIMEOUT_MS === 10_000);
 * ```
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Default interceptor priority, as in a manifest's `[[interceptor]]`.
 *
 * @example The default
 * ```ts
 * import { DEFAULT_INTERCEPTOR_PRIORITY } from "./bus_types.ts";
 * console.assert(DEFAULT_INTERCEPTOR_PRIORITY === 100);
 * ```
 */
export const DEFAULT_INTERCEPTOR_PRIORITY = 100;

/**
 * Most subscriptions one capsule may hold (reference §4.3).
 *
 * @example The cap
 * ```ts
 * import { MAX_SUBSCRIPTIONS_PER_CAPSULE } from "./bus_types.ts";
 * console.assert(MAX_SUBSCRIPTIONS_PER_CAPSULE === 128);
 * ```
 */
export const MAX_SUBSCRIPTIONS_PER_CAPSULE = 128;
