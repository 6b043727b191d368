/**
 * The IPC bus (reference §4, DESIGN §3): how capsules and the kernel talk.
 *
 * - {@linkcode Bus}: `registerCapsule()` with the manifest's `ipc_publish` /
 *   `ipc_subscribe` lists, `publish()`, `subscribe()`, `intercept()`,
 *   `request()` / `respond()`, `whenIdle()`, `close()`.
 * - {@linkcode compileTopicPattern} / {@linkcode validateTopic}: the one
 *   matcher, used for subscriptions, interceptors and both ACLs. Topics are
 *   1–8 dot-separated segments of `[A-Za-z0-9_:-]` (≤ 256 characters, no
 *   empty segments); in patterns `*` is exactly one segment and a trailing
 *   `**` one or more (the 0.5 subscription meaning of a trailing `.*`).
 * - {@linkcode auditDenials}: the denial sink that writes to the audit log.
 * - Every envelope carries `principal` and `session`, a bus-unique `id` and
 *   `seq`, the `source` capsule (or `"kernel"`), and `correlation_id` on
 *   requests. Topic names the kernel uses are in `@astrid/sdk`
 *   (`KERNEL_TOPICS`).
 *
 * Differences from 0.5.1, on purpose: `final` hands its payload back to the
 * publisher; `deny` is reported to the audit log; queues refuse instead of
 * dropping; one matcher instead of two; interceptor ties run in registration
 * order; an interceptor that throws stops the message (fail closed).
 *
 * Security model: a capsule publishes only topics one of its `ipc_publish`
 * patterns matches and subscribes only with patterns one of its
 * `ipc_subscribe` patterns covers entirely (checked pattern against pattern,
 * so a grant of `foo.*` never yields `foo.**`); an empty list grants nothing.
 * Topics under `astrid.` are the kernel's: no grant lets a capsule publish
 * them, so it can neither fake a kernel event nor answer an approval. The
 * capsule name `kernel` cannot be registered. Every denial — ACL or
 * interceptor — is handed to `onDenied` (the audit log) before the caller
 * gets `BUS_ACL_DENIED` / `BUS_DENIED`. Envelopes are frozen, so a
 * subscriber cannot change the topic, source, principal or session the next
 * one sees (payloads are shared read-only; guest engines copy them across the
 * sandbox boundary). Only a recipient of a
 * request can answer it, and answers travel straight to the requester rather
 * than over a guessable reply topic; an unknown and a foreign correlation id
 * give the same `NOT_FOUND`. Per-capsule queues are bounded (`BUS_BACKPRESSURE`
 * to the publisher, delivery all or nothing) and publishing is rate limited
 * per capsule (`BUS_RATE_LIMITED`), so one capsule cannot exhaust memory or
 * starve the others. The bus trusts the principal and session its kernel
 * caller (the host ABI) puts on a message; guests never set them.
 *
 * @example Publish, subscribe, and a denied publish
 * ```ts
 * import assert from "node:assert/strict";
 * import { Bus } from "./mod.ts";
 * import { FakeClock, MemoryLogger, SeededRandom } from "../testing/mod.ts";
 * import type { CapsuleId, PrincipalId } from "../core/ids.ts";
 *
 * const bus = new Bus({ clock: new FakeClock(0), random: new SeededRandom(7), logger: new MemoryLogger() });
 * const react = "react" as CapsuleId;
 * const cli = "cli" as CapsuleId;
 * bus.registerCapsule(react, { publish: ["agent.v1.response"], subscribe: [] });
 * bus.registerCapsule(cli, { publish: [], subscribe: ["agent.v1.*"] });
 * const seen: unknown[] = [];
 * bus.subscribe(cli, { pattern: "agent.v1.response", handler: (e) => void seen.push(e.payload) });
 * const ctx = { principal: "alice" as PrincipalId, session: null };
 * await bus.publish(react, { topic: "agent.v1.response", payload: { text: "hi" }, ...ctx });
 * await bus.whenIdle();
 * assert.deepEqual(seen, [{ text: "hi" }]);
 * await assert.rejects(
 *   bus.publish(cli, { topic: "agent.v1.response", payload: {}, ...ctx }),
 *   { code: "BUS_ACL_DENIED" },
 * );
 * ```
 *
 * @module
 */
export { Bus } from "./bus.ts";
export {
  DEFAULT_INTERCEPTOR_PRIORITY,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_SUBSCRIPTIONS_PER_CAPSULE,
} from "./bus_types.ts";
export type {
  BusDeps,
  BusGrants,
  BusResponse,
  BusStats,
  InterceptOptions,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from "./bus_types.ts";
export { KERNEL_SOURCE } from "./envelope.ts";
export type {
  BusContext,
  BusDenial,
  BusEnvelope,
  BusHandler,
  BusMessage,
  BusSource,
  DenialSink,
  Interceptor,
  InterceptorCallOptions,
  InterceptResult,
  JsonValue,
} from "./envelope.ts";
export {
  compileTopicPattern,
  MAX_TOPIC_LENGTH,
  MAX_TOPIC_SEGMENTS,
  validateTopic,
} from "./topic.ts";
export type { TopicPattern } from "./topic.ts";
export { CapsuleAcl, RESERVED_DOMAIN } from "./capsule_acl.ts";
export type { AclVerdict } from "./capsule_acl.ts";
export { DEFAULT_RATE_LIMIT, TokenBucket } from "./rate_limiter.ts";
export type { RateLimit } from "./rate_limiter.ts";
export { DEFAULT_QUEUE_SIZE, DeliveryQueue } from "./delivery_queue.ts";
export type { QueueHooks, QueueTarget } from "./delivery_queue.ts";
export { PendingRequests } from "./pending_requests.ts";
export type { OpenRequest } from "./pending_requests.ts";
export { auditDenials } from "./audit_denials.ts";
