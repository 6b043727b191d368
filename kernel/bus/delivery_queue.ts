/**
 * A bounded FIFO of deliveries with one drain loop: the per-capsule ordered
 * queue of the bus. Full means full: {@linkcode DeliveryQueue.push} refuses
 * instead of dropping, and the bus turns that into `BUS_BACKPRESSURE` for the
 * publisher.
 *
 * @module
 */
import type { BusEnvelope, BusHandler } from "./envelope.ts";

/**
 * The default capacity of a capsule's queue (messages waiting, not in flight).
 *
 * @example The default
 * ```ts
 * import { DEFAULT_QUEUE_SIZE } from "./delivery_queue.ts";
 * console.assert(DEFAULT_QUEUE_SIZE === 1024);
 * ```
 */
export const DEFAULT_QUEUE_SIZE = 1024;

/** What a queue delivers to: anything with a handler and an `active` flag. */
export interface QueueTarget {
  /** Called with each envelope, one at a time, in push order. */
  readonly handler: BusHandler;
  /** Deliveries to a target that is no longer active are skipped. */
  readonly active: boolean;
}

/** How a queue reports back to its owner. None of these may throw. */
export interface QueueHooks<T extends QueueTarget> {
  /** A handler returned (or resolved to) `value`. */
  onResult(target: T, envelope: BusEnvelope, value: unknown): void;
  /** A handler threw or rejected. */
  onError(target: T, envelope: BusEnvelope, error: unknown): void;
  /** The queue went from idle to draining. */
  onBusy(): void;
  /** The queue drained (or was closed) and stopped. */
  onIdle(): void;
}

/**
 * A ring buffer of `(target, envelope)` pairs drained by one loop. The loop
 * starts on a microtask after the first push into an empty queue and then
 * runs handlers back to back, awaiting only handlers that return a promise,
 * so a burst costs one scheduling, not one per message. Handlers of one
 * queue never overlap; different queues drain concurrently.
 *
 * @example Deliver in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeliveryQueue } from "./delivery_queue.ts";
 * import type { BusEnvelope } from "./envelope.ts";
 * const seen: number[] = [];
 * const target = { active: true, handler: (e: BusEnvelope) => { seen.push(e.seq); } };
 * let idle!: () => void;
 * const done = new Promise<void>((r) => (idle = r));
 * const q = new DeliveryQueue(2, { onResult() {}, onError() {}, onBusy() {}, onIdle: () => idle() });
 * q.push(target, { seq: 1 } as BusEnvelope);
 * q.push(target, { seq: 2 } as BusEnvelope);
 * assert.equal(q.free, 0);
 * await done;
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export class DeliveryQueue<T extends QueueTarget = QueueTarget> {
  readonly #capacity: number;
  readonly #targets: (T | undefined)[];
  readonly #envelopes: (BusEnvelope | undefined)[];
  readonly #hooks: QueueHooks<T>;
  #head = 0;
  #size = 0;
  #running = false;
  #closed = false;
  readonly #start = (): void => {
    void this.#drain();
  };

  /**
   * Creates an empty queue.
   *
   * @param capacity Most deliveries waiting at once (≥ 1).
   * @param hooks Where results, errors and idleness are reported.
   * @throws {RangeError} When `capacity` is not a positive integer.
   */
  constructor(capacity: number, hooks: QueueHooks<T>) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create a delivery queue of size ${capacity}: expected a positive integer`,
      );
    }
    this.#capacity = capacity;
    this.#targets = new Array(capacity);
    this.#envelopes = new Array(capacity);
    this.#hooks = hooks;
  }

  /** Most deliveries that may wait. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Deliveries waiting (not counting one in flight). */
  get size(): number {
    return this.#size;
  }

  /** Free slots; `0` once closed. */
  get free(): number {
    return this.#closed ? 0 : this.#capacity - this.#size;
  }

  /**
   * Appends a delivery. Check {@linkcode DeliveryQueue.free} first.
   *
   * @param target Who handles it.
   * @param envelope The message.
   * @throws {RangeError} When the queue is full or closed (a bus bug).
   */
  push(target: T, envelope: BusEnvelope): void {
    if (this.#closed || this.#size === this.#capacity) {
      throw new RangeError("Cannot push to a full or closed delivery queue");
    }
    let tail = this.#head + this.#size;
    if (tail >= this.#capacity) tail -= this.#capacity;
    this.#targets[tail] = target;
    this.#envelopes[tail] = envelope;
    this.#size++;
    if (!this.#running) {
      this.#running = true;
      this.#hooks.onBusy();
      queueMicrotask(this.#start);
    }
  }

  /**
   * Stops the queue: waiting deliveries are discarded (their receiver is
   * gone), a handler in flight finishes. Idempotent.
   *
   * @returns How many waiting deliveries were discarded.
   */
  close(): number {
    if (this.#closed) return 0;
    this.#closed = true;
    const dropped = this.#size;
    this.#targets.fill(undefined);
    this.#envelopes.fill(undefined);
    this.#size = 0;
    return dropped;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#size > 0) {
        const i = this.#head;
        const target = this.#targets[i]!;
        const envelope = this.#envelopes[i]!;
        this.#targets[i] = undefined;
        this.#envelopes[i] = undefined;
        this.#head = i + 1 === this.#capacity ? 0 : i + 1;
        this.#size--;
        if (!target.active) continue;
        try {
          let value: unknown = target.handler(envelope);
          if (value instanceof Promise || isThenable(value)) {
            value = await value;
          }
          this.#hooks.onResult(target, envelope, value);
        } catch (error) {
          this.#hooks.onError(target, envelope, error);
        }
      }
    } finally {
      this.#running = false;
      this.#hooks.onIdle();
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" &&
    typeof (value as { then?: unknown }).then === "function";
}
