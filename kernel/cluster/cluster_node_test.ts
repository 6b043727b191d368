import assert from "node:assert/strict";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { startClusterNode } from "./cluster_node.ts";
import { NodeRegistry } from "./node_registry.ts";

const LEASE = 3_000;

function options(store: KvStore, clock: FakeClock, node = "node-a") {
  return {
    store,
    clock,
    logger: new MemoryLogger(),
    node,
    principal: "default",
    leaseMs: LEASE,
    mode: "serve",
    version: "0.0.0",
  };
}

/**
 * Advances the fake clock in 100 ms steps until `p` settles. With `beating`,
 * after every step it waits (in real time) until that node's last heartbeat
 * is less than two beat periods old — a beat that is due is always written
 * without more fake time, so this never waits for the future — so a loaded
 * machine cannot let fake time run past a live node's heartbeats before they
 * are written (the node's sleep may start a step late after each beat, so
 * its beats come every 1,000–1,100 ms of fake time).
 */
async function until(
  p: Promise<unknown>,
  clock: FakeClock,
  beating?: { registry: NodeRegistry; node: string },
): Promise<void> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 100 && !done; i++) {
    await clock.advance(100);
    if (beating === undefined) continue;
    const since = clock.now() - 2 * (LEASE / 3);
    const giveUp = Date.now() + 30_000;
    while (
      ((await beating.registry.get(beating.node))?.heartbeat_at ?? 0) <= since
    ) {
      if (Date.now() > giveUp) {
        throw new Error(`no heartbeat after ${since}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

Deno.test("a node registers with a heartbeat, renews it every third of its lease, and is marked stopped on close", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(5_000_000);
  const node = await startClusterNode(options(store, clock));
  const registry = new NodeRegistry(store, clock);
  assert.equal((await registry.get("node-a"))?.heartbeat_at, 5_000_000);
  await clock.advance(LEASE / 3);
  assert.equal((await registry.get("node-a"))?.heartbeat_at, 5_001_000);
  await node.close();
  assert.deepEqual(
    (await registry.list()).map((n) => [n.node_id, n.health]),
    [["node-a", "stopped"]],
  );
});

Deno.test("a node id another live process uses is refused after waiting out one lease; a crashed node's own fresh record is waited out, then taken", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(5_000_000);
  const live = await startClusterNode(options(store, clock));
  // A second process with the same id: the first keeps beating.
  const second = startClusterNode(options(store, clock));
  await until(second, clock, {
    registry: new NodeRegistry(store, clock),
    node: "node-a",
  });
  await assert.rejects(
    second,
    (e: unknown) =>
      e instanceof Error && "code" in e && e.code === "CONFIG_INVALID" &&
      /node-a/.test(e.message),
  );
  // Node b crashed a moment ago: its record is fresh and not stopped.
  await store.set(["cluster:nodes", "node-b"], {
    node_id: "node-b",
    version: "0.0.0",
    mode: "serve",
    started_at: 0,
    heartbeat_at: clock.now(),
    lease_ms: LEASE,
    sessions: 0,
    stopped: false,
  });
  const restarted = startClusterNode(options(store, clock, "node-b"));
  await until(restarted, clock);
  const node = await restarted;
  assert.equal(node.id, "node-b");
  await node.close();
  await live.close();
});
