/**
 * Private: the capsules registered on the bus: their ACLs, rate buckets, ordered
 * queues and subscription counts.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import { notRegistered, rateLimited } from "./_errors.ts";
import type { Subscription } from "./_routes.ts";
import { MAX_SUBSCRIPTIONS_PER_CAPSULE } from "./bus_types.ts";
import type { BusGrants } from "./bus_types.ts";
import { type AclVerdict, CapsuleAcl } from "./capsule_acl.ts";
import {
  DEFAULT_QUEUE_SIZE,
  DeliveryQueue,
  type QueueHooks,
} from "./delivery_queue.ts";
import { type BusSource, KERNEL_SOURCE } from "./envelope.ts";
import { DEFAULT_RATE_LIMIT, TokenBucket } from "./rate_limiter.ts";
import type { TopicPattern } from "./topic.ts";

/** One registered capsule. */
export interface CapsuleEntry {
  readonly id: CapsuleId;
  readonly acl: CapsuleAcl;
  readonly bucket: TokenBucket | null;
  readonly queue: DeliveryQueue<Subscription>;
  subscriptions: number;
}

/**
 * Registered capsules by id.
 *
 * @example Register and admit
 * ```ts
 * import assert from "node:assert/strict";
 * import { CapsuleTable } from "./_capsule_table.ts";
 * import type { CapsuleId } from "../core/ids.ts";
 * const table = new CapsuleTable({ onResult() {}, onError() {}, onBusy() {}, onIdle() {} });
 * table.add("a" as CapsuleId, { publish: ["x.*"], subscribe: [] }, 0);
 * assert.ok(table.admit("a" as CapsuleId, "x.y", 0).ok);
 * assert.ok(!table.admit("a" as CapsuleId, "z.y", 0).ok);
 * ```
 */
export class CapsuleTable {
  readonly #entries = new Map<BusSource, CapsuleEntry>();
  readonly #hooks: QueueHooks<Subscription>;

  /**
   * @param hooks Shared by every capsule queue.
   */
  constructor(hooks: QueueHooks<Subscription>) {
    this.#hooks = hooks;
  }

  /** How many capsules are registered. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The registered ids.
   *
   * @returns A snapshot.
   */
  ids(): CapsuleId[] {
    return [...this.#entries.values()].map((e) => e.id);
  }

  /**
   * Registers a capsule.
   *
   * @param id The capsule.
   * @param grants Its ACLs, rate limit and queue size.
   * @param now The time, for the rate bucket.
   * @throws {KernelError} `INVALID_ID` for `kernel`, `BUS_TOPIC_INVALID`.
   * @throws {TypeError} When already registered.
   */
  add(id: CapsuleId, grants: BusGrants, now: number): void {
    if ((id as string) === KERNEL_SOURCE) {
      throw new KernelError(
        "INVALID_ID",
        "Cannot register capsule 'kernel' as that name is reserved for the kernel on the bus",
      );
    }
    if (this.#entries.has(id)) {
      throw new TypeError(
        `Cannot register capsule '${id}' twice; unregister it first`,
      );
    }
    const limit = grants.rateLimit ?? DEFAULT_RATE_LIMIT;
    const size = grants.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.#entries.set(id, {
      id,
      acl: new CapsuleAcl(grants),
      bucket: limit === "unlimited" ? null : new TokenBucket(limit, now),
      queue: new DeliveryQueue(size, this.#hooks),
      subscriptions: 0,
    });
  }

  /**
   * Removes a capsule.
   *
   * @param id The capsule.
   * @returns The removed entry, or `undefined`.
   */
  remove(id: CapsuleId): CapsuleEntry | undefined {
    const entry = this.#entries.get(id);
    this.#entries.delete(id);
    return entry;
  }

  /**
   * Looks a capsule up.
   *
   * @param id The capsule.
   * @returns Its entry.
   * @throws {KernelError} `CAPSULE_NOT_FOUND`.
   */
  get(id: BusSource): CapsuleEntry {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw notRegistered(id);
    return entry;
  }

  /**
   * Publish ACL, then rate limit.
   *
   * @param source The publisher.
   * @param topic The topic.
   * @param now The time, for the rate bucket.
   * @returns The ACL verdict; a denial takes no token.
   * @throws {KernelError} `CAPSULE_NOT_FOUND`, `BUS_TOPIC_INVALID`, `BUS_RATE_LIMITED`.
   */
  admit(source: BusSource, topic: string, now: number): AclVerdict {
    const entry = this.get(source);
    const verdict = entry.acl.checkPublish(topic);
    if (verdict.ok && entry.bucket !== null && !entry.bucket.take(now)) {
      throw rateLimited(source, topic);
    }
    return verdict;
  }

  /**
   * Checks the subscribe ACL and the subscription cap.
   *
   * @param entry The capsule.
   * @param pattern The subscription pattern.
   * @returns The ACL verdict; when allowed, the capsule's count is taken.
   * @throws {KernelError} `INVALID_INPUT` past the cap.
   */
  reserveSubscription(entry: CapsuleEntry, pattern: TopicPattern): AclVerdict {
    const verdict = entry.acl.checkSubscribe(pattern);
    if (!verdict.ok) return verdict;
    if (entry.subscriptions >= MAX_SUBSCRIPTIONS_PER_CAPSULE) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot subscribe capsule '${entry.id}' to '${pattern.source}' as it already has ${MAX_SUBSCRIPTIONS_PER_CAPSULE} subscriptions (the maximum)`,
      );
    }
    entry.subscriptions++;
    return verdict;
  }
}
