/**
 * The IPC bus: publish/subscribe with manifest ACLs, interceptor chains,
 * bounded per-capsule queues, request/response and rate limits.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { Clock, Logger } from "../core/ports.ts";
import { CapsuleTable } from "./_capsule_table.ts";
import { deliveryHooks } from "./_delivery_hooks.ts";
import { denial, DenialReporter } from "./_denial_reporter.ts";
import { Dispatcher } from "./_dispatcher.ts";
import { busClosed } from "./_errors.ts";
import {
  type InterceptorEntry,
  RouteTable,
  type Subscription,
} from "./_routes.ts";
import {
  type BusDeps,
  type BusGrants,
  type BusResponse,
  type BusStats,
  DEFAULT_INTERCEPTOR_PRIORITY,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type InterceptOptions,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
} from "./bus_types.ts";
import { aclError, type AclVerdict } from "./capsule_acl.ts";
import {
  DEFAULT_QUEUE_SIZE,
  DeliveryQueue,
  type QueueHooks,
} from "./delivery_queue.ts";
import {
  type BusMessage,
  type BusSource,
  type JsonValue,
  KERNEL_SOURCE,
} from "./envelope.ts";
import { PendingRequests } from "./pending_requests.ts";
import { compileTopicPattern } from "./topic.ts";

/**
 * The IPC bus. Capsules are registered with their manifest grants; the
 * kernel publishes and subscribes as `"kernel"` without ACLs or rate limits.
 * A publish is checked in this order: registration, topic syntax and publish
 * ACL (denials go to `onDenied` first), rate limit, interceptor chain, then
 * room in every receiving queue — all or nothing, so a message reaches every
 * subscriber or none, and a full queue is `BUS_BACKPRESSURE` for the
 * publisher, never a silent drop.
 *
 * @example Request and response between two capsules
 * ```ts
 * import assert from "node:assert/strict";
 * import { Bus } from "./bus.ts";
 * import { FakeClock, MemoryLogger, SeededRandom } from "../testing/mod.ts";
 * import type { CapsuleId, PrincipalId } from "../core/ids.ts";
 * const bus = new Bus({ clock: new FakeClock(0), random: new SeededRandom(1), logger: new MemoryLogger() });
 * const [a, b] = ["a" as CapsuleId, "b" as CapsuleId];
 * bus.registerCapsule(a, { publish: ["math.v1.add"], subscribe: [] });
 * bus.registerCapsule(b, { publish: [], subscribe: ["math.v1.*"] });
 * bus.subscribe(b, {
 *   pattern: "math.v1.add",
 *   handler: (e) => (e.payload as number[]).reduce((x, y) => x + y, 0),
 * });
 * const ctx = { principal: "alice" as PrincipalId, session: null };
 * assert.equal(await bus.request(a, { topic: "math.v1.add", payload: [1, 2], ...ctx }), 3);
 * ```
 */
export class Bus {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #capsules: CapsuleTable;
  readonly #kernelQueues = new Set<DeliveryQueue<Subscription>>();
  readonly #routes = new RouteTable();
  readonly #pending: PendingRequests;
  readonly #denials: DenialReporter;
  readonly #dispatch: Dispatcher;
  readonly #idleWaiters: (() => void)[] = [];
  readonly #hooks: QueueHooks<Subscription>;
  #order = 0;
  #busy = 0;
  #closed = false;

  /**
   * Creates an empty bus.
   *
   * @param deps Clock, randomness, logger and the optional denial sink.
   */
  constructor(deps: BusDeps) {
    this.#clock = deps.clock;
    this.#logger = deps.logger.child({ component: "bus" });
    this.#pending = new PendingRequests(deps.clock);
    this.#denials = new DenialReporter(deps.onDenied, {
      logger: this.#logger,
      onSettled: () => this.#checkIdle(),
    });
    this.#hooks = deliveryHooks({
      pending: this.#pending,
      logger: this.#logger,
      onBusy: () => void this.#busy++,
      onIdle: () => {
        this.#busy--;
        this.#checkIdle();
      },
    });
    this.#capsules = new CapsuleTable(this.#hooks);
    this.#dispatch = new Dispatcher({
      clock: deps.clock,
      random: deps.random,
      capsules: this.#capsules,
      routes: this.#routes,
      pending: this.#pending,
      denials: this.#denials,
      isClosed: () => this.#closed,
    });
  }

  /**
   * Registers a capsule with its manifest grants.
   *
   * @param id The capsule (never `"kernel"`).
   * @param grants ACL patterns, rate limit and queue size.
   * @throws {KernelError} `INVALID_ID` for the reserved name `kernel`;
   * `BUS_TOPIC_INVALID` for a malformed ACL pattern; `ABORTED` when closed.
   * @throws {TypeError} When the capsule is already registered.
   * @throws {RangeError} For a bad rate limit or queue size.
   */
  registerCapsule(id: CapsuleId, grants: BusGrants): void {
    if (this.#closed) throw busClosed("register a capsule");
    this.#capsules.add(id, grants, this.#clock.now());
  }

  /**
   * Removes a capsule: its subscriptions and interceptors, its waiting
   * deliveries, its own requests, and requests only it could answer (those
   * fail with `ABORTED`).
   *
   * @param id The capsule.
   * @returns `false` when it was not registered.
   */
  unregisterCapsule(id: CapsuleId): boolean {
    const entry = this.#capsules.remove(id);
    if (entry === undefined) return false;
    this.#routes.removeOwner(id);
    const dropped = entry.queue.close();
    if (dropped > 0) {
      this.#logger.log(
        "info",
        `Discarded ${dropped} deliveries to unregistered capsule '${id}'`,
        { capsule: id },
      );
    }
    this.#pending.dropCapsule(id);
    return true;
  }

  /**
   * Checks the publish ACL of a registered capsule for `topic`, without
   * publishing or taking a rate token (the ABI's door decides and audits a
   * publish with it before the effect).
   *
   * @param source The capsule.
   * @param topic The concrete topic.
   * @returns The verdict, with a reason when denied.
   * @throws {KernelError} `CAPSULE_NOT_FOUND`, `BUS_TOPIC_INVALID`.
   */
  checkPublish(source: CapsuleId, topic: string): AclVerdict {
    return this.#capsules.get(source).acl.checkPublish(topic);
  }

  /**
   * Publishes a message. Resolves once it is queued for every subscriber
   * (not when they handled it), or with an interceptor's `final` payload.
   *
   * @param source The publishing capsule, or `"kernel"`.
   * @param message Topic, payload, principal and session.
   * @param options Cancellation of the interceptor chain.
   * @returns `undefined`, or the `final` payload of an interceptor.
   * @throws {KernelError} `CAPSULE_NOT_FOUND` (source not registered),
   * `BUS_TOPIC_INVALID`, `BUS_ACL_DENIED`, `BUS_RATE_LIMITED`, `BUS_DENIED`,
   * `BUS_BACKPRESSURE`, `CAPSULE_FAILED` (an interceptor failed), `ABORTED`.
   */
  publish(
    source: BusSource,
    message: BusMessage,
    options: PublishOptions = {},
  ): Promise<JsonValue | undefined> {
    return this.#dispatch.publish(source, message, options.signal);
  }

  /**
   * Publishes a request and waits for the first answer from a recipient
   * (a subscriber's return value or {@linkcode Bus.respond}), or for an
   * interceptor's `final` payload.
   *
   * @param source The requesting capsule, or `"kernel"`.
   * @param message Topic, payload, principal and session.
   * @param options Deadline and cancellation.
   * @returns The answer.
   * @throws {KernelError} Everything {@linkcode Bus.publish} throws, plus
   * `NOT_FOUND` (nobody subscribes), `BUS_TIMEOUT`, `ABORTED` (cancelled or
   * every recipient unregistered), or the recipients' error when all failed.
   * @throws {RangeError} When `timeoutMs` is not a positive number.
   */
  async request(
    source: BusSource,
    message: BusMessage,
    options: RequestOptions = {},
  ): Promise<JsonValue> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeoutMs > 0)) {
      throw new RangeError(
        `Cannot wait ${timeoutMs} ms for a response: expected a positive number`,
      );
    }
    return await this.#dispatch.request(source, message, {
      timeoutMs,
      signal: options.signal,
    });
  }

  /**
   * Answers a request delivered to `responder`.
   *
   * @param responder The capsule (or `"kernel"`) answering.
   * @param response The request's correlation id and the answer.
   * @throws {KernelError} `NOT_FOUND` when no open request with that id was
   * delivered to `responder` (unknown, already answered, timed out, or
   * addressed to someone else — indistinguishable on purpose).
   */
  respond(responder: BusSource, response: BusResponse): void {
    if (
      !this.#pending.answer(
        responder,
        response.correlation_id,
        response.payload,
      )
    ) {
      throw new KernelError(
        "NOT_FOUND",
        `Cannot answer request '${response.correlation_id}' as no open request with that id was delivered to '${responder}'`,
      );
    }
  }

  /**
   * Subscribes. A capsule's pattern must be covered by one of its
   * `ipc_subscribe` patterns; its deliveries share the capsule's ordered queue.
   * Each kernel subscription has a queue of its own.
   *
   * @param owner The subscribing capsule, or `"kernel"`.
   * @param options Pattern, handler, context, (kernel) queue size.
   * @returns A function that ends the subscription (idempotent).
   * @throws {KernelError} `CAPSULE_NOT_FOUND`, `BUS_TOPIC_INVALID`,
   * `BUS_ACL_DENIED`, `INVALID_INPUT` (more than 128 subscriptions), `ABORTED`.
   * @throws {TypeError} When a capsule passes `queueSize`.
   */
  subscribe(owner: BusSource, options: SubscribeOptions): () => void {
    if (this.#closed) throw busClosed("subscribe");
    const pattern = compileTopicPattern(options.pattern);
    const entry = owner === KERNEL_SOURCE
      ? undefined
      : this.#capsules.get(owner);
    let queue: DeliveryQueue<Subscription>;
    if (entry === undefined) {
      queue = new DeliveryQueue(
        options.queueSize ?? DEFAULT_QUEUE_SIZE,
        this.#hooks,
      );
      this.#kernelQueues.add(queue);
    } else {
      if (options.queueSize !== undefined) {
        throw new TypeError(
          `Cannot set queueSize on a subscription of capsule '${owner}': its queue is sized at registration`,
        );
      }
      const verdict = this.#capsules.reserveSubscription(entry, pattern);
      if (!verdict.ok) {
        const subject = {
          capsule: owner,
          topic: pattern.source,
          reason: verdict.reason,
        };
        this.#denials.inBackground(
          denial("subscribe_acl", subject, options.context ?? null),
        );
        throw aclError("subscribe to", subject);
      }
      queue = entry.queue;
    }
    const sub: Subscription = {
      owner,
      pattern,
      handler: options.handler,
      queue,
      active: true,
    };
    this.#routes.addSubscription(sub);
    return () => {
      if (!this.#routes.removeSubscription(sub)) return;
      if (entry !== undefined) entry.subscriptions--;
      else if (this.#kernelQueues.delete(queue)) queue.close();
    };
  }

  /**
   * Registers an interceptor. Interceptors come from a manifest's
   * `[[interceptor]]` tables (or the kernel); guests cannot add them.
   *
   * @param owner The capsule whose interceptor it is, or `"kernel"`.
   * @param options Pattern, handler and priority (lower runs first).
   * @returns A function that removes it (idempotent).
   * @throws {KernelError} `CAPSULE_NOT_FOUND`, `BUS_TOPIC_INVALID`, `ABORTED`.
   * @throws {RangeError} When `priority` is not a finite number.
   */
  intercept(owner: BusSource, options: InterceptOptions): () => void {
    if (this.#closed) throw busClosed("intercept");
    const pattern = compileTopicPattern(options.pattern);
    const priority = options.priority ?? DEFAULT_INTERCEPTOR_PRIORITY;
    if (!Number.isFinite(priority)) {
      throw new RangeError(
        `Cannot use interceptor priority ${priority}: expected a finite number`,
      );
    }
    if (owner !== KERNEL_SOURCE) this.#capsules.get(owner);
    const entry: InterceptorEntry = {
      owner,
      pattern,
      priority,
      order: ++this.#order,
      handler: options.handler,
      active: true,
    };
    this.#routes.addInterceptor(entry);
    return () => void this.#routes.removeInterceptor(entry);
  }

  /**
   * Resolves when every queue has drained and every background denial
   * report has settled (open requests do not count).
   *
   * @returns A promise that resolves when the bus is idle.
   */
  whenIdle(): Promise<void> {
    if (this.#busy === 0 && this.#denials.running === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * A snapshot of the bus.
   *
   * @returns Counts of capsules, subscriptions, open requests and busy queues.
   */
  stats(): BusStats {
    return {
      capsules: this.#capsules.size,
      subscriptions: this.#routes.subscriptionCount,
      pendingRequests: this.#pending.size,
      busyQueues: this.#busy,
    };
  }

  /** Unregisters everything, ends kernel subscriptions, fails open requests with `ABORTED`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of this.#capsules.ids()) this.unregisterCapsule(id);
    this.#routes.removeOwner(KERNEL_SOURCE);
    for (const queue of this.#kernelQueues) queue.close();
    this.#kernelQueues.clear();
    this.#pending.cancelAll("the bus was closed");
  }

  #checkIdle(): void {
    if (this.#busy !== 0 || this.#denials.running !== 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
