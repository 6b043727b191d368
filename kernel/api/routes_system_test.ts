import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { MemoryEnv } from "../testing/memory_env.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { startKernel } from "../daemon/boot.ts";
import { createSessionHub } from "../turn/session_hub.ts";
import { engineStatuses } from "../server/engines.ts";
import { createApi } from "./api.ts";
import { ApiClient } from "./client.ts";
import type { StatusInfo } from "./contract.ts";

async function api(mode: "socket" | "serve") {
  const dir = await Deno.makeTempDir();
  const env = new MemoryEnv({ ASTRID_HOME: dir, HOME: dir });
  const kernel = await startKernel({
    env,
    inMemoryStore: true,
    ignoreSystemConfig: true,
    logger: new MemoryLogger(),
  });
  const hub = await createSessionHub(kernel, { roots: [], env });
  let shutdowns = 0;
  const router = createApi({
    kernel,
    hub,
    mode,
    startedAt: kernel.ports.clock.now(),
    idleTimeoutMs: mode === "socket" ? 5000 : null,
    engines: engineStatuses(false),
    shutdown: () => shutdowns++,
  });
  const client = new ApiClient({
    handler: router.handler({ token: () => "t" }),
  }, "t");
  return {
    kernel,
    client,
    shutdowns: () => shutdowns,
    async [Symbol.asyncDispose]() {
      await kernel.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("status reports version, process, key, mode, idle timeout and engines (mcp unavailable with a reason)", async () => {
  await using a = await api("socket");
  const s = await a.client.call<StatusInfo>("status");
  assert.equal(s.mode, "socket");
  assert.equal(s.pid, Deno.pid);
  assert.equal(s.deno, Deno.version.deno);
  assert.equal(s.principal, "default");
  assert.equal(s.key_id, a.kernel.runtimeKey.keyId);
  assert.equal(s.idle_timeout_ms, 5000);
  assert.ok(s.uptime_ms >= 0);
  assert.deepEqual(s.sessions, { known: 0, live: 0 });
  assert.deepEqual(s.engines.filter((e) => e.available).map((e) => e.name), [
    "js",
    "wasm",
    "static",
  ]);
  assert.match(
    s.engines.find((e) => e.name === "mcp")?.reason ?? "",
    /allow-run/,
  );
});

Deno.test("shutdown answers 202 and then asks the daemon to stop; a headless server refuses it", async () => {
  {
    await using a = await api("socket");
    assert.deepEqual(await a.client.call("shutdown"), { stopping: true });
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(a.shutdowns(), 1);
  }
  await using b = await api("serve");
  await assert.rejects(
    b.client.call("shutdown"),
    (e) => KernelError.is(e) && e.code === "API_METHOD_NOT_ALLOWED",
  );
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(b.shutdowns(), 0);
});
