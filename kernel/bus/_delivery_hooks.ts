/**
 * Private: what the bus does with a subscriber's outcome: a return value answers a
 * request, a failure is logged and (on a request) counted against it.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type { Subscription } from "./_routes.ts";
import type { QueueHooks } from "./delivery_queue.ts";
import type { BusEnvelope, JsonValue } from "./envelope.ts";
import type { PendingRequests } from "./pending_requests.ts";

/**
 * Builds the queue hooks shared by every queue of one bus.
 *
 * @param parts The open requests, the logger, and busy/idle callbacks.
 * @returns The hooks.
 *
 * @example A handler's return value answers a request
 * ```ts
 * import assert from "node:assert/strict";
 * import { deliveryHooks } from "./_delivery_hooks.ts";
 * import { PendingRequests } from "./pending_requests.ts";
 * import { FakeClock } from "../testing/fake_clock.ts";
 * import { MemoryLogger } from "../testing/memory_logger.ts";
 * import type { BusEnvelope } from "./envelope.ts";
 * import type { Subscription } from "./_routes.ts";
 * const pending = new PendingRequests(new FakeClock(0));
 * const hooks = deliveryHooks({ pending, logger: new MemoryLogger(), onBusy() {}, onIdle() {} });
 * const answer = pending.open("c", { requester: "kernel", topic: "a.b", targets: new Set(["kernel"]), deliveries: 1, timeoutMs: 10 });
 * hooks.onResult({ owner: "kernel" } as Subscription, { correlation_id: "c" } as BusEnvelope, 7);
 * assert.equal(await answer, 7);
 * ```
 */
export function deliveryHooks(parts: {
  readonly pending: PendingRequests;
  readonly logger: Logger;
  readonly onBusy: () => void;
  readonly onIdle: () => void;
}): QueueHooks<Subscription> {
  const { pending, logger } = parts;
  return {
    onResult(sub: Subscription, env: BusEnvelope, value: unknown): void {
      if (env.correlation_id !== null && value !== undefined) {
        // false: already answered or timed out; the first answer won.
        pending.answer(sub.owner, env.correlation_id, value as JsonValue);
      }
    },
    onError(sub: Subscription, env: BusEnvelope, error: unknown): void {
      logger.log("warn", `Subscriber '${sub.owner}' failed on '${env.topic}'`, {
        capsule: sub.owner,
        topic: env.topic,
        error: error instanceof Error ? error.message : String(error),
      });
      if (env.correlation_id === null) return;
      const reported = KernelError.is(error) ? error : new KernelError(
        "CAPSULE_FAILED",
        `Capsule '${sub.owner}' failed handling a request on '${env.topic}'`,
        { cause: error, data: { capsule: sub.owner, topic: env.topic } },
      );
      pending.deliveryFailed(env.correlation_id, reported);
    },
    onBusy: parts.onBusy,
    onIdle: parts.onIdle,
  };
}
