import assert from "node:assert/strict";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { clusterStatus, natsUnchecked } from "./cluster_status.ts";
import { NodeRegistry } from "./node_registry.ts";

const record = (node_id: string, stopped = false) => ({
  node_id,
  version: "0.0.0",
  mode: "serve",
  started_at: 0,
  lease_ms: 15_000,
  sessions: 0,
  stopped,
});

Deno.test("cluster status: nodes with their health by the reader's clock (alive, stale, stopped), store reachability, NATS 'not configured' for an empty url", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(10_000_000);
  const registry = new NodeRegistry(store, clock);
  await registry.beat(record("a"));
  await registry.beat(record("c", true));
  await clock.advance(20_000);
  await registry.beat(record("b"));
  const s = await clusterStatus({
    store,
    clock,
    node: "b",
    nats: natsUnchecked(""),
  });
  assert.equal(s.clustered, true);
  assert.equal(s.store.reachable, true);
  assert.equal(s.nats.configured, false);
  assert.match(s.nats.detail, /not configured/);
  assert.deepEqual(
    s.nodes.map((n) => [n.node_id, n.health, n.age_ms]),
    [["a", "stale", 20_000], ["b", "alive", 0], ["c", "stopped", 20_000]],
  );
  // A node silent for over a day is forgotten.
  await clock.advance(25 * 3_600_000);
  await registry.beat(record("b"));
  assert.deepEqual((await registry.list()).map((n) => n.node_id), ["b"]);
});

Deno.test("cluster status: an unreachable store is reported (with its code only), not thrown; a configured NATS url is reported as configured", async () => {
  const store = new KvStore(await openKv(":memory:"));
  await store.close();
  const s = await clusterStatus({
    store,
    clock: new FakeClock(0),
    node: null,
    nats: natsUnchecked("nats://127.0.0.1:4222"),
  });
  assert.equal(s.clustered, false);
  assert.equal(s.store_backend, "deno-kv");
  assert.equal(s.store.reachable, false);
  assert.match(s.store.detail, /STORE_UNAVAILABLE/);
  assert.equal(s.nats.configured, true);
  assert.deepEqual(s.nodes, []);
});
