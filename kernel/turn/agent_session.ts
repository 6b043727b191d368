/**
 * The turn API: the one contract every frontend uses (CLI `--json`, the chat
 * TUI, the daemon's SSE stream, the web console). Start a turn in a session
 * and read its events — `text_delta`, `tool_call`, `tool_result`,
 * `approval_required`, `approval_decision`, `budget`, then exactly one
 * `final` or `error` (`sdk/turn.ts`); answer approvals, cancel the turn,
 * read and clear the session's history.
 *
 * How the events arise: the turn is a bus request on `user.v1.prompt` to the
 * orchestrator capsule; text deltas are the providers' stream messages of
 * this session (`llm.v1.stream.*`); tool calls and results are the
 * orchestrator's `agent.v1.turn_event` messages of this turn; approvals come
 * from the gate through the kernel's approval manager, routed to this
 * session; budget events are the ledger's snapshot after each tool result.
 * Cancelling aborts the bus request: the abort reaches the orchestrator's
 * call and, through its pending host calls, the provider's stream and the
 * tool calls in flight. Waiting (on the model, a tool, a human) never counts
 * against a capsule's deadline: engine deadlines bound a capsule's own
 * running time.
 *
 * @module
 */
import { linkSignals } from "../core/linked_signal.ts";
import { KernelError, toWireError } from "../core/errors.ts";
import type { AgentLineage } from "../core/agent_lineage.ts";
import type { JsonValue } from "../store/store.ts";
import type { BusEnvelope } from "../bus/envelope.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import type { Runtime } from "../daemon/runtime.ts";
import type { ApprovalRequest } from "../security/approval/handler.ts";
import { AGENT_TOPICS, type TurnRequest } from "../../sdk/agent.ts";
import type {
  SessionMessages,
  TurnEventMessage,
  TurnResult,
} from "../../sdk/agent.ts";
import type { LlmStreamMessage, Message } from "../../sdk/llm.ts";
import type {
  ApprovalAnswer,
  ApprovalRequiredEvent,
  ErrorEvent,
  FinalEvent,
  TurnEvent,
} from "../../sdk/turn.ts";
import { approvalRouterOf } from "./approval_router.ts";
import { approvalEventOf } from "./approval_event.ts";
import { EventQueue } from "./event_queue.ts";

/** The longest a turn may take, waits included (default 30 min). */
export const DEFAULT_TURN_TIMEOUT_MS = 30 * 60_000;
function limitMs(options: AgentSessionOptions): number {
  return options.turnTimeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
}

/** How long a history read or clear may take. */
const HISTORY_TIMEOUT_MS = 30_000;

/** Options of an {@linkcode AgentSession}. */
export interface AgentSessionOptions {
  /** The provider for every turn (`llm.v1.request.generate.<provider>`); absent = the orchestrator's default. */
  readonly provider?: string;
  /** The model id; absent = the provider's default. */
  readonly model?: string;
  /** Max model calls per turn; absent = the orchestrator's default. */
  readonly maxIterations?: number;
  /** The longest a turn may take, waits included. */
  readonly turnTimeoutMs?: number;
}

/** A running turn: iterate it for its events. */
export interface Turn extends AsyncIterable<TurnEvent> {
  /** The turn's id. */
  readonly id: string;
  /** Settles with the turn's last event (`final` or `error`). */
  readonly done: Promise<FinalEvent | ErrorEvent>;
  /** Cancels the turn: the model stream and tool calls in flight are aborted. */
  cancel(): void;
}

interface PendingApproval {
  readonly event: ApprovalRequiredEvent;
  readonly request: ApprovalRequest;
  readonly answer: (decision: ApprovalAnswer, reason?: string) => void;
  readonly dismiss: () => void;
}

/**
 * One session of an agent: turns, approvals, history.
 *
 * @example Run a turn and print its text
 * ```ts ignore
 * const agent = new AgentSession(kernel, runtime, { provider: "replay" });
 * for await (const event of agent.turn("Summarise a.txt")) {
 *   if (event.type === "text_delta") console.log(event.text);
 * }
 * ```
 */
export class AgentSession {
  readonly #kernel: KernelHandle;
  readonly #runtime: Runtime;
  readonly #options: AgentSessionOptions;
  readonly #pending = new Map<string, PendingApproval>();
  #active: string | undefined;
  #abort: ((reason: Error) => void) | undefined;
  #turns = 0;

  /**
   * Wraps a booted runtime (its capsules include an orchestrator on
   * `user.v1.prompt`).
   *
   * @param kernel The kernel.
   * @param runtime The session's runtime, booted.
   * @param options Provider, model, limits.
   */
  constructor(
    kernel: KernelHandle,
    runtime: Runtime,
    options: AgentSessionOptions = {},
  ) {
    this.#kernel = kernel;
    this.#runtime = runtime;
    this.#options = options;
  }

  /** The session id. */
  get session(): string {
    return this.#runtime.session;
  }

  /** Approval requests of this session waiting for an answer. */
  pendingApprovals(): ApprovalRequiredEvent[] {
    return [...this.#pending.values()].map((p) => p.event);
  }

  /**
   * The kernel's request behind a pending `approval_required` event (its
   * summary, context and time).
   *
   * @param requestId The `request_id`.
   * @returns The request, or `undefined` when it no longer waits.
   */
  pendingRequest(requestId: string): ApprovalRequest | undefined {
    return this.#pending.get(requestId)?.request;
  }

  /**
   * Takes every waiting approval request back unanswered, as when nobody
   * answers in time: the kernel's approval manager then defers each one
   * (persisted; `astrid approvals list` shows it and answering it re-runs
   * the gate) and the turn continues with the deferral. A daemon that stops
   * calls this so that no pending request is lost.
   *
   * @returns How many requests were dismissed.
   */
  dismissApprovals(): number {
    const all = [...this.#pending.values()];
    for (const p of all) p.dismiss();
    return all.length;
  }

  /**
   * Answers an approval request of this session.
   *
   * @param requestId The `request_id` of the `approval_required` event.
   * @param decision The answer (one of the options offered).
   * @param reason Why (kept in the audit log).
   * @throws {KernelError} `NOT_FOUND` when no such request waits;
   *   `INVALID_INPUT` when the decision was not offered.
   */
  answer(requestId: string, decision: ApprovalAnswer, reason?: string): void {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) {
      throw new KernelError(
        "NOT_FOUND",
        `No approval request '${
          String(requestId).slice(0, 80)
        }' is waiting in this session`,
      );
    }
    if (!pending.event.options.includes(decision)) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot answer '${String(decision).slice(0, 40)}': offered are ${
          pending.event.options.join(", ")
        }`,
      );
    }
    pending.answer(decision, reason);
  }

  /**
   * Starts a turn.
   *
   * @param text What the user said.
   * @param options A signal that cancels the turn.
   * @returns The turn; iterate it for its events.
   * @throws {KernelError} `TURN_BUSY` when a turn of this session runs;
   *   `INVALID_INPUT` when the text is empty.
   */
  turn(text: string, options: { signal?: AbortSignal } = {}): Turn {
    if (typeof text !== "string" || text.trim() === "") {
      throw new KernelError("INVALID_INPUT", "Cannot start a turn: no text");
    }
    if (this.#active !== undefined) {
      throw new KernelError(
        "TURN_BUSY",
        `Cannot start a turn: turn '${this.#active}' of this session is still running (cancel it or wait)`,
      );
    }
    const id = `turn-${++this.#turns}-${crypto.randomUUID().slice(0, 8)}`;
    this.#active = id;
    const controller = new AbortController();
    const deadline = limitMs(this.#options);
    // The turn's whole deadline, waits included: the bus request's own
    // timeout does not cover the interceptor chain, so it is a signal.
    const timer = setTimeout(
      () =>
        controller.abort(
          new KernelError(
            "BUS_TIMEOUT",
            `The turn took longer than ${deadline} ms and was stopped`,
          ),
        ),
      deadline,
    );
    const linked = linkSignals([options.signal, controller.signal]);
    this.#abort = (reason) => controller.abort(reason);
    const queue = new EventQueue<TurnEvent>();
    const done = this.#run(id, text, queue, linked.signal).finally(() => {
      clearTimeout(timer);
      linked.unlink();
      this.#active = undefined;
      this.#abort = undefined;
      queue.end();
    });
    return {
      id,
      done,
      cancel: () =>
        controller.abort(new KernelError("ABORTED", "The turn was cancelled")),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /**
   * The session's history, oldest first.
   *
   * @returns The messages.
   */
  async history(): Promise<Message[]> {
    const out = await this.#request(AGENT_TOPICS.sessionGet, {
      session_id: this.session,
    }) as unknown as SessionMessages;
    return [...(out?.messages ?? [])];
  }

  /** Clears the session's history. */
  async clearHistory(): Promise<void> {
    await this.#request(AGENT_TOPICS.sessionClear, {
      session_id: this.session,
    });
  }

  #request(
    topic: string,
    payload: JsonValue,
    options: {
      timeoutMs?: number;
      signal?: AbortSignal;
      agent?: AgentLineage;
    } = {},
  ): Promise<JsonValue> {
    return this.#runtime.bus.request("kernel", {
      topic,
      payload,
      principal: this.#kernel.principal,
      session: this.#runtime.session,
      ...(options.agent ? { agent: options.agent } : {}),
    }, {
      timeoutMs: options.timeoutMs ?? HISTORY_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async #run(
    id: string,
    text: string,
    queue: EventQueue<TurnEvent>,
    signal: AbortSignal,
  ): Promise<FinalEvent | ErrorEvent> {
    const bus = this.#runtime.bus;
    const session = this.session;
    const stops: (() => void)[] = [];
    try {
      stops.push(bus.subscribe("kernel", {
        pattern: AGENT_TOPICS.llmStreams,
        handler: (env: BusEnvelope) => {
          const m = env.payload as unknown as LlmStreamMessage | null;
          if (
            m?.session_id === session && m.event?.type === "text_delta" &&
            typeof m.event.text === "string"
          ) queue.push({ type: "text_delta", text: m.event.text });
        },
      }));
      stops.push(bus.subscribe("kernel", {
        pattern: AGENT_TOPICS.turnEvent,
        handler: (env: BusEnvelope) => {
          const m = env.payload as unknown as TurnEventMessage | null;
          if (m?.turn_id !== id || m.session_id !== session) return;
          const e = m.event;
          if (e?.type === "tool_call" && typeof e.name === "string") {
            queue.push({
              type: "tool_call",
              id: String(e.id),
              name: e.name,
              arguments: e.arguments ?? {},
            });
          } else if (e?.type === "tool_result") {
            queue.push({
              type: "tool_result",
              id: String(e.id),
              is_error: e.is_error === true,
              content: String(e.content ?? ""),
            });
            void this.#budget(queue);
          }
        },
      }));
      stops.push(this.#listenApprovals(queue, signal));
      // The kernel charges the model use of this turn to the session's
      // budget and stops the turn when it runs out.
      stops.push(this.#runtime.meter.track(session, {
        agent: id,
        limitMicros: null,
        onExceeded: (error) => this.#abort?.(error),
      }));
      const request: TurnRequest = {
        turn_id: id,
        session_id: session,
        text,
        ...(this.#options.provider ? { provider: this.#options.provider } : {}),
        ...(this.#options.model ? { model: this.#options.model } : {}),
        ...(this.#options.maxIterations
          ? { max_iterations: this.#options.maxIterations }
          : {}),
      };
      const result = await this.#request(
        AGENT_TOPICS.prompt,
        request as unknown as JsonValue,
        {
          timeoutMs: limitMs(this.#options),
          signal,
          agent: { id, depth: 0, tools: null },
        },
      ) as unknown as TurnResult | null;
      // A cancel that raced the answer still cancels: the user said stop.
      signal.throwIfAborted();
      await settle(bus);
      await this.#budget(queue);
      const final: FinalEvent = {
        type: "final",
        text: typeof result?.text === "string" ? result.text : "",
        usage: {
          input_tokens: Number(result?.usage?.input_tokens ?? 0),
          output_tokens: Number(result?.usage?.output_tokens ?? 0),
        },
      };
      queue.push(final);
      return final;
    } catch (err) {
      const reason = signal.reason as unknown;
      const error: ErrorEvent = signal.aborted
        ? {
          type: "error",
          code: reason instanceof KernelError ? reason.code : "ABORTED",
          message: toWireError(reason ?? err).message,
        }
        : { type: "error", ...turnError(err) };
      queue.push(error);
      return error;
    } finally {
      for (const stop of stops) stop();
    }
  }

  #listenApprovals(
    queue: EventQueue<TurnEvent>,
    turnSignal: AbortSignal,
  ): () => void {
    const router = approvalRouterOf(this.#kernel.security.approvals);
    return router.listen(this.#runtime.session, (request, { signal }) => {
      const event = approvalEventOf(request);
      return new Promise((resolve) => {
        const finish = (
          answer: { decision: ApprovalAnswer; reason?: string } | null,
        ) => {
          if (!this.#pending.delete(request.id)) return;
          signal.removeEventListener("abort", dismissed);
          turnSignal.removeEventListener("abort", dismissed);
          if (answer) {
            queue.push({
              type: "approval_decision",
              request_id: request.id,
              decision: answer.decision,
            });
          }
          resolve(answer);
        };
        const dismissed = () => finish(null);
        this.#pending.set(request.id, {
          event,
          request,
          dismiss: dismissed,
          answer: (decision, reason) =>
            finish(reason === undefined ? { decision } : { decision, reason }),
        });
        signal.addEventListener("abort", dismissed, { once: true });
        turnSignal.addEventListener("abort", dismissed, { once: true });
        queue.push(event);
      });
    });
  }

  async #budget(queue: EventQueue<TurnEvent>): Promise<void> {
    try {
      const snap = await this.#kernel.security.budget.snapshot({
        principal: this.#kernel.principal,
        session: this.#runtime.session,
        workspace: this.#runtime.workspace,
        callId: "turn-budget",
      });
      queue.push({
        type: "budget",
        spent_usd: snap.sessionSpentMicros / 1_000_000,
        limit_usd: snap.limits.sessionMaxMicros / 1_000_000,
      });
    } catch {
      // silent-ok: a budget event is informative; the gate still enforces.
    }
  }
}

/**
 * The code and message of a failed turn: the innermost kernel error of the
 * cause chain (an interceptor's failure wraps the orchestrator's), with the
 * code the orchestrator put on its exception when it gave one; a bare
 * capsule failure is `TURN_FAILED`. Host paths are redacted.
 */
function turnError(err: unknown): { code: string; message: string } {
  let inner: KernelError | undefined;
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e instanceof KernelError) inner = e;
    e = (e as { cause?: unknown }).cause;
  }
  if (inner === undefined) return toWireError(err);
  const guest = inner.data?.["guest_code"];
  const code = typeof guest === "string"
    ? guest
    : inner.code === "CAPSULE_FAILED"
    ? "TURN_FAILED"
    : inner.code;
  return { code, message: toWireError(inner).message };
}

/** Lets the kernel's subscriptions see what was published before the answer. */
async function settle(bus: Runtime["bus"]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    bus.whenIdle(),
    new Promise<void>((r) => (timer = setTimeout(r, 1_000))),
  ]);
  clearTimeout(timer);
}
