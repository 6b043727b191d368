/**
 * Private: the publish and request pipeline behind {@linkcode Bus}: admission
 * (registration, topic, ACL, rate), the interceptor chain, envelopes, and
 * all-or-nothing delivery.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { uuidV4 } from "../core/ids.ts";
import type { Clock, Random } from "../core/ports.ts";
import type { CapsuleTable } from "./_capsule_table.ts";
import { type ChainOutcome, runChain } from "./_chain.ts";
import { denial, type DenialReporter } from "./_denial_reporter.ts";
import { busClosed, deniedByInterceptor, noSubscriber } from "./_errors.ts";
import { checkRoom, deliver, type RouteTable } from "./_routes.ts";
import { aclError } from "./capsule_acl.ts";
import {
  type BusEnvelope,
  type BusMessage,
  type BusSource,
  type JsonValue,
  KERNEL_SOURCE,
} from "./envelope.ts";
import type { PendingRequests } from "./pending_requests.ts";

/** Sequence number and time of one admitted message. */
interface Stamp {
  readonly seq: number;
  readonly now: number;
}

type Denied = Extract<ChainOutcome, { type: "deny" }>;

/** One request on its way. */
interface Req {
  readonly source: BusSource;
  readonly message: BusMessage;
  readonly stamp: Stamp;
  readonly correlationId: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** What the pipeline works with (owned by the bus). */
export interface DispatcherParts {
  readonly clock: Clock;
  readonly random: Random;
  readonly capsules: CapsuleTable;
  readonly routes: RouteTable;
  readonly pending: PendingRequests;
  readonly denials: DenialReporter;
  readonly isClosed: () => boolean;
}

/**
 * Publishes and requests on behalf of {@linkcode Bus}, which documents the
 * behaviour and the errors.
 *
 * @example Through the bus
 * ```ts
 * import assert from "node:assert/strict";
 * import { Bus } from "./bus.ts";
 * import { FakeClock, MemoryLogger, SeededRandom } from "../testing/mod.ts";
 * import type { PrincipalId } from "../core/ids.ts";
 * const bus = new Bus({ clock: new FakeClock(0), random: new SeededRandom(1), logger: new MemoryLogger() });
 * bus.subscribe("kernel", { pattern: "ping", handler: () => "pong" });
 * const ctx = { principal: "p" as PrincipalId, session: null };
 * assert.equal(await bus.request("kernel", { topic: "ping", payload: null, ...ctx }), "pong");
 * ```
 */
export class Dispatcher {
  readonly #p: DispatcherParts;
  readonly #prefix: string;
  readonly #resolved: Promise<undefined> = Promise.resolve(undefined);
  #seq = 0;

  /**
   * @param parts What the bus owns and shares with the pipeline.
   */
  constructor(parts: DispatcherParts) {
    this.#p = parts;
    this.#prefix = `${uuidV4(parts.random).slice(0, 8)}-`;
  }

  /**
   * Publishes. The hot path makes no promise of its own unless an
   * interceptor or a denial needs one.
   *
   * @param source The publisher.
   * @param message The message.
   * @param signal Cancels a chain.
   * @returns See {@linkcode Bus.publish}.
   */
  publish(
    source: BusSource,
    message: BusMessage,
    signal: AbortSignal | undefined,
  ): Promise<JsonValue | undefined> {
    try {
      const stamp = this.#admit(source, message, signal);
      if (typeof stamp === "string") {
        return this.#denyPublish(source, message, stamp);
      }
      const route = this.#p.routes.route(message.topic);
      if (route.chain.length > 0) {
        return this.#publishChained(source, message, stamp, signal);
      }
      deliver(
        route,
        this.#envelope(source, message, message.payload, stamp, null),
      );
      return this.#resolved;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a request; synchronous up to delivery unless interceptors run.
   *
   * @param source The requester.
   * @param message The message.
   * @param options Deadline and cancellation.
   * @returns See {@linkcode Bus.request}.
   */
  request(
    source: BusSource,
    message: BusMessage,
    options: { timeoutMs: number; signal: AbortSignal | undefined },
  ): Promise<JsonValue> {
    try {
      const stamp = this.#admit(source, message, options.signal);
      if (typeof stamp === "string") {
        return this.#denyPublish(source, message, stamp);
      }
      const correlationId = uuidV4(this.#p.random);
      const req = { source, message, stamp, correlationId, ...options };
      if (this.#p.routes.route(message.topic).chain.length > 0) {
        return this.#requestChained(req);
      }
      return this.#send(req, message.payload);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #requestChained(req: Req): Promise<JsonValue> {
    const { source, message, stamp, correlationId, signal } = req;
    const outcome = await this.#chain(
      source,
      message,
      stamp,
      correlationId,
      signal,
    );
    if (outcome.type === "final") return outcome.payload;
    return await this.#send(req, outcome.payload);
  }

  /** Opens the request and delivers it to every subscriber (or none). */
  #send(req: Req, payload: JsonValue): Promise<JsonValue> {
    const { source, message } = req;
    const route = this.#p.routes.route(message.topic);
    if (route.subs.length === 0) throw noSubscriber(message.topic);
    checkRoom(route, message.topic);
    const answer = this.#p.pending.open(req.correlationId, {
      requester: source,
      topic: message.topic,
      targets: new Set(route.subs.map((s) => s.owner)),
      deliveries: route.subs.length,
      timeoutMs: req.timeoutMs,
      signal: req.signal,
    });
    deliver(
      route,
      this.#envelope(source, message, payload, req.stamp, req.correlationId),
    );
    return answer;
  }

  /** Registration, topic, ACL and rate checks; a string is the ACL's denial reason. */
  #admit(
    source: BusSource,
    message: BusMessage,
    signal: AbortSignal | undefined,
  ): Stamp | string {
    if (this.#p.isClosed()) throw busClosed(`publish on '${message.topic}'`);
    if (signal?.aborted) {
      throw new KernelError(
        "ABORTED",
        `Cancelled a publish to '${message.topic}'`,
        { cause: signal.reason },
      );
    }
    const now = this.#p.clock.now();
    if (source !== KERNEL_SOURCE) {
      const verdict = this.#p.capsules.admit(source, message.topic, now);
      if (!verdict.ok) return verdict.reason;
    }
    return { seq: ++this.#seq, now };
  }

  async #publishChained(
    source: BusSource,
    message: BusMessage,
    stamp: Stamp,
    signal: AbortSignal | undefined,
  ): Promise<JsonValue | undefined> {
    const outcome = await this.#chain(source, message, stamp, null, signal);
    if (outcome.type === "final") return outcome.payload;
    deliver(
      this.#p.routes.route(message.topic),
      this.#envelope(source, message, outcome.payload, stamp, null),
    );
    return undefined;
  }

  /** Runs the topic's chain; a `deny` is reported and thrown as `BUS_DENIED`. */
  async #chain(
    source: BusSource,
    message: BusMessage,
    stamp: Stamp,
    correlationId: string | null,
    signal: AbortSignal | undefined,
  ): Promise<Exclude<ChainOutcome, Denied>> {
    const chain = this.#p.routes.route(message.topic).chain;
    if (chain.length === 0) {
      return { type: "deliver", payload: message.payload };
    }
    const outcome = await runChain(chain, {
      payload: message.payload,
      envelope: (p) => this.#envelope(source, message, p, stamp, correlationId),
      signal,
    });
    if (outcome.type !== "deny") return outcome;
    const record = {
      ...denial("interceptor", {
        capsule: source,
        topic: message.topic,
        reason: outcome.reason,
      }, message),
      interceptor: outcome.interceptor,
      message_id: outcome.envelope.id,
    };
    return await this.#p.denials.reject(
      record,
      deniedByInterceptor(source, message.topic, outcome),
    );
  }

  #envelope(
    source: BusSource,
    message: BusMessage,
    payload: JsonValue,
    stamp: Stamp,
    correlationId: string | null,
  ): BusEnvelope {
    return Object.freeze({
      id: this.#prefix + stamp.seq,
      seq: stamp.seq,
      topic: message.topic,
      payload,
      source,
      principal: message.principal,
      session: message.session,
      ...(message.agent ? { agent: message.agent } : {}),
      // Only the kernel (its cluster bridge) says a message came from
      // another node; a capsule's message is always its own node's.
      ...(message.origin !== undefined && source === KERNEL_SOURCE
        ? { origin: message.origin }
        : {}),
      correlation_id: correlationId,
      timestamp: stamp.now,
    });
  }

  async #denyPublish(
    source: BusSource,
    message: BusMessage,
    reason: string,
  ): Promise<never> {
    const subject = { capsule: source, topic: message.topic, reason };
    return await this.#p.denials.reject(
      denial("publish_acl", subject, message),
      aclError("publish to", subject),
    );
  }
}
