import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Logger } from "../../../core/ports.ts";
import { systemClock } from "../../../host/system_clock.ts";
import { connectMcpClient, createStdioTransport } from "./client/mod.ts";
import { McpServerProcess } from "./server_process.ts";

const quiet: Logger = { log() {}, child: () => quiet };

Deno.test({
  name:
    "`McpServerProcess.live` is the running session without waiting, and null before start and after stop",
  permissions: "none",
  async fn() {
    const servers: McpServer[] = [];
    const lost = Promise.withResolvers<void>();
    const process = new McpServerProcess({
      clock: systemClock(),
      logger: quiet,
      launch: () =>
        Promise.resolve({
          endpoint: { url: new URL("http://127.0.0.1:1/mcp"), fetch },
          lost: lost.promise,
          cleanup: () => Promise.resolve(),
        }),
      // The endpoint is a placeholder: the session is a real one, to an
      // in-process server over in-memory pipes.
      async connect() {
        const up = new TransformStream<Uint8Array, Uint8Array>();
        const down = new TransformStream<Uint8Array, Uint8Array>();
        const server = new McpServer({ name: "live", version: "1.0.0" });
        servers.push(server);
        await server.connect(
          createStdioTransport({ stdin: down.writable, stdout: up.readable }),
        );
        return await connectMcpClient({
          stdin: up.writable,
          stdout: down.readable,
        });
      },
    }, { name: "live" });
    const liveOf = (p: McpServerProcess) => p.live;
    assert.equal(liveOf(process), null);
    await process.start();
    const live = liveOf(process);
    assert.notEqual(live, null);
    assert.equal(live, await process.session());
    assert.equal(live?.server.name, "live");
    await process.stop();
    assert.equal(liveOf(process), null);
    await Promise.all(servers.map((s) => s.close()));
  },
});
