/**
 * Requests waiting for a response: correlation ids, who may answer, and the
 * deadline on the Clock port.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";
import type { BusSource, JsonValue } from "./envelope.ts";

/** What {@linkcode PendingRequests.open} needs to know about a request. */
export interface OpenRequest {
  /** Who asked. */
  readonly requester: BusSource;
  /** The request topic (for error messages). */
  readonly topic: string;
  /** Who received it and so may answer. */
  readonly targets: ReadonlySet<BusSource>;
  /** How many deliveries were made (one per matching subscription). */
  readonly deliveries: number;
  /** Deadline in ms from now. */
  readonly timeoutMs: number;
  /** Cancels the request. */
  readonly signal?: AbortSignal | undefined;
}

interface Pending {
  readonly request: OpenRequest;
  readonly targets: Set<BusSource>;
  failures: number;
  lastError: unknown;
  readonly settle: (outcome: { value: JsonValue } | { error: unknown }) => void;
}

/**
 * The table of open requests. Only a recipient of a request may answer it;
 * the first answer wins; a request fails with `BUS_TIMEOUT` at its deadline,
 * with `ABORTED` when cancelled or when every recipient was unregistered,
 * and with the recipients' error when every delivery failed.
 *
 * @example Open and answer
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingRequests } from "./pending_requests.ts";
 * import { FakeClock } from "../testing/fake_clock.ts";
 * import type { CapsuleId } from "../core/ids.ts";
 * const table = new PendingRequests(new FakeClock(0));
 * const b = "b" as CapsuleId;
 * const answer = table.open("c-1", { requester: "kernel", topic: "x.y", targets: new Set([b]), deliveries: 1, timeoutMs: 100 });
 * assert.ok(table.answer(b, "c-1", 42));
 * assert.equal(await answer, 42);
 * ```
 */
export class PendingRequests {
  readonly #clock: Clock;
  readonly #open = new Map<string, Pending>();

  /**
   * @param clock Drives deadlines.
   */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many requests are waiting. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Opens a request. Call it before delivering, so a fast answer finds it.
   *
   * @param correlationId A fresh, unguessable id.
   * @param request Who asked, who may answer, and the deadline.
   * @returns The answer.
   * @throws {KernelError} `BUS_TIMEOUT`, `ABORTED`, or a recipient's error.
   */
  open(correlationId: string, request: OpenRequest): Promise<JsonValue> {
    if (this.#open.has(correlationId)) {
      return Promise.reject(
        new RangeError(`Correlation id '${correlationId}' is already in use`),
      );
    }
    const timer = new AbortController();
    return new Promise<JsonValue>((resolve, reject) => {
      const onAbort = (): void => {
        finish({ error: cancelled(request, "the caller cancelled it") });
      };
      const finish = (
        outcome: { value: JsonValue } | { error: unknown },
      ): void => {
        if (this.#open.get(correlationId) !== pending) return;
        this.#open.delete(correlationId);
        timer.abort();
        request.signal?.removeEventListener("abort", onAbort);
        if ("value" in outcome) resolve(outcome.value);
        else reject(outcome.error);
      };
      const pending: Pending = {
        request,
        targets: new Set(request.targets),
        failures: 0,
        lastError: undefined,
        settle: finish,
      };
      this.#open.set(correlationId, pending);
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener("abort", onAbort, { once: true });
      this.#clock.sleep(request.timeoutMs, { signal: timer.signal }).then(
        () =>
          finish({
            error: new KernelError(
              "BUS_TIMEOUT",
              `Request on '${request.topic}' got no response within ${request.timeoutMs} ms`,
              { data: { topic: request.topic, timeout_ms: request.timeoutMs } },
            ),
          }),
        (err: unknown) => {
          if (timer.signal.aborted) return; // silent-ok: the request settled first and cancelled its timer
          finish({ error: err });
        },
      );
    });
  }

  /**
   * Answers a request.
   *
   * @param responder Who answers; must be a recipient.
   * @param correlationId The request's id.
   * @param value The answer.
   * @returns `false` when there is no such open request addressed to
   * `responder` (unknown, answered, or not a recipient).
   */
  answer(
    responder: BusSource,
    correlationId: string,
    value: JsonValue,
  ): boolean {
    const pending = this.#open.get(correlationId);
    if (pending === undefined || !pending.targets.has(responder)) return false;
    pending.settle({ value });
    return true;
  }

  /**
   * Records that one delivery of a request failed; the request fails when
   * every delivery has.
   *
   * @param correlationId The request's id.
   * @param error What the handler threw.
   */
  deliveryFailed(correlationId: string, error: unknown): void {
    const pending = this.#open.get(correlationId);
    if (pending === undefined) return;
    pending.failures++;
    pending.lastError = error;
    if (pending.failures >= pending.request.deliveries) {
      pending.settle({ error: pending.lastError });
    }
  }

  /**
   * Cancels everything a capsule is involved in: its own requests, and
   * requests whose every recipient was that capsule.
   *
   * @param capsule The capsule being unregistered.
   */
  dropCapsule(capsule: BusSource): void {
    for (const pending of [...this.#open.values()]) {
      const { request } = pending;
      if (request.requester === capsule) {
        pending.settle({
          error: cancelled(
            request,
            `capsule '${capsule}' (the requester) was unregistered`,
          ),
        });
      } else if (
        pending.targets.delete(capsule) && pending.targets.size === 0
      ) {
        pending.settle({
          error: cancelled(request, `capsule '${capsule}' was unregistered`),
        });
      }
    }
  }

  /**
   * Fails every open request with `ABORTED`.
   *
   * @param reason Why, for the message.
   */
  cancelAll(reason: string): void {
    for (const pending of [...this.#open.values()]) {
      pending.settle({ error: cancelled(pending.request, reason) });
    }
  }
}

function cancelled(request: OpenRequest, why: string): KernelError {
  return new KernelError(
    "ABORTED",
    `Request on '${request.topic}' was cancelled as ${why}`,
    { data: { topic: request.topic } },
  );
}
