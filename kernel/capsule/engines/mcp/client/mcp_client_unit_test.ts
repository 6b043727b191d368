import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { VERSION } from "../../../../../version.ts";
import { connectMcpClient } from "./mcp_client.ts";
import type { McpClientOptions, McpClientSession } from "./mcp_types.ts";
import { createStdioTransport } from "./stdio_transport.ts";

// An in-process SDK server joined to the adapter by in-memory pipes (the
// same stdio transport on both ends).
async function pair(
  options: McpClientOptions = {},
): Promise<{ server: McpServer; session: McpClientSession }> {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const server = new McpServer({ name: "unit", version: "9.9.9" }, {
    capabilities: { logging: {} },
  });
  server.registerTool("shape", {
    inputSchema: { n: z.number() },
    outputSchema: { double: z.number() },
  }, ({ n }) => ({
    content: [{ type: "text", text: String(n * 2) }],
    structuredContent: { double: n * 2 },
  }));
  await server.connect(
    createStdioTransport({ stdin: down.writable, stdout: up.readable }),
  );
  const session = await connectMcpClient(
    { stdin: up.writable, stdout: down.readable },
    options,
  );
  return { server, session };
}

async function done(p: { server: McpServer; session: McpClientSession }) {
  await p.session.close();
  await p.server.close();
}

Deno.test({
  name:
    "`connectMcpClient()` advertises no client capability without handlers and names itself astrid",
  permissions: "none",
  async fn() {
    const p = await pair();
    try {
      assert.deepEqual(p.server.server.getClientCapabilities(), {});
      assert.deepEqual(p.server.server.getClientVersion(), {
        name: "astrid",
        version: VERSION,
      });
      assert.deepEqual(p.session.capabilities, {
        tools: true,
        resources: false,
        prompts: false,
        logging: true,
      });
      assert.equal(p.session.instructions, undefined);
      // Without a roots handler there is nothing to notify.
      await p.session.notifyRootsChanged();
    } finally {
      await done(p);
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` advertises roots, elicitation (form + url) and sampling for the handlers given",
  permissions: "none",
  async fn() {
    const p = await pair({
      clientName: "tester",
      clientVersion: "1.2.3",
      handlers: {
        roots: () => Promise.resolve([]),
        elicit: () => Promise.resolve({ action: "cancel" }),
        sample: () => Promise.reject(new Error("unused")),
      },
    });
    try {
      assert.deepEqual(p.server.server.getClientCapabilities(), {
        roots: { listChanged: true },
        elicitation: { form: {}, url: {} },
        sampling: {},
      });
      assert.deepEqual(p.server.server.getClientVersion(), {
        name: "tester",
        version: "1.2.3",
      });
    } finally {
      await done(p);
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` a failing roots handler gives the server an internal error without its message",
  permissions: "none",
  async fn() {
    const p = await pair({
      handlers: {
        roots: () => Promise.reject(new Error("cannot read /home/alice/x")),
      },
    });
    try {
      await assert.rejects(
        p.server.server.listRoots(),
        (e: Error) =>
          e.message ===
            "MCP error -32603: The client could not answer roots/list (INTERNAL)",
      );
    } finally {
      await done(p);
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` returns structuredContent and the tool's output schema is listed",
  permissions: "none",
  async fn() {
    const p = await pair();
    try {
      const [tool] = await p.session.listTools();
      assert.equal(tool?.name, "shape");
      assert.equal(
        (tool?.outputSchema as { type?: string } | undefined)?.type,
        "object",
      );
      assert.deepEqual(await p.session.callTool("shape", { n: 21 }), {
        content: [{ type: "text", text: "42" }],
        structuredContent: { double: 42 },
        isError: false,
      });
    } finally {
      await done(p);
    }
  },
});

Deno.test({
  name:
    "`McpClientSession` refuses programmer errors: empty tool name, unknown log level",
  permissions: "none",
  async fn() {
    await assert.rejects(
      connectMcpClient({
        stdin: new WritableStream(),
        stdout: new ReadableStream(),
      }, { requestTimeoutMs: 0 }),
      RangeError,
    );
    const p = await pair();
    try {
      await assert.rejects(p.session.callTool("", {}), TypeError);
      await assert.rejects(p.session.setLogLevel("verbose"), RangeError);
      await p.session.setLogLevel("error");
    } finally {
      await done(p);
    }
  },
});

Deno.test({
  name:
    "`McpClientSession` with one long-lived signal serves many calls and still cancels the next one",
  permissions: "none",
  async fn() {
    const p = await pair();
    try {
      const ctl = new AbortController();
      for (let i = 0; i < 50; i++) {
        await p.session.callTool("shape", { n: i }, { signal: ctl.signal });
      }
      ctl.abort();
      await assert.rejects(
        p.session.callTool("shape", { n: 1 }, { signal: ctl.signal }),
        { code: "ABORTED" },
      );
      await p.session.ping({ signal: new AbortController().signal });
    } finally {
      await done(p);
    }
  },
});
