/**
 * Private: the errors the bus gives its callers, in one place so messages
 * stay consistent — what failed, and why.
 *
 * @example Every builder returns a KernelError with a bus code
 * ```ts
 * import assert from "node:assert/strict";
 * import { backpressure, busClosed, deniedByInterceptor, noSubscriber, notRegistered, rateLimited } from "./_errors.ts";
 * assert.deepEqual(
 *   [notRegistered("x"), rateLimited("x", "a.b"), backpressure("x", "a.b", 8), noSubscriber("a.b"),
 *     deniedByInterceptor("x", "a.b", { interceptor: "y", reason: "no" }), busClosed("publish")].map((e) => e.code),
 *   ["CAPSULE_NOT_FOUND", "BUS_RATE_LIMITED", "BUS_BACKPRESSURE", "NOT_FOUND", "BUS_DENIED", "ABORTED"],
 * );
 * ```
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * The source is neither `"kernel"` nor a registered capsule.
 *
 * @param id The unknown source.
 * @returns A `CAPSULE_NOT_FOUND` error.
 */
export function notRegistered(id: string): KernelError {
  return new KernelError(
    "CAPSULE_NOT_FOUND",
    `Capsule '${id}' is not registered on the bus`,
    { data: { capsule: id } },
  );
}

/**
 * The publisher ran out of rate-limit tokens.
 *
 * @param source The publisher.
 * @param topic What it tried to publish.
 * @returns A `BUS_RATE_LIMITED` error.
 */
export function rateLimited(source: string, topic: string): KernelError {
  return new KernelError(
    "BUS_RATE_LIMITED",
    `Capsule '${source}' may not publish to '${topic}' now as it exceeded its rate limit`,
    { data: { capsule: source, topic } },
  );
}

/**
 * A receiving queue is full.
 *
 * @param owner Whose queue.
 * @param topic The refused message's topic.
 * @param capacity The queue's capacity.
 * @returns A `BUS_BACKPRESSURE` error.
 */
export function backpressure(
  owner: string,
  topic: string,
  capacity: number,
): KernelError {
  return new KernelError(
    "BUS_BACKPRESSURE",
    `Cannot deliver '${topic}' to '${owner}' as its queue is full (${capacity} messages waiting); retry once it drains`,
    { data: { topic, capsule: owner, capacity } },
  );
}

/**
 * A request found no subscriber.
 *
 * @param topic The request topic.
 * @returns A `NOT_FOUND` error.
 */
export function noSubscriber(topic: string): KernelError {
  return new KernelError(
    "NOT_FOUND",
    `Cannot send a request on '${topic}' as nothing subscribes to it`,
    { data: { topic } },
  );
}

/**
 * An interceptor said `deny`.
 *
 * @param source The publisher.
 * @param topic The topic.
 * @param denial Whose interceptor, and its reason.
 * @returns A `BUS_DENIED` error.
 */
export function deniedByInterceptor(
  source: string,
  topic: string,
  denial: { readonly interceptor: string; readonly reason: string },
): KernelError {
  return new KernelError(
    "BUS_DENIED",
    `Interceptor of '${denial.interceptor}' denied '${topic}' from '${source}': ${denial.reason}`,
    { data: { topic, interceptor: denial.interceptor } },
  );
}

/**
 * The bus was closed.
 *
 * @param what What the caller tried to do.
 * @returns An `ABORTED` error.
 */
export function busClosed(what: string): KernelError {
  return new KernelError("ABORTED", `Cannot ${what} as the bus is closed`);
}
