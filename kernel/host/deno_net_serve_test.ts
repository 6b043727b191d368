import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { createDenoNet } from "./deno_net.ts";

Deno.test("serveUnix serves on a socket of mode 0600 and stops accepting on shutdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sock = path.join(dir, "s.sock");
    const server = await createDenoNet({ logger: new MemoryLogger() })
      .serveUnix(sock, () => Promise.resolve(new Response("hi")));
    const st = await Deno.lstat(sock);
    assert.ok(st.isSocket);
    assert.equal(st.mode! & 0o777, 0o600);
    using client = Deno.createHttpClient({
      proxy: { transport: "unix", path: sock },
    });
    assert.equal(await (await fetch("http://x/", { client })).text(), "hi");
    await server.shutdown();
    await server.finished;
    await assert.rejects(
      Deno.connect({ transport: "unix", path: sock }).then((c) => c.close()),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveUnix refuses a path too long for a Unix socket with HOME_INVALID", async () => {
  await assert.rejects(
    createDenoNet({ logger: new MemoryLogger() }).serveUnix(
      `/tmp/${"x".repeat(120)}/run/system.sock`,
      () => Promise.resolve(new Response()),
    ),
    (e) => KernelError.is(e) && e.code === "HOME_INVALID",
  );
});
