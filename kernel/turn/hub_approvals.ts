/**
 * The approval requests of a session hub's sessions: the ones a turn or a
 * commit holds until an API client answers, the deferred ones in the store,
 * and (with the cluster's events) the ones other nodes hold.
 *
 * Security model:
 * - An answer is checked against the options the request offered, and
 *   audited (who answered, from where) before it takes effect.
 * - A deferred approval is answered by the gate itself
 *   (`Gate.resolveDeferred`: taken from the queue atomically and the whole
 *   gate re-run with the answer), never by trusting the stored item.
 * - A request another node holds is checked here and forwarded; that node
 *   checks, audits and applies it (`cluster_relay.ts`).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { SessionId } from "../core/ids.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import { actionInfo } from "../security/action_info.ts";
import {
  APPROVAL_OPTIONS,
  type ApprovalRequest,
  type ApprovalResponse,
  parseApprovalResponse,
} from "../security/approval/handler.ts";
import type { ApiCaller } from "../api/session_hub.ts";
import type {
  ApprovalAnswerBody,
  ApprovalInfo,
  PromptStreamEvent,
} from "../api/contract.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import { approvalEventOf } from "./approval_event.ts";
import type { ClusterRelay } from "./cluster_relay.ts";
import type { Live } from "./_hub_live.ts";
import type { AgentSession } from "./agent_session.ts";

/** How long `close()` waits for dismissed approval requests to be deferred. */
const DEFER_WAIT_MS = 2_000;

/** What {@linkcode HubApprovals} reads of its hub. */
export interface HubApprovalsDeps {
  readonly kernel: KernelHandle;
  /** The hub's live sessions. */
  lives(): Iterable<Live>;
  /** The cluster relay, when the node has the cluster's events. */
  relay(): ClusterRelay | undefined;
  /** Sends an event to a session's prompt streams and subscribers. */
  broadcast(live: Live, event: PromptStreamEvent): void;
}

/** The approval requests of a session hub; see the module doc. */
export class HubApprovals {
  readonly #deps: HubApprovalsDeps;

  /** @param deps The hub's kernel, sessions, relay and broadcast. */
  constructor(deps: HubApprovalsDeps) {
    this.#deps = deps;
  }

  /**
   * The requests waiting: held by this node's sessions, deferred in the
   * store, and (with the cluster's events) held by other nodes.
   *
   * @param session Only this session's.
   * @returns Oldest first.
   */
  async list(session?: string): Promise<ApprovalInfo[]> {
    const out: ApprovalInfo[] = [];
    for (const live of this.#deps.lives()) {
      if (session !== undefined && live.id !== session) continue;
      for (const p of live.approvals.values()) {
        if (p.waiting()) out.push(p.info);
      }
    }
    const deferred = await this.#deps.kernel.security.approvals.deferred.list(
      this.#deps.kernel.principal,
    );
    for (const item of deferred) {
      if (session !== undefined && item.ctx.session !== session) continue;
      const info = actionInfo(item.action);
      out.push({
        request_id: item.id,
        kind: "deferred",
        session: item.ctx.session,
        action: info.type,
        resource: info.paths[0] ?? info.hosts[0] ?? info.summary,
        risk: item.risk,
        summary: item.summary,
        reason: item.reason,
        options: [...APPROVAL_OPTIONS],
        created_at: item.queued_at,
      });
    }
    for (const info of this.#deps.relay()?.remoteApprovals(session) ?? []) {
      if (!out.some((o) => o.request_id === info.request_id)) out.push(info);
    }
    return out.sort((a, b) => a.created_at - b.created_at);
  }

  /**
   * Answers a request: held here (checked, audited, applied), held by
   * another node (checked here, forwarded), or deferred (re-run by the gate).
   *
   * @param requestId The request.
   * @param body The answer.
   * @param caller Who answers, from where.
   * @throws {KernelError} `NOT_FOUND`, `INVALID_INPUT`.
   */
  async answer(
    requestId: string,
    body: ApprovalAnswerBody,
    caller: ApiCaller,
  ): Promise<void> {
    if (await this.answerLive(requestId, body, caller)) return;
    const remote = this.#deps.relay()?.remoteApprovals().find((r) =>
      r.request_id === requestId
    );
    if (remote !== undefined) {
      // Held by another node: checked here, then checked, audited and
      // applied there.
      this.#deps.relay()!.forward(
        requestId,
        checkAnswer(body, remote.options),
        caller,
      );
      return;
    }
    const item = requestId.startsWith("resolution:")
      ? await this.#deps.kernel.security.approvals.deferred.get(requestId, {
        principal: this.#deps.kernel.principal,
      })
      : null;
    if (item === null) {
      throw new KernelError(
        "NOT_FOUND",
        `No approval request '${
          String(requestId).slice(0, 80)
        }' is waiting (it may have been answered, dismissed or expired)`,
      );
    }
    const response = checkAnswer(body, APPROVAL_OPTIONS);
    const info = actionInfo(item.action);
    await this.#audit(
      {
        request_id: item.id,
        kind: "deferred",
        session: item.ctx.session,
        action: info.type,
      },
      response,
      caller,
    );
    const decision = await this.#deps.kernel.security.gate.resolveDeferred(
      this.#deps.kernel.principal,
      item.id,
      { response },
    );
    // The deferred call itself is over: its reservation is given back; an
    // allowance or token the answer created stays.
    if (decision.allowed) await decision.budget.refund();
  }

  /**
   * Answers a request a session of this node holds.
   *
   * @param requestId The request.
   * @param body The answer.
   * @param caller Who answers.
   * @returns `false` when no session here holds it.
   */
  async answerLive(
    requestId: string,
    body: ApprovalAnswerBody,
    caller: ApiCaller,
  ): Promise<boolean> {
    for (const live of this.#deps.lives()) {
      const pending = live.approvals.get(requestId);
      if (pending === undefined || !pending.waiting()) continue;
      const response = checkAnswer(body, pending.info.options);
      await this.#audit(pending.info, response, caller);
      pending.answer(response);
      return true;
    }
    return false;
  }

  /**
   * Takes every waiting request back unanswered so that the approval
   * manager defers (persists) it — it survives the stop and is answered
   * after it — and waits (bounded) until the deferrals are written.
   */
  async deferPending(): Promise<void> {
    const deferred = this.#deps.kernel.security.approvals.deferred;
    const principal = this.#deps.kernel.principal;
    let dismissed = 0;
    for (const live of this.#deps.lives()) {
      const waiting = [...live.approvals.values()].filter((p) => p.waiting());
      for (const p of waiting) p.dismiss();
      dismissed += waiting.length;
    }
    if (dismissed === 0) return;
    const before = (await deferred.list(principal)).length;
    const clock = this.#deps.kernel.ports.clock;
    const until = clock.now() + DEFER_WAIT_MS;
    while (clock.now() < until) {
      if ((await deferred.list(principal)).length >= before + dismissed) {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Holds an approval request (a commit's, a tool call's) until a client
   * answers it or the signal dismisses it.
   *
   * @param live The session.
   * @param request The request.
   * @param signal Dismisses it (the manager then defers it).
   * @returns The answer, or `null` when dismissed.
   */
  hold(
    live: Live,
    request: ApprovalRequest,
    signal: AbortSignal,
  ): Promise<ApprovalResponse | null> {
    const event = approvalEventOf(request);
    const calls = live.calls.of(request);
    return new Promise((resolve) => {
      const finish = (response: ApprovalResponse | null) => {
        if (!live.approvals.delete(request.id)) return;
        signal.removeEventListener("abort", dismissed);
        this.#deps.relay()?.settled(info, response?.decision ?? null);
        if (response) {
          const decided = {
            type: "approval_decision",
            request_id: request.id,
            decision: response.decision,
          } as const;
          this.#deps.broadcast(live, decided);
          for (const q of calls) q.push(decided);
        }
        resolve(response);
      };
      const dismissed = () => finish(null);
      const info = infoOf(live.id, event, request, request.created_at);
      live.approvals.set(request.id, {
        info,
        waiting: () => true,
        answer: finish,
        dismiss: dismissed,
      });
      this.#deps.relay()?.announce(info);
      signal.addEventListener("abort", dismissed, { once: true });
      this.#deps.broadcast(live, event);
      for (const q of calls) q.push(event);
    });
  }

  async #audit(
    info: Pick<ApprovalInfo, "request_id" | "kind" | "session" | "action">,
    response: ApprovalResponse,
    caller: ApiCaller,
  ): Promise<void> {
    await this.#deps.kernel.security.audit.append({
      principal: this.#deps.kernel.principal,
      session: info.session as SessionId,
      capsule: null,
      call_id: info.request_id,
      action: {
        type: "approval_answer",
        request_id: info.request_id,
        kind: info.kind,
        action: info.action,
        decision: response.decision,
        ...(response.reason ? { reason: response.reason } : {}),
      },
      decision: "info",
      proof: {
        type: "api",
        via: caller.via,
        ...(caller.address ? { address: caller.address } : {}),
        ...(caller.on_behalf_of
          ? { on_behalf_of: { ...caller.on_behalf_of } }
          : {}),
      },
      outcome: null,
    });
  }
}

/**
 * Follows the approval events of a session's running turn: a request is held
 * on the live session (answerable through the API, announced to the other
 * nodes) from its `approval_required` event until its `approval_decision`.
 *
 * @param live The session.
 * @param agent The session's agent, which asked.
 * @param e A turn event (others are ignored).
 * @param held The ids this turn holds (for {@linkcode releaseTurnApprovals}).
 * @param ctx The time now and the cluster relay, if any.
 */
export function trackTurnApproval(
  live: Live,
  agent: AgentSession,
  e: PromptStreamEvent,
  held: Set<string>,
  ctx: { readonly now: number; readonly relay: ClusterRelay | undefined },
): void {
  if (e.type === "approval_required") {
    const request = agent.pendingRequest(e.request_id);
    held.add(e.request_id);
    const info = infoOf(live.id, e, request, ctx.now);
    live.approvals.set(e.request_id, {
      info,
      waiting: () => agent.pendingRequest(e.request_id) !== undefined,
      answer: (r) => agent.answer(e.request_id, r.decision, r.reason),
      dismiss: () => agent.dismissApprovals(),
    });
    ctx.relay?.announce(info);
  } else if (e.type === "approval_decision") {
    const p = live.approvals.get(e.request_id);
    live.approvals.delete(e.request_id);
    if (p) ctx.relay?.settled(p.info, e.decision);
  }
}

/**
 * Drops the requests a turn still held when it ended (settled with no
 * decision on the other nodes).
 *
 * @param live The session.
 * @param held The ids {@linkcode trackTurnApproval} collected.
 * @param relay The cluster relay, if any.
 */
export function releaseTurnApprovals(
  live: Live,
  held: ReadonlySet<string>,
  relay: ClusterRelay | undefined,
): void {
  for (const id of held) {
    const p = live.approvals.get(id);
    if (live.approvals.delete(id) && p) relay?.settled(p.info, null);
  }
}

/** The API view of a request a session holds. */
export function infoOf(
  session: SessionId,
  event: {
    request_id: string;
    action: string;
    resource: string;
    risk: ApprovalInfo["risk"];
    options: readonly ApprovalAnswer[];
  },
  request: ApprovalRequest | undefined,
  now: number,
): ApprovalInfo {
  return {
    request_id: event.request_id,
    kind: "pending",
    session,
    action: event.action,
    resource: event.resource,
    risk: event.risk,
    summary: request?.summary ?? `${event.action} ${event.resource}`,
    options: [...event.options],
    created_at: request?.created_at ?? now,
  };
}

/** The response an answer body gives, if the request offered it. */
export function checkAnswer(
  body: ApprovalAnswerBody,
  offered: readonly ApprovalAnswer[],
): ApprovalResponse {
  const response = parseApprovalResponse(body, offered);
  if (response === null) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot answer '${String(body?.decision).slice(0, 40)}': offered are ${
        offered.join(", ")
      }`,
    );
  }
  return response;
}
