import assert from "node:assert/strict";
import { WORKER_PERMISSIONS } from "./_plugin_thread.ts";

Deno.test({
  name:
    "wasm engine Worker permissions: the Extism SDK loads, but the worker cannot read or write a file, reach the net, read env or run",
  permissions: { read: true, write: true, env: true, net: true, run: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/secret.txt`;
    await Deno.writeTextFile(file, "kernel secret");
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("reached"),
    );
    const worker = new Worker(
      new URL(
        "../../../../tests/fixtures/workers/extism_probe_worker.ts",
        import.meta.url,
      ),
      { type: "module", deno: { permissions: WORKER_PERMISSIONS } },
    );
    try {
      const result = await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        worker.postMessage({
          file,
          url: `http://127.0.0.1:${server.addr.port}/`,
        });
      });
      assert.deepEqual(result, {
        read: "NotCapable",
        write: "NotCapable",
        net: "NotCapable",
        env: "NotCapable",
        run: "NotCapable",
      });
    } finally {
      worker.terminate();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
