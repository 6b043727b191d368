/**
 * Private: runs an interceptor chain (reference §4.4, with the DESIGN §3 changes:
 * `Final` returns its payload to the publisher, `Deny` is reported).
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { InterceptorEntry } from "./_routes.ts";
import type {
  BusEnvelope,
  BusSource,
  InterceptResult,
  JsonValue,
} from "./envelope.ts";

/** How a chain ended. */
export type ChainOutcome =
  | { readonly type: "deliver"; readonly payload: JsonValue }
  | { readonly type: "final"; readonly payload: JsonValue }
  | {
    readonly type: "deny";
    readonly reason: string;
    readonly interceptor: BusSource;
    readonly envelope: BusEnvelope;
  };

/**
 * Calls each interceptor in order with the current payload and the
 * publisher's signal. When the signal fires while an interceptor runs, the
 * chain ends at once with `ABORTED` (the interceptor got the signal to stop
 * its own work, e.g. a capsule call).
 *
 * @param chain Interceptors, already sorted.
 * @param options The first payload, how to build an envelope for a payload,
 * and cancellation.
 * @returns `deliver` with the (possibly rewritten) payload, `final`, or `deny`.
 * @throws {KernelError} `CAPSULE_FAILED` when an interceptor throws or
 * returns something that is not a decision (fail closed: the message is not
 * delivered); `ABORTED` when the signal fires before or during the chain.
 *
 * @example A rewrite, then a final answer
 * ```ts
 * import assert from "node:assert/strict";
 * import { runChain } from "./_chain.ts";
 * import { compileTopicPattern } from "./topic.ts";
 * import type { BusEnvelope, JsonValue } from "./envelope.ts";
 * const pattern = compileTopicPattern("a.b");
 * const chain = [
 *   { owner: "kernel" as const, pattern, priority: 1, order: 1, active: true,
 *     handler: () => ({ type: "continue" as const, payload: 2 }) },
 *   { owner: "kernel" as const, pattern, priority: 2, order: 2, active: true,
 *     handler: (e: BusEnvelope) => ({ type: "final" as const, payload: (e.payload as number) * 10 }) },
 * ];
 * const out = await runChain(chain, {
 *   payload: 1,
 *   envelope: (payload: JsonValue) => ({ topic: "a.b", payload } as BusEnvelope),
 *   signal: undefined,
 * });
 * assert.deepEqual(out, { type: "final", payload: 20 });
 * ```
 */
export async function runChain(
  chain: readonly InterceptorEntry[],
  options: {
    readonly payload: JsonValue;
    readonly envelope: (payload: JsonValue) => BusEnvelope;
    readonly signal: AbortSignal | undefined;
  },
): Promise<ChainOutcome> {
  let payload = options.payload;
  for (const entry of chain) {
    if (!entry.active) continue;
    const envelope = options.envelope(payload);
    throwIfAborted(options.signal, `a publish to '${envelope.topic}'`);
    let result: unknown;
    try {
      result = await callInterceptor(entry, envelope, options.signal);
    } catch (cause) {
      if (options.signal?.aborted) throw aborted(entry, envelope, cause);
      throw failed(entry, envelope.topic, "threw", cause);
    }
    if (!isInterceptResult(result)) {
      throw failed(
        entry,
        envelope.topic,
        "returned something that is not continue, final or deny",
        undefined,
      );
    }
    switch (result.type) {
      case "continue":
        if (result.payload !== undefined) payload = result.payload;
        break;
      case "final":
        return { type: "final", payload: result.payload };
      case "deny":
        return {
          type: "deny",
          reason: result.reason,
          interceptor: entry.owner,
          envelope,
        };
    }
  }
  return { type: "deliver", payload };
}

/**
 * Runs one interceptor (synchronously up to its first await, as before
 * signals were passed); with a signal, settles early (rejects) when it fires.
 */
function callInterceptor(
  entry: InterceptorEntry,
  envelope: BusEnvelope,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let out: unknown;
  try {
    out = entry.handler(envelope, signal === undefined ? {} : { signal });
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal === undefined) return Promise.resolve(out);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(out).then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

function aborted(
  entry: InterceptorEntry,
  envelope: BusEnvelope,
  cause: unknown,
): KernelError {
  return new KernelError(
    "ABORTED",
    `Cancelled a publish to '${envelope.topic}' in the interceptor of '${entry.owner}'`,
    {
      data: { topic: envelope.topic, interceptor: entry.owner },
      cause,
    },
  );
}

function isInterceptResult(value: unknown): value is InterceptResult {
  if (value === null || typeof value !== "object") return false;
  const r = value as Record<string, unknown>;
  switch (r.type) {
    case "continue":
      return true;
    case "final":
      return r.payload !== undefined;
    case "deny":
      return typeof r.reason === "string";
    default:
      return false;
  }
}

function failed(
  entry: InterceptorEntry,
  topic: string,
  what: string,
  cause: unknown,
): KernelError {
  // A kernel error (e.g. the engine's report of a guest exception, already
  // sanitized: name and message, no stack) is passed on with its code, so
  // a requester across the bus learns why (a provider's PROVIDER_FAILED).
  const why = KernelError.is(cause)
    ? { code: cause.code, message: cause.message.slice(0, 1000) }
    : undefined;
  return new KernelError(
    "CAPSULE_FAILED",
    `Interceptor of '${entry.owner}' on '${topic}' ${what}, so the message was not delivered${
      why ? ` (${why.code}: ${why.message})` : ""
    }`,
    {
      data: { topic, interceptor: entry.owner, ...(why ? { cause: why } : {}) },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
