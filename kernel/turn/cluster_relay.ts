/**
 * The session hub's side of the cluster: what a frontend on any node sees
 * and answers. The hub publishes on its node's kernel bus — which the NATS
 * bridge (`kernel/cluster/nats/event_bridge.ts`) carries to the other
 * nodes — its sessions' events, each approval request it holds and each
 * settlement; it lists the requests held by other nodes beside its own and
 * forwards an answer to one of them to the node that holds it, which checks,
 * audits and applies it as it would a local answer.
 *
 * Security model: only messages the bridge delivered from another node
 * (`origin` set, source `kernel`) are read here; the bridge accepted them
 * only when signed with the cluster's runtime key. An answer is checked
 * against the options offered on the node that forwards it and again on
 * the node that holds the request, and audited there with the forwarding
 * node as the caller (`via: "cluster"`, `address: <node>`) and the person's
 * client as `on_behalf_of`. Remote requests are remembered in a bounded
 * map, and no longer listed once their node has been silent for
 * {@linkcode SILENT_MS} (each node says `node_alive` every
 * {@linkcode HEARTBEAT_MS}): a node that died does not leave requests behind
 * that nobody can answer. The streamed text of a turn is not sent (docs/cluster.md, "Events
 * across nodes"). Publishing never blocks a turn: while NATS is away and the
 * bridge's queue is full, the bus refuses (`BUS_BACKPRESSURE`) and the
 * event is dropped for the other nodes with a warning; local frontends are
 * not affected.
 *
 * @module
 */
import type { Clock, Logger } from "../core/ports.ts";
import type { PrincipalId, SessionId } from "../core/ids.ts";
import type { Bus } from "../bus/bus.ts";
import { type BusEnvelope, KERNEL_SOURCE } from "../bus/envelope.ts";
import type { JsonValue } from "../store/store.ts";
import type {
  ApprovalAnswerBody,
  ApprovalInfo,
  PromptStreamEvent,
} from "../api/contract.ts";
import type { ApiCaller } from "../api/session_hub.ts";
import {
  approvalResponseTopic,
  KERNEL_TOPICS,
  lifecycleTopic,
  sessionEventTopic,
} from "../../sdk/topics.ts";

/** Most requests of other nodes remembered. */
const MAX_REMOTE = 1_000;

/** How often a node says it is alive (`astrid.v1.lifecycle.node_alive`). */
export const HEARTBEAT_MS = 30_000;

/**
 * How long a node may stay silent before the requests it held are no
 * longer listed (it died without settling them; they come back as deferred
 * requests from the store when it restarts, or stay answerable there).
 */
export const SILENT_MS = 3 * HEARTBEAT_MS;

/** Answers a request this node holds (`false` when it holds none by that id). */
export type AnswerLocal = (
  requestId: string,
  body: ApprovalAnswerBody,
  caller: ApiCaller,
) => Promise<boolean>;

interface Remote {
  readonly info: ApprovalInfo;
  readonly origin: string;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

function str(v: unknown, max = 1_024): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= max;
}

/** Reads an announced request; `undefined` when it is not shaped like one. */
function infoOf(payload: unknown): ApprovalInfo | undefined {
  const p = record(payload);
  if (
    !p || !str(p["request_id"], 256) || !str(p["session"], 128) ||
    !str(p["action"]) || typeof p["resource"] !== "string" ||
    !str(p["risk"], 32) || typeof p["summary"] !== "string" ||
    !Array.isArray(p["options"]) || !p["options"].every((o) => str(o, 32)) ||
    typeof p["created_at"] !== "number"
  ) return undefined;
  return {
    request_id: p["request_id"],
    kind: "pending",
    session: p["session"],
    action: p["action"],
    resource: p["resource"] as string,
    risk: p["risk"] as ApprovalInfo["risk"],
    summary: p["summary"] as string,
    options: p["options"] as ApprovalInfo["options"],
    created_at: p["created_at"] as number,
  };
}

/** The hub's link to the other nodes through its node's bridged bus. */
export class ClusterRelay {
  readonly #bus: Bus;
  readonly #principal: PrincipalId;
  readonly #answerLocal: AnswerLocal;
  readonly #log: Logger;
  readonly #remote = new Map<string, Remote>();
  /** Node → when it was last heard of (its own clock for heartbeats). */
  readonly #alive = new Map<string, number>();
  readonly #clock: Clock;
  readonly #stops: (() => void)[] = [];
  readonly #beat = new AbortController();

  /**
   * Subscribes to the requests and answers of the other nodes.
   *
   * @param bus The node's kernel bus, bridged to the cluster.
   * @param options Principal, the hub's local answer path, logger, clock.
   */
  constructor(
    bus: Bus,
    options: {
      readonly principal: PrincipalId;
      readonly answerLocal: AnswerLocal;
      readonly logger: Logger;
      readonly clock: Clock;
    },
  ) {
    this.#bus = bus;
    this.#clock = options.clock;
    this.#principal = options.principal;
    this.#answerLocal = options.answerLocal;
    this.#log = options.logger.child({ component: "cluster-relay" });
    this.#stops.push(
      bus.subscribe(KERNEL_SOURCE, {
        pattern: KERNEL_TOPICS.approval,
        handler: (e) => this.#onRequest(e),
      }),
      bus.subscribe(KERNEL_SOURCE, {
        pattern: KERNEL_TOPICS.approvalResponses,
        handler: (e) => this.#onResponse(e),
      }),
      // A node that (re)starts holds none of the requests it held before
      // (they were deferred into the store, which every node lists).
      bus.subscribe(KERNEL_SOURCE, {
        pattern: lifecycleTopic("node_start"),
        handler: (e) => {
          if (e.origin === undefined) return;
          for (const [id, r] of this.#remote) {
            if (r.origin === e.origin) this.#remote.delete(id);
          }
        },
      }),
      bus.subscribe(KERNEL_SOURCE, {
        pattern: lifecycleTopic("node_alive"),
        handler: (e) => {
          if (e.origin === undefined) return;
          const at = record(e.payload)?.["at"];
          // A heartbeat read late (a backlog after this node's restart)
          // counts from when it was sent, never from the future.
          const now = this.#clock.now();
          if (typeof at === "number") this.#heard(e.origin, Math.min(at, now));
        },
      }),
    );
    this.#publish(lifecycleTopic("node_start"), {}, null);
    void this.#heartbeat();
  }

  async #heartbeat(): Promise<void> {
    const signal = this.#beat.signal;
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(HEARTBEAT_MS, { signal });
      } catch {
        return;
      }
      this.#publish(
        lifecycleTopic("node_alive"),
        { at: this.#clock.now() },
        null,
      );
    }
  }

  #heard(origin: string, at: number): void {
    if (at > (this.#alive.get(origin) ?? 0)) this.#alive.set(origin, at);
  }

  /**
   * Tells the other nodes that this node holds a request.
   *
   * @param info The request as the API lists it.
   */
  announce(info: ApprovalInfo): void {
    this.#publish(
      KERNEL_TOPICS.approval,
      info as unknown as JsonValue,
      info.session,
    );
  }

  /**
   * Tells the other nodes a request held here is over.
   *
   * @param info The request.
   * @param decision The answer, or `null` when it was taken back (deferred).
   */
  settled(info: ApprovalInfo, decision: string | null): void {
    const topic = responseTopic(info.request_id);
    if (topic === undefined) return;
    this.#publish(topic, { kind: "settled", decision }, info.session);
  }

  /**
   * Publishes one event of a session held here for the other nodes. The
   * streamed text (`text_delta`) is not published: it is node-local (its
   * topic, `astrid.v1.session.<id>.delta`, never crosses), and this node's
   * own frontends get it from the hub directly.
   *
   * @param session The session.
   * @param event The event.
   */
  event(session: SessionId, event: PromptStreamEvent): void {
    if (event.type === "text_delta") return;
    this.#publish(
      sessionEventTopic(session),
      event as unknown as JsonValue,
      session,
    );
  }

  /**
   * The requests other nodes hold, optionally of one session.
   *
   * @param session The session.
   * @returns Their `ApprovalInfo`s.
   */
  remoteApprovals(session?: string): ApprovalInfo[] {
    const cutoff = this.#clock.now() - SILENT_MS;
    for (const [id, r] of this.#remote) {
      if ((this.#alive.get(r.origin) ?? 0) < cutoff) this.#remote.delete(id);
    }
    return [...this.#remote.values()]
      .filter((r) => session === undefined || r.info.session === session)
      .map((r) => r.info);
  }

  /**
   * Sends an answer to the node that holds the request.
   *
   * @param requestId The request.
   * @param body The answer, already checked against the offered options.
   * @param caller Who answered here.
   * @returns The request forwarded, or `undefined` when no other node
   * holds one by that id.
   */
  forward(
    requestId: string,
    body: ApprovalAnswerBody,
    caller: ApiCaller,
  ): ApprovalInfo | undefined {
    const remote = this.#remote.get(requestId);
    const topic = responseTopic(requestId);
    if (remote === undefined || topic === undefined) return undefined;
    // The person's client when the caller relays it (the web console),
    // else the caller: the holding node audits it as `on_behalf_of`.
    const who = caller.on_behalf_of ?? caller;
    this.#publish(topic, {
      kind: "answer",
      to: remote.origin,
      decision: body.decision,
      ...(body.reason ? { reason: body.reason } : {}),
      via: who.via,
      ...(who.address ? { address: who.address } : {}),
    }, remote.info.session);
    this.#remote.delete(requestId);
    return remote.info;
  }

  /**
   * Follows the events of a session held by another node.
   *
   * @param session The session.
   * @param push Receives each event.
   * @returns Stops following.
   */
  watch(session: SessionId, push: (e: PromptStreamEvent) => void): () => void {
    return this.#bus.subscribe(KERNEL_SOURCE, {
      pattern: sessionEventTopic(session),
      handler: (e) => {
        if (e.origin !== undefined) {
          push(e.payload as unknown as PromptStreamEvent);
        }
      },
    });
  }

  /** Stops listening. */
  close(): void {
    this.#beat.abort();
    for (const stop of this.#stops.splice(0)) stop();
  }

  #publish(topic: string, payload: JsonValue, session: string | null): void {
    this.#bus.publish(KERNEL_SOURCE, {
      topic,
      payload,
      principal: this.#principal,
      session: session as SessionId,
    }).catch((err) =>
      this.#log.log("warn", `Cannot publish on '${topic}'`, {
        error: String(err),
      })
    );
  }

  #onRequest(e: BusEnvelope): void {
    if (e.origin === undefined || e.source !== KERNEL_SOURCE) return;
    const info = infoOf(e.payload);
    if (info === undefined) return;
    if (this.#remote.size >= MAX_REMOTE) {
      const oldest = this.#remote.keys().next().value;
      if (oldest !== undefined) this.#remote.delete(oldest);
    }
    this.#remote.set(info.request_id, { info, origin: e.origin });
    this.#heard(e.origin, Math.min(info.created_at, this.#clock.now()));
  }

  async #onResponse(e: BusEnvelope): Promise<void> {
    if (e.origin === undefined || e.source !== KERNEL_SOURCE) return;
    const requestId = e.topic.slice("astrid.v1.approval.response.".length);
    const p = record(e.payload);
    if (p?.["kind"] === "settled") {
      this.#remote.delete(requestId);
      return;
    }
    if (p?.["kind"] !== "answer" || !str(p["decision"], 32)) return;
    const body = {
      decision: p["decision"],
      ...(str(p["reason"]) ? { reason: p["reason"] } : {}),
    } as ApprovalAnswerBody;
    const caller: ApiCaller = {
      via: "cluster",
      address: e.origin,
      on_behalf_of: {
        via: str(p["via"], 32) ? p["via"] : "unknown",
        ...(str(p["address"], 256) ? { address: p["address"] } : {}),
      },
    };
    try {
      await this.#answerLocal(requestId, body, caller);
    } catch (err) {
      this.#log.log("warn", `Cannot apply an answer from node '${e.origin}'`, {
        request_id: requestId,
        error: String(err),
      });
    }
  }
}

function responseTopic(requestId: string): string | undefined {
  try {
    return approvalResponseTopic(requestId);
  } catch {
    return undefined;
  }
}
