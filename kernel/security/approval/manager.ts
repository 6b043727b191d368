/**
 * {@linkcode ApprovalManager}: puts one approval request in front of the
 * registered handler, with a timeout, and queues the request as a deferred
 * resolution when no human answers.
 *
 * Security model: a missing, unavailable, failing, silent or slow handler
 * never means "allowed" — the request is persisted in the deferred queue and
 * the caller is told it was deferred. Only a well-formed answer naming one
 * of the offered options counts. The timeout runs on the Clock port, so it
 * is testable without waiting. Cancelling the caller's signal rejects with
 * `ABORTED` and dismisses the prompt, without queuing anything.
 *
 * @module
 */
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import { uuidV4 } from "../../core/ids.ts";
import type { Clock, Logger, Random } from "../../core/ports.ts";
import type { Store } from "../../store/store.ts";
import type { Action, RiskLevel } from "../action.ts";
import type { GateContext } from "../context.ts";
import { DeferredQueue } from "./deferred_queue.ts";
import {
  APPROVAL_OPTIONS,
  type ApprovalHandler,
  type ApprovalRequest,
  type ApprovalResponse,
  parseApprovalResponse,
} from "./handler.ts";

/** Ports and settings of an {@linkcode ApprovalManager}. */
export interface ApprovalManagerDeps {
  /** Where deferred resolutions are persisted. */
  readonly store: Store;
  /** Stamps requests and runs the timeout. */
  readonly clock: Clock;
  /** Makes request and resolution ids. */
  readonly random: Random;
  /** Records handler failures and deferrals. */
  readonly logger: Logger;
  /** How long to wait for an answer (config `security.approval_timeout_secs` × 1000). */
  readonly timeoutMs: number;
}

/** Options of {@linkcode ApprovalManager.ask}. */
export interface AskOptions {
  /** A one-line human summary of the action. */
  readonly summary: string;
  /** How dangerous it is. */
  readonly risk: RiskLevel;
  /** Cancels the request (rejects `ABORTED`, nothing is queued). */
  readonly signal?: AbortSignal;
}

/** What {@linkcode ApprovalManager.ask} returns. */
export type AskOutcome =
  | {
    /** A human answered. */
    readonly kind: "answered";
    /** The (validated) answer. */
    readonly response: ApprovalResponse;
    /** The id of the request that was shown. */
    readonly requestId: string;
  }
  | {
    /** Nobody answered: the request was queued. */
    readonly kind: "deferred";
    /** The id of the queued deferred resolution. */
    readonly resolutionId: string;
    /** Why it was deferred. */
    readonly reason: string;
  };

type Waited =
  | { readonly kind: "answer"; readonly value: unknown }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "timeout" }
  | { readonly kind: "aborted" };

/**
 * Asks humans for approvals through one registered handler.
 *
 * @example No handler: the request is deferred
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApprovalManager } from "./manager.ts";
 * import { KvStore } from "../../store/kv_store.ts";
 * import { openKv } from "../../host/open_kv.ts";
 * import { FakeClock, MemoryLogger, SeededRandom } from "../../testing/mod.ts";
 * import type { GateContext } from "../context.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const manager = new ApprovalManager({
 *   store, clock: new FakeClock(0), random: new SeededRandom(1),
 *   logger: new MemoryLogger(), timeoutMs: 300_000,
 * });
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const out = await manager.ask({ type: "file_delete", path: "/ws/a" }, ctx, {
 *   summary: "Delete /ws/a", risk: "high",
 * });
 * assert.equal(out.kind, "deferred");
 * assert.equal(out.kind === "deferred" && out.reason, "no approval handler registered");
 * ```
 */
export class ApprovalManager {
  #clock: Clock;
  #random: Random;
  #logger: Logger;
  #timeoutMs: number;
  #handler: ApprovalHandler | null = null;
  #deferred: DeferredQueue;

  /**
   * Creates a manager with no handler.
   *
   * @param deps The store, clock, randomness, logger and timeout.
   * @throws {RangeError} When `timeoutMs` is not a positive safe integer.
   */
  constructor(deps: ApprovalManagerDeps) {
    if (!Number.isSafeInteger(deps.timeoutMs) || deps.timeoutMs <= 0) {
      throw new RangeError(
        `Cannot use an approval timeout of ${deps.timeoutMs} ms: expected a positive integer`,
      );
    }
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#logger = deps.logger;
    this.#timeoutMs = deps.timeoutMs;
    this.#deferred = new DeferredQueue(deps);
  }

  /** The queue deferred requests go to. */
  get deferred(): DeferredQueue {
    return this.#deferred;
  }

  /** The registered handler, or `null`. */
  get handler(): ApprovalHandler | null {
    return this.#handler;
  }

  /**
   * Registers the handler (replacing any other), or removes it with `null`.
   *
   * @param handler The frontend's handler.
   */
  setHandler(handler: ApprovalHandler | null): void {
    this.#handler = handler;
  }

  /**
   * Asks a human to approve an action. Offers all five options.
   *
   * @param action The action.
   * @param ctx Who asks.
   * @param options Summary, risk and cancellation.
   * @returns `answered` with the validated answer, or `deferred` with the id
   * of the queued resolution and the reason: "no approval handler
   * registered", "approval handler unavailable", "approval request timed
   * out", "user did not respond", "approval handler returned an invalid
   * response" or "approval handler failed".
   * @throws {KernelError} `ABORTED` when the signal fires (nothing queued);
   * store errors when queuing fails.
   */
  async ask(
    action: Action,
    ctx: GateContext,
    options: AskOptions,
  ): Promise<AskOutcome> {
    const { signal, summary, risk } = options;
    throwIfAborted(signal, "an approval request");
    const handler = this.#handler;
    if (handler === null) {
      return await this.#defer(
        action,
        ctx,
        options,
        "no approval handler registered",
      );
    }
    if (!handler.isAvailable()) {
      return await this.#defer(
        action,
        ctx,
        options,
        "approval handler unavailable",
      );
    }
    const request: ApprovalRequest = {
      id: `approval:${uuidV4(this.#random)}`,
      action,
      summary,
      risk,
      ctx,
      options: APPROVAL_OPTIONS,
      "created_at": this.#clock.now(),
    };
    const waited = await this.#wait(handler, request, signal);
    switch (waited.kind) {
      case "aborted":
        throw new KernelError("ABORTED", "Cancelled an approval request", {
          cause: signal?.reason,
        });
      case "timeout":
        return await this.#defer(
          action,
          ctx,
          options,
          "approval request timed out",
        );
      case "failed":
        this.#logger.log("warn", "Approval handler failed", {
          requestId: request.id,
          error: waited.error instanceof Error
            ? waited.error.message
            : String(waited.error),
        });
        return await this.#defer(
          action,
          ctx,
          options,
          "approval handler failed",
        );
    }
    if (waited.value === null || waited.value === undefined) {
      return await this.#defer(action, ctx, options, "user did not respond");
    }
    const response = parseApprovalResponse(waited.value, request.options);
    if (response === null) {
      return await this.#defer(
        action,
        ctx,
        options,
        "approval handler returned an invalid response",
      );
    }
    return { kind: "answered", response, requestId: request.id };
  }

  async #wait(
    handler: ApprovalHandler,
    request: ApprovalRequest,
    signal: AbortSignal | undefined,
  ): Promise<Waited> {
    const dismiss = new AbortController();
    const timer = new AbortController();
    let onAbort = (): void => {};
    const aborted = new Promise<Waited>((resolve) => {
      onAbort = () => resolve({ kind: "aborted" });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    const answered = Promise.resolve()
      .then(() => handler.request(request, { signal: dismiss.signal }))
      .then(
        (value): Waited => ({ kind: "answer", value }),
        (error: unknown): Waited => ({ kind: "failed", error }),
      );
    const timedOut = this.#clock.sleep(this.#timeoutMs, {
      signal: timer.signal,
    })
      .then(
        (): Waited => ({ kind: "timeout" }),
        // silent-ok: the timer is cancelled once another outcome won.
        (): Promise<Waited> => new Promise<Waited>(() => {}),
      );
    try {
      const waited = await Promise.race([answered, timedOut, aborted]);
      if (waited.kind !== "answer") {
        dismiss.abort(
          new KernelError(
            "ABORTED",
            waited.kind === "timeout"
              ? "The approval request timed out"
              : "The approval request was cancelled",
          ),
        );
      }
      return waited;
    } finally {
      timer.abort();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async #defer(
    action: Action,
    ctx: GateContext,
    options: AskOptions,
    reason: string,
  ): Promise<AskOutcome> {
    const item = await this.#deferred.add(
      { action, ctx, summary: options.summary, risk: options.risk, reason },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    this.#logger.log("info", "Approval deferred", {
      resolutionId: item.id,
      reason,
      callId: ctx.callId,
    });
    return { kind: "deferred", resolutionId: item.id, reason };
  }
}
