/**
 * Glue between manifest `[[interceptor]]` entries and the bus.
 *
 * @module
 */
import type { JsonValue } from "../../store/store.ts";
import type { BusEnvelope, InterceptResult } from "../../bus/envelope.ts";
import type { Capsule } from "../engine.ts";
import { KERNEL_TOPICS } from "../../../sdk/topics.ts";

/** Published once boot has loaded (or refused) every capsule. */
export const CAPSULES_LOADED_TOPIC: string = KERNEL_TOPICS.capsulesLoaded;

/**
 * An interceptor that calls the capsule's `action` with the message. The guest
 * returns `{type: "continue" | "final" | "deny", …}`; `null` means continue
 * unchanged; any other value replaces the payload and continues.
 *
 * @param capsule Looks up the live instance (restarts replace it).
 * @param action The guest handler.
 * @returns The bus interceptor.
 */
export function interceptorFor(
  capsule: () => Capsule | undefined,
  action: string,
) {
  return async (
    env: BusEnvelope,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<InterceptResult> => {
    const c = capsule();
    if (!c) return { type: "continue" };
    // The publisher's cancellation (a request's deadline or abort) ends the
    // action call, and with it what the call holds (its HTTP streams).
    const out = await c.invoke(
      action,
      {
        topic: env.topic,
        // Who published: an MCP tool called over the bus is audited with it.
        source: env.source,
        payload: env.payload,
        principal: env.principal,
        session: env.session,
      } as unknown as JsonValue,
      options.signal ? { signal: options.signal } : {},
    );
    if (out === null) return { type: "continue" };
    const o = out as { type?: unknown; payload?: JsonValue; reason?: unknown };
    if (o && typeof o === "object" && !Array.isArray(o)) {
      if (o.type === "final") {
        return { type: "final", payload: o.payload ?? null };
      }
      if (o.type === "deny") {
        return {
          type: "deny",
          reason: typeof o.reason === "string"
            ? o.reason
            : "denied by interceptor",
        };
      }
      if (o.type === "continue") {
        return o.payload === undefined
          ? { type: "continue" }
          : { type: "continue", payload: o.payload };
      }
    }
    return { type: "continue", payload: out };
  };
}
