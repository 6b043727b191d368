/**
 * Names of the bus topics the kernel publishes or consumes (reference §4.7,
 * the ones that still apply). Topics under `astrid.` are published by the
 * kernel only; no manifest grant lets a capsule publish them. Capsules may
 * subscribe to them when their `ipc_subscribe` list covers the topic.
 *
 * Topic grammar: 1–8 dot-separated segments of `[A-Za-z0-9_:-]`; in
 * patterns `*` is one segment and a trailing `**` one or more.
 *
 * @module
 */

/** The kernel's fixed topic names. */
export interface KernelTopics {
  /** After each (re)load pass of the capsules; payload `{status: "ready"}`. */
  readonly capsulesLoaded: "astrid.v1.capsules_loaded";
  /** Heartbeat every few seconds; payload `{}`. */
  readonly watchdogTick: "astrid.v1.watchdog.tick";
  /** A capsule failed its health check; payload `{capsule_id, reason}`. */
  readonly healthFailed: "astrid.v1.health.failed";
  /** Required `[env]` fields are missing at load; payload `{capsule_id, fields}`. */
  readonly onboardingRequired: "astrid.v1.onboarding.required";
  /** A gated action needs a human; payload `{request_id, action, resource, reason, risk_level}`. */
  readonly approval: "astrid.v1.approval";
  /** Pattern of approval answers (see {@linkcode approvalResponseTopic}). */
  readonly approvalResponses: "astrid.v1.approval.response.*";
  /** A capsule asks the user for a value at install or upgrade; payload `{request_id, capsule_id, field}`. */
  readonly elicit: "astrid.v1.elicit";
  /** Pattern of elicitation answers (see {@linkcode elicitResponseTopic}). */
  readonly elicitResponses: "astrid.v1.elicit.response.*";
  /** Pattern of every lifecycle event (see {@linkcode lifecycleTopic}). */
  readonly lifecycle: "astrid.v1.lifecycle.*";
  /** Pattern of the sessions' events (see {@linkcode sessionEventTopic}). */
  readonly sessionEvents: "astrid.v1.session.*.event";
  /** Pattern of the sessions' streamed text (see {@linkcode sessionDeltaTopic}). */
  readonly sessionDeltas: "astrid.v1.session.*.delta";
  /** A frontend connected to the daemon; payload `{}`. */
  readonly clientConnected: "client.v1.connected";
  /** A frontend disconnected; payload `{reason?}`. */
  readonly clientDisconnect: "client.v1.disconnect";
  /** Cancel running tool calls; payload `{call_ids: string[]}`. */
  readonly toolCancel: "tool.v1.request.cancel";
}

/**
 * The kernel's fixed topic names. `astrid.v1.event_bus.lagged` of 0.5 is
 * gone (the bus refuses with backpressure instead of dropping) and so is the
 * `astrid.v1.request.*` management API (the daemon's HTTP API replaces it).
 *
 * @example Subscribe to the boot signal
 * ```ts
 * import { KERNEL_TOPICS } from "./topics.ts";
 * const pattern: string = KERNEL_TOPICS.capsulesLoaded;
 * console.assert(pattern === "astrid.v1.capsules_loaded");
 * ```
 */
export const KERNEL_TOPICS: KernelTopics = Object.freeze({
  capsulesLoaded: "astrid.v1.capsules_loaded",
  watchdogTick: "astrid.v1.watchdog.tick",
  healthFailed: "astrid.v1.health.failed",
  onboardingRequired: "astrid.v1.onboarding.required",
  approval: "astrid.v1.approval",
  approvalResponses: "astrid.v1.approval.response.*",
  elicit: "astrid.v1.elicit",
  elicitResponses: "astrid.v1.elicit.response.*",
  lifecycle: "astrid.v1.lifecycle.*",
  sessionEvents: "astrid.v1.session.*.event",
  sessionDeltas: "astrid.v1.session.*.delta",
  clientConnected: "client.v1.connected",
  clientDisconnect: "client.v1.disconnect",
  toolCancel: "tool.v1.request.cancel",
});

const SEGMENT = /^[A-Za-z0-9_:-]{1,128}$/;

function segment(value: string, what: string): string {
  if (!SEGMENT.test(value)) {
    throw new RangeError(
      `Cannot use ${
        JSON.stringify(value.slice(0, 80))
      } as ${what}: expected 1-128 characters of [A-Za-z0-9_:-]`,
    );
  }
  return value;
}

/**
 * The topic that carries the answer to one approval request.
 *
 * @param requestId The `request_id` of the `astrid.v1.approval` message.
 * @returns `astrid.v1.approval.response.<requestId>`.
 * @throws {RangeError} When the id is empty or has a dot, a wildcard or
 * another character outside `[A-Za-z0-9_:-]` (it would change the topic).
 *
 * @example Build an answer topic
 * ```ts
 * import { approvalResponseTopic } from "./topics.ts";
 * console.assert(approvalResponseTopic("r-1") === "astrid.v1.approval.response.r-1");
 * ```
 */
export function approvalResponseTopic(requestId: string): string {
  return `astrid.v1.approval.response.${segment(requestId, "a request id")}`;
}

/**
 * The topic that carries the answer to one elicitation request.
 *
 * @param requestId The `request_id` of the `astrid.v1.elicit` message.
 * @returns `astrid.v1.elicit.response.<requestId>`.
 * @throws {RangeError} When the id is not one topic segment.
 *
 * @example Build an answer topic
 * ```ts
 * import { elicitResponseTopic } from "./topics.ts";
 * console.assert(elicitResponseTopic("e1") === "astrid.v1.elicit.response.e1");
 * ```
 */
export function elicitResponseTopic(requestId: string): string {
  return `astrid.v1.elicit.response.${segment(requestId, "a request id")}`;
}

/**
 * The topic of one kernel lifecycle event, e.g. `kernel_start`,
 * `kernel_shutdown`, `session_start`, `capsule_loaded`.
 *
 * @param event The snake_case event name.
 * @returns `astrid.v1.lifecycle.<event>`.
 * @throws {RangeError} When the name is not one topic segment.
 *
 * @example The shutdown event
 * ```ts
 * import { lifecycleTopic } from "./topics.ts";
 * console.assert(lifecycleTopic("kernel_shutdown") === "astrid.v1.lifecycle.kernel_shutdown");
 * ```
 */
export function lifecycleTopic(event: string): string {
  return `astrid.v1.lifecycle.${segment(event, "a lifecycle event name")}`;
}

/**
 * The topic of one session's events as frontends see them (`turn_start`,
 * tool calls and results, approval requests and decisions, budget, `final`
 * or `error`; every turn event except the streamed text).
 *
 * @param session The session id.
 * @returns `astrid.v1.session.<session>.event`.
 * @throws {RangeError} When the id is not one topic segment.
 *
 * @example
 * ```ts
 * import { sessionEventTopic } from "./topics.ts";
 * console.assert(sessionEventTopic("s1") === "astrid.v1.session.s1.event");
 * ```
 */
export function sessionEventTopic(session: string): string {
  return `astrid.v1.session.${segment(session, "a session id")}.event`;
}

/**
 * The topic of one session's streamed text (`text_delta` events): many
 * small messages per turn, for the frontends of the session's own node.
 *
 * @param session The session id.
 * @returns `astrid.v1.session.<session>.delta`.
 * @throws {RangeError} When the id is not one topic segment.
 *
 * @example
 * ```ts
 * import { sessionDeltaTopic } from "./topics.ts";
 * console.assert(sessionDeltaTopic("s1") === "astrid.v1.session.s1.delta");
 * ```
 */
export function sessionDeltaTopic(session: string): string {
  return `astrid.v1.session.${segment(session, "a session id")}.delta`;
}
