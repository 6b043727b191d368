// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * Events across nodes: how long a kernel event takes from one node's bus to
 * another's through NATS JetStream, and how many per second go through.
 * Starts a private nats-server (JetStream, file store in a temp dir) and two
 * bridges with their buses in this process (one event loop: the latency
 * includes both nodes' work, the signing and the verification).
 *
 * ```sh
 * deno run -A bench/cluster_events.ts          # N=500 latency, M=2000 throughput
 * ```
 *
 * @module
 */
import { Bus } from "../kernel/bus/bus.ts";
import type { PrincipalId } from "../kernel/core/ids.ts";
import { connectNats } from "../kernel/cluster/nats/connection.ts";
import { EventBridge } from "../kernel/cluster/nats/event_bridge.ts";
import { generateKeyPair } from "../kernel/crypto/key_pair.ts";
import { cryptoRandom, systemClock } from "../kernel/host/mod.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { startNats } from "../tests/nats_fixture_test.ts";

const N = Number(Deno.env.get("N") ?? 500);
const M = Number(Deno.env.get("M") ?? 2000);
const ctx = { principal: "default" as PrincipalId, session: null };

await using nats = await startNats();
const key = generateKeyPair(cryptoRandom());
async function node(id: string) {
  const logger = new MemoryLogger();
  const bus = new Bus({ clock: systemClock(), random: cryptoRandom(), logger });
  const nc = await connectNats({ url: nats.url });
  const bridge = await EventBridge.start({
    bus,
    nc,
    nodeId: id,
    key,
    logger,
    clock: systemClock(),
  });
  return { bus, nc, bridge };
}
const a = await node("bench-a");
const b = await node("bench-b");
let arrived: ((n: number) => void) | undefined;
let count = 0;
b.bus.subscribe("kernel", {
  pattern: "astrid.v1.lifecycle.*",
  queueSize: 4096,
  handler: (e) => {
    count++;
    arrived?.((e.payload as { i: number }).i);
  },
});

const lat: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const got = new Promise<number>((r) => (arrived = r));
  await a.bus.publish("kernel", {
    topic: "astrid.v1.lifecycle.bench",
    payload: { i },
    ...ctx,
  });
  await got;
  lat.push(performance.now() - t0);
}
arrived = undefined;
lat.sort((x, y) => x - y);
const q = (p: number) =>
  lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;

count = 0;
const t0 = performance.now();
const done = new Promise<void>((r) => {
  arrived = () => {
    if (count >= M) r();
  };
});
let refusals = 0;
for (let i = 0; i < M; i++) {
  const message = {
    topic: "astrid.v1.lifecycle.burst",
    payload: { i },
    ...ctx,
  };
  // The bridge's bounded queue says BUS_BACKPRESSURE when NATS is slower
  // than the publisher: wait and try again, as a kernel publisher would.
  while (
    await a.bus.publish("kernel", message).then(() => false, (e) => {
      if ((e as { code?: string }).code !== "BUS_BACKPRESSURE") throw e;
      return true;
    })
  ) {
    refusals++;
    await new Promise((r) => setTimeout(r, 5));
  }
}
await done;
const secs = (performance.now() - t0) / 1000;

console.log(
  `one event A -> B (N=${N}): median ${q(0.5).toFixed(2)} ms, p95 ${
    q(0.95).toFixed(2)
  } ms, max ${lat.at(-1)!.toFixed(2)} ms`,
);
console.log(
  `burst of ${M}: ${(M / secs).toFixed(0)} events/s end to end (${
    secs.toFixed(2)
  } s; ${refusals} publishes refused with BUS_BACKPRESSURE and retried)`,
);
for (const n of [a, b]) {
  await n.bridge.close();
  await n.nc.drain();
  n.bus.close();
}
