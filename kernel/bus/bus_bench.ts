/**
 * Bus throughput and request latency, on the real clock and randomness.
 * Throughput benches move 1,000 messages per op, so msgs/s = 1,000 × ops/s
 * (= 1e12 / (time per op in ns)). Target (issue 4): ≥ 100,000 msgs/s in
 * process, publishing from a capsule (ACL + rate limit checked) to one
 * subscribing capsule.
 *
 * - "awaited": the publisher awaits every publish (one drain per message);
 * - "burst": the publisher queues 1,000 messages and then waits for the
 *   subscriber to drain them (one drain loop for the whole burst);
 * - request/response: one capsule asks, another answers from an async
 *   handler; time per op is the round-trip latency.
 */
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import { cryptoRandom } from "../host/crypto_random.ts";
import { systemClock } from "../host/system_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { Bus } from "./bus.ts";
import type { BusMessage } from "./envelope.ts";

const N = 1_000;
const PRODUCER = "producer" as CapsuleId;
const CONSUMER = "consumer" as CapsuleId;
const CTX = {
  principal: "default" as PrincipalId,
  session: "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" as SessionId,
};

function makeBus(
  options: { subscribers?: number; interceptor?: boolean; queueSize?: number } =
    {},
): { bus: Bus; received: () => number } {
  const bus = new Bus({
    clock: systemClock(),
    random: cryptoRandom(),
    logger: new MemoryLogger(),
  });
  // A limit far above the bench rate, so the token bucket is exercised on every publish.
  const rateLimit = { perSecond: 1e9, burst: 1e9 };
  bus.registerCapsule(PRODUCER, {
    publish: ["llm.v1.stream.*", "tool.v1.request.*"],
    subscribe: [],
    rateLimit,
  });
  let n = 0;
  const subscribers = options.subscribers ?? 1;
  for (let i = 0; i < subscribers; i++) {
    const id = (i === 0 ? CONSUMER : `consumer-${i}`) as CapsuleId;
    bus.registerCapsule(id, {
      publish: [],
      subscribe: ["llm.v1.stream.*", "tool.v1.request.*"],
      queueSize: options.queueSize ?? 2 * N,
    });
    bus.subscribe(id, {
      pattern: "llm.v1.stream.openai",
      handler: () => void n++,
    });
  }
  if (options.interceptor) {
    bus.intercept(CONSUMER, {
      pattern: "llm.v1.stream.*",
      handler: () => ({ type: "continue" }),
    });
  }
  return { bus, received: () => n };
}

const payload = {
  type: "llm_stream_event",
  request_id: "r-1",
  event: { TextDelta: "hello" },
};
const message: BusMessage = { topic: "llm.v1.stream.openai", payload, ...CTX };

{
  const { bus } = makeBus();
  Deno.bench("publish 1,000 msgs → 1 subscriber, awaited", {
    group: "bus throughput",
  }, async () => {
    for (let i = 0; i < N; i++) await bus.publish(PRODUCER, message);
    await bus.whenIdle();
  });
}

{
  const { bus, received } = makeBus();
  Deno.bench("publish 1,000 msgs → 1 subscriber, burst", {
    group: "bus throughput",
  }, async () => {
    const before = received();
    for (let i = 0; i < N; i++) void bus.publish(PRODUCER, message);
    await bus.whenIdle();
    if (received() - before !== N) throw new Error("lost messages");
  });
}

{
  const { bus } = makeBus({ subscribers: 10, queueSize: 2 * N });
  Deno.bench("publish 1,000 msgs → 10 subscribers, burst", {
    group: "bus throughput",
  }, async () => {
    for (let i = 0; i < N; i++) void bus.publish(PRODUCER, message);
    await bus.whenIdle();
  });
}

{
  const { bus } = makeBus({ interceptor: true });
  Deno.bench("publish 1,000 msgs → 1 interceptor + 1 subscriber, awaited", {
    group: "bus throughput",
  }, async () => {
    for (let i = 0; i < N; i++) await bus.publish(PRODUCER, message);
    await bus.whenIdle();
  });
}

{
  const { bus } = makeBus();
  bus.subscribe(CONSUMER, {
    pattern: "tool.v1.request.execute",
    handler: async (e) => {
      await Promise.resolve();
      return {
        call_id: (e.payload as { call_id: string }).call_id,
        content: "ok",
      };
    },
  });
  const req: BusMessage = {
    topic: "tool.v1.request.execute",
    payload: { call_id: "c1", tool_name: "echo" },
    ...CTX,
  };
  Deno.bench("request/response capsule → capsule (1 round trip)", {
    group: "bus latency",
  }, async () => {
    await bus.request(PRODUCER, req, { timeoutMs: 5_000 });
  });
}
