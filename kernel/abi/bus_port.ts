/**
 * The `BusPort` over the kernel bus: the ACL check the door decides with,
 * and publish/request on behalf of the calling capsule.
 *
 * @module
 */
import type { Bus } from "../bus/bus.ts";
import type { BusPort } from "./ports.ts";

/**
 * Adapts the bus to the ABI's port.
 *
 * @param bus The kernel bus.
 * @returns The port.
 */
export function busPortOf(bus: Bus): BusPort {
  return {
    checkPublish: (source, topic) => bus.checkPublish(source, topic),
    publish: async (source, topic, payload, ctx) => {
      await bus.publish(source, {
        topic,
        payload,
        principal: ctx.principal,
        session: ctx.session,
        ...(ctx.agent ? { agent: ctx.agent } : {}),
      });
    },
    request: (source, topic, payload, ctx) =>
      bus.request(source, {
        topic,
        payload,
        principal: ctx.principal,
        session: ctx.session,
        ...(ctx.agent ? { agent: ctx.agent } : {}),
      }, {
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      }),
  };
}
