/**
 * Private: hands denials to the bus's sink (the audit log) before the denied caller
 * gets its error, and keeps track of reports still running.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type {
  BusContext,
  BusDenial,
  BusSource,
  DenialSink,
} from "./envelope.ts";

/**
 * Builds a denial record (no interceptor, no message id).
 *
 * @param kind Which check denied.
 * @param subject Who, which topic, and why.
 * @param context The call's principal and session, if any.
 * @returns The record.
 *
 * @example A denied subscription without context
 * ```ts
 * import { denial } from "./_denial_reporter.ts";
 * const d = denial("subscribe_acl", { capsule: "kernel", topic: "a.*", reason: "no" }, null);
 * console.assert(d.principal === null);
 * ```
 */
export function denial(
  kind: BusDenial["kind"],
  subject: {
    readonly capsule: BusSource;
    readonly topic: string;
    readonly reason: string;
  },
  context: BusContext | null,
): BusDenial {
  return {
    kind,
    capsule: subject.capsule,
    topic: subject.topic,
    principal: context?.principal ?? null,
    session: context?.session ?? null,
    reason: subject.reason,
    interceptor: null,
    message_id: null,
  };
}

/**
 * Reports denials; a sink failure is logged and attached as the error's cause.
 *
 * @example Report, then throw
 * ```ts
 * import assert from "node:assert/strict";
 * import { denial, DenialReporter } from "./_denial_reporter.ts";
 * import { KernelError } from "../core/errors.ts";
 * import { MemoryLogger } from "../testing/memory_logger.ts";
 * const seen: string[] = [];
 * const r = new DenialReporter((d) => void seen.push(d.topic), { logger: new MemoryLogger(), onSettled() {} });
 * const d = denial("publish_acl", { capsule: "kernel", topic: "a.b", reason: "no" }, null);
 * await assert.rejects(r.reject(d, new KernelError("BUS_ACL_DENIED", "no")), { code: "BUS_ACL_DENIED" });
 * assert.deepEqual(seen, ["a.b"]);
 * ```
 */
export class DenialReporter {
  readonly #sink: DenialSink | undefined;
  readonly #logger: Logger;
  readonly #running = new Set<Promise<void>>();
  readonly #onSettled: () => void;

  /**
   * @param sink Where denials go; absent: nowhere.
   * @param options The logger for sink failures; `onSettled` after each background report.
   */
  constructor(
    sink: DenialSink | undefined,
    options: { readonly logger: Logger; readonly onSettled: () => void },
  ) {
    this.#sink = sink;
    this.#logger = options.logger;
    this.#onSettled = options.onSettled;
  }

  /** Background reports still running. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Awaits the sink, then throws `error` (with the sink's failure as cause).
   *
   * @param record The denial.
   * @param error What the caller gets.
   * @returns Never.
   * @throws {KernelError} Always: `error`, or a copy with the sink's failure as cause.
   */
  async reject(record: BusDenial, error: KernelError): Promise<never> {
    if (this.#sink !== undefined) {
      try {
        await this.#sink(record);
      } catch (cause) {
        this.#logFailure(record, cause);
        throw new KernelError(error.code, error.message, {
          ...(error.data ? { data: error.data } : {}),
          cause,
        });
      }
    }
    throw error;
  }

  /**
   * Reports without waiting (for synchronous denials such as subscribe).
   *
   * @param record The denial.
   */
  inBackground(record: BusDenial): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    const done: Promise<void> = (async () => {
      try {
        await sink(record);
      } catch (cause) {
        this.#logFailure(record, cause);
      }
    })().finally(() => {
      this.#running.delete(done);
      this.#onSettled();
    });
    this.#running.add(done);
  }

  #logFailure(record: BusDenial, cause: unknown): void {
    this.#logger.log("error", "Could not record a bus denial", {
      kind: record.kind,
      capsule: record.capsule,
      topic: record.topic,
      error: cause instanceof Error ? cause.message : String(cause),
    });
  }
}
