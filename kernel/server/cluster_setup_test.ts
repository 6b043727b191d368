import assert from "node:assert/strict";
import { MemoryEnv } from "../testing/memory_env.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { startKernel } from "../daemon/boot.ts";
import { createSessionHub } from "../turn/session_hub.ts";
import { createApi } from "../api/api.ts";
import { ApiClient } from "../api/client.ts";
import { engineStatuses } from "./engines.ts";
import { setupCluster } from "./cluster_setup.ts";
import type { ClusterStatus } from "../cluster/cluster_status.ts";
import { NODES_NAMESPACE } from "../cluster/node_registry.ts";

Deno.test("single node (no store.url): no node id is generated, nothing is registered, GET /v1/cluster says not clustered with the store reachable and NATS not configured", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = new MemoryEnv({ ASTRID_HOME: dir, HOME: dir });
    await using kernel = await startKernel({
      env,
      ignoreSystemConfig: true,
      logger: new MemoryLogger(),
    });
    const cluster = await setupCluster(kernel, { mode: "socket", env });
    assert.equal(cluster.node, undefined);
    const hub = await createSessionHub(kernel, { roots: [], env });
    const router = createApi({
      kernel,
      hub,
      mode: "socket",
      startedAt: 0,
      idleTimeoutMs: null,
      engines: engineStatuses(false),
      shutdown: () => {},
      cluster: cluster.status,
    });
    using client = new ApiClient({
      handler: router.handler({ token: () => "t" }),
    }, "t");
    const s = await client.call<ClusterStatus>("clusterStatus");
    assert.equal(s.clustered, false);
    assert.equal(s.node_id, null);
    assert.equal(s.store_backend, "deno-kv");
    assert.equal(s.store.reachable, true);
    assert.equal(s.nats.configured, false);
    assert.deepEqual(s.nodes, []);
    // The route is behind the API's bearer token like every other.
    using stranger = new ApiClient({
      handler: router.handler({ token: () => "t" }),
    }, "not-the-token");
    await assert.rejects(stranger.call("clusterStatus"), {
      code: "API_UNAUTHORIZED",
    });
    await assert.rejects(Deno.stat(`${dir}/var/node_id`), Deno.errors.NotFound);
    const records = await Array.fromAsync(kernel.store.list([NODES_NAMESPACE]));
    assert.deepEqual(records, []);
    await cluster.close();
    await hub.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
