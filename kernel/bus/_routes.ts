/**
 * Private: the bus's routing table: subscriptions and interceptors, and a cache of
 * the route of each concrete topic (who receives it, which queues need how
 * many slots, which interceptors run in which order).
 *
 * @module
 */
import { backpressure } from "./_errors.ts";
import type { DeliveryQueue, QueueTarget } from "./delivery_queue.ts";
import type {
  BusEnvelope,
  BusHandler,
  BusSource,
  Interceptor,
} from "./envelope.ts";
import { type TopicPattern, validateTopic } from "./topic.ts";

/** One subscription. */
export interface Subscription extends QueueTarget {
  readonly owner: BusSource;
  readonly pattern: TopicPattern;
  readonly handler: BusHandler;
  readonly queue: DeliveryQueue<Subscription>;
  active: boolean;
}

/** One registered interceptor. */
export interface InterceptorEntry {
  readonly owner: BusSource;
  readonly pattern: TopicPattern;
  readonly priority: number;
  /** Registration order: breaks priority ties deterministically. */
  readonly order: number;
  readonly handler: Interceptor;
  /** Cleared on removal, so a chain already running skips it. */
  active: boolean;
}

/** Everything publishing one topic needs. */
export interface Route {
  /** Matching subscriptions, in registration order. */
  readonly subs: readonly Subscription[];
  /** The distinct queues of `subs` ... */
  readonly queues: readonly DeliveryQueue<Subscription>[];
  /** ... and how many slots each needs for one message. */
  readonly needs: readonly number[];
  /** Matching interceptors, lowest priority first, ties by registration. */
  readonly chain: readonly InterceptorEntry[];
}

/** Most topics whose route is cached before the cache starts over. */
const CACHE_LIMIT = 4096;

/**
 * Subscriptions, interceptors and the per-topic route cache. Any change to
 * the subscriptions or interceptors empties the cache.
 *
 * @example Route a topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { RouteTable, type Subscription } from "./_routes.ts";
 * import { DeliveryQueue } from "./delivery_queue.ts";
 * import { compileTopicPattern } from "./topic.ts";
 * const table = new RouteTable();
 * const queue = new DeliveryQueue<Subscription>(4, { onResult() {}, onError() {}, onBusy() {}, onIdle() {} });
 * const sub: Subscription = { owner: "kernel", pattern: compileTopicPattern("a.*"), handler: () => {}, queue, active: true };
 * table.addSubscription(sub);
 * assert.deepEqual(table.route("a.b").subs, [sub]);
 * assert.deepEqual(table.route("a.b.c").subs, []);
 * ```
 */
export class RouteTable {
  readonly #subs = new Set<Subscription>();
  readonly #interceptors = new Set<InterceptorEntry>();
  readonly #cache = new Map<string, Route>();

  /** How many subscriptions exist. */
  get subscriptionCount(): number {
    return this.#subs.size;
  }

  /**
   * Adds a subscription.
   *
   * @param sub The subscription.
   */
  addSubscription(sub: Subscription): void {
    this.#subs.add(sub);
    this.#cache.clear();
  }

  /**
   * Removes a subscription and marks it inactive.
   *
   * @param sub The subscription.
   * @returns `false` when it was already removed.
   */
  removeSubscription(sub: Subscription): boolean {
    sub.active = false;
    const had = this.#subs.delete(sub);
    if (had) this.#cache.clear();
    return had;
  }

  /**
   * Adds an interceptor.
   *
   * @param entry The interceptor.
   */
  addInterceptor(entry: InterceptorEntry): void {
    this.#interceptors.add(entry);
    this.#cache.clear();
  }

  /**
   * Removes an interceptor and marks it inactive.
   *
   * @param entry The interceptor.
   * @returns `false` when it was already removed.
   */
  removeInterceptor(entry: InterceptorEntry): boolean {
    entry.active = false;
    const had = this.#interceptors.delete(entry);
    if (had) this.#cache.clear();
    return had;
  }

  /**
   * Removes everything `owner` registered.
   *
   * @param owner A capsule or `"kernel"`.
   */
  removeOwner(owner: BusSource): void {
    for (const sub of this.#subs) {
      if (sub.owner === owner) this.removeSubscription(sub);
    }
    for (const entry of this.#interceptors) {
      if (entry.owner === owner) this.removeInterceptor(entry);
    }
  }

  /**
   * The route of a concrete topic (cached).
   *
   * @param topic The topic.
   * @returns Its subscriptions, their queues and needs, and its chain.
   * @throws {KernelError} `BUS_TOPIC_INVALID` when the topic is malformed.
   */
  route(topic: string): Route {
    const hit = this.#cache.get(topic);
    if (hit !== undefined) return hit;
    validateTopic(topic);
    const subs: Subscription[] = [];
    const queues: DeliveryQueue<Subscription>[] = [];
    const needs: number[] = [];
    for (const sub of this.#subs) {
      if (!sub.pattern.matches(topic)) continue;
      subs.push(sub);
      const at = queues.indexOf(sub.queue);
      if (at === -1) {
        queues.push(sub.queue);
        needs.push(1);
      } else {
        needs[at]!++;
      }
    }
    const chain = [...this.#interceptors]
      .filter((i) => i.pattern.matches(topic))
      .sort((a, b) => a.priority - b.priority || a.order - b.order);
    const route: Route = { subs, queues, needs, chain };
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(topic, route);
    return route;
  }
}

/**
 * Throws unless every queue of the route has room for one more message.
 *
 * @param route The route.
 * @param topic The topic, for the message.
 * @throws {KernelError} `BUS_BACKPRESSURE` naming the first full receiver.
 */
export function checkRoom(route: Route, topic: string): void {
  const { queues, needs } = route;
  for (let i = 0; i < queues.length; i++) {
    const queue = queues[i]!;
    if (queue.free < needs[i]!) {
      const owner = route.subs.find((s) => s.queue === queue)!.owner;
      throw backpressure(owner, topic, queue.capacity);
    }
  }
}

/**
 * Queues one envelope for every subscription of the route, or for none.
 *
 * @param route The route.
 * @param envelope The message.
 * @throws {KernelError} `BUS_BACKPRESSURE` when a receiving queue is full.
 */
export function deliver(route: Route, envelope: BusEnvelope): void {
  checkRoom(route, envelope.topic);
  const subs = route.subs;
  for (let i = 0; i < subs.length; i++) subs[i]!.queue.push(subs[i]!, envelope);
}
