/**
 * A single-consumer async queue: producers push, one consumer iterates with
 * `for await`; `end()` lets the consumer drain what is queued and stop.
 *
 * @module
 */

/**
 * An unbounded queue read by one async iterator.
 *
 * @example
 * ```ts
 * import { EventQueue } from "./event_queue.ts";
 * const q = new EventQueue<number>();
 * q.push(1); q.push(2); q.end();
 * const seen: number[] = [];
 * for await (const n of q) seen.push(n);
 * console.assert(seen.join() === "1,2");
 * ```
 */
export class EventQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Queues an item (ignored after `end()`).
   *
   * @param item The item.
   */
  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake?.();
  }

  /** Ends the queue: the consumer drains what is queued, then stops. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

/**
 * Reads a queue until it ends or the reader goes away (`signal`), then runs
 * `done` (e.g. forgets the queue) — the one reader of the turn layer's
 * event streams.
 *
 * @param queue The queue.
 * @param signal Ends the reading (the queue is ended).
 * @param done Runs once the reading stops.
 * @returns The events.
 */
export async function* readQueue<T>(
  queue: EventQueue<T>,
  signal: AbortSignal,
  done?: () => void,
): AsyncGenerator<T> {
  const stop = () => queue.end();
  if (signal.aborted) stop();
  signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const e of queue) yield e;
  } finally {
    signal.removeEventListener("abort", stop);
    done?.();
  }
}
