import assert from "node:assert/strict";
import { KernelError } from "../../../../core/errors.ts";
import { spawnServer, startServer } from "./_mcp_test_server_test.ts";
import { connectMcpClient } from "./mcp_client.ts";
import type { McpLogEntry, McpProgress } from "./mcp_types.ts";

// A scripted stdio server (plain Deno, no SDK) that misbehaves on purpose.
// Scenario = first argument.
const SCRIPTED = `
const scenario = Deno.args[0];
const enc = new TextEncoder();
async function writeAll(text) {
  let bytes = enc.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
}
const line = (obj) => JSON.stringify(obj) + "\\n";
const reply = (id, result) => line({ jsonrpc: "2.0", id, result });
const tool = (name, extra = {}) => ({ name, inputSchema: { type: "object" }, ...extra });
async function handle(msg) {
  if (msg.method === "notifications/cancelled") {
    console.error("cancelled " + msg.params.requestId + ": " + msg.params.reason);
  }
  if (msg.id === undefined) return;
  if (scenario === "silent") { console.error("got " + msg.method); return; }
  if (msg.method === "initialize") {
    if (scenario === "exit-on-init") Deno.exit(3);
    return writeAll(reply(msg.id, {
      protocolVersion: scenario === "old-version" ? "1999-01-01" : "2025-11-25",
      capabilities: { tools: {} },
      serverInfo: { name: "scripted", version: "0.0.1" },
    }));
  }
  if (msg.method === "ping") return writeAll(reply(msg.id, {}));
  if (msg.method === "tools/list") {
    if (msg.params?.cursor === undefined) {
      return writeAll("this is not json\\n" + line({ foo: 1 }) + reply(msg.id, {
        tools: [tool("ok"), { inputSchema: {} }, { name: 5 }, { name: "noschema" }, "str"],
        nextCursor: "p2",
      }));
    }
    return writeAll(reply(msg.id, { tools: [tool("second", { description: "d" })], nextCursor: "p2" }));
  }
  if (msg.method === "tools/call") {
    const name = msg.params.name;
    if (name === "boom") {
      return writeAll(line({ jsonrpc: "2.0", id: msg.id,
        error: { code: -32603, message: "kaboom\\n    at secret (/srv/x.js:1:1)" } }));
    }
    if (name === "progress") {
      const token = msg.params._meta?.progressToken;
      return writeAll(
        line({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: 1, total: 1, message: "done" } }) +
        reply(msg.id, { content: [{ type: "text", text: "finished" }] }),
      );
    }
    if (name === "big") {
      const content = Array.from({ length: 10_005 }, (_, i) => ({ type: "text", text: String(i) }));
      return writeAll(reply(msg.id, { content, structuredContent: [1] }));
    }
    if (name === "bad") return writeAll(reply(msg.id, { content: "nope" }));
    if (name === "exit") Deno.exit(4);
    if (name === "hang") return;
  }
  return writeAll(line({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } }));
}
const dec = new TextDecoder();
let buf = "";
for await (const chunk of Deno.stdin.readable) {
  buf += dec.decode(chunk, { stream: true });
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const text = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (text) await handle(JSON.parse(text));
  }
}
`;

const PERMS = { read: true, write: true, env: true, run: true } as const;

function scripted(scenario: string) {
  return {
    command: "deno",
    args: ["run", "server.js", scenario],
    files: { "server.js": SCRIPTED },
  };
}

Deno.test({
  name:
    "`connectMcpClient()` rejects with CAPSULE_TIMEOUT when the server never answers initialize",
  permissions: PERMS,
  async fn() {
    const spawned = await spawnServer(scripted("silent"));
    try {
      await assert.rejects(
        connectMcpClient(spawned.stdio, { requestTimeoutMs: 150 }),
        (e) =>
          KernelError.is(e, "CAPSULE_TIMEOUT") &&
          e.message === "MCP initialize timed out after 150 ms",
      );
      // The transport was closed: the server saw stdin EOF and exited.
      assert.equal((await spawned.child.status).code, 0);
      assert.match(await spawned.stderr, /got initialize/);
    } finally {
      await spawned.stop();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` rejects with ABORTED when its signal fires during connect",
  permissions: PERMS,
  async fn() {
    const spawned = await spawnServer(scripted("silent"));
    try {
      const ctl = new AbortController();
      const connecting = connectMcpClient(spawned.stdio, {
        signal: ctl.signal,
      });
      ctl.abort();
      await assert.rejects(connecting, (e) => KernelError.is(e, "ABORTED"));
      assert.equal((await spawned.child.status).code, 0);
      await assert.rejects(
        connectMcpClient(spawned.stdio, { signal: AbortSignal.abort() }),
        (e) => KernelError.is(e, "ABORTED"),
      );
    } finally {
      await spawned.stop();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` rejects with CAPSULE_FAILED for an unsupported protocol version or a server that exits",
  permissions: PERMS,
  async fn() {
    await assert.rejects(
      startServer(scripted("old-version")),
      (e) =>
        KernelError.is(e, "CAPSULE_FAILED") &&
        e.message.startsWith("MCP initialize failed:") &&
        e.message.includes("1999-01-01"),
    );
    await assert.rejects(
      startServer(scripted("exit-on-init")),
      (e) =>
        KernelError.is(e, "CAPSULE_FAILED") &&
        e.message ===
          "MCP initialize failed: the connection to the server closed",
    );
  },
});

Deno.test({
  name:
    "`McpClientSession.listTools()` skips malformed tools and lines with warnings and stops at a repeated cursor",
  permissions: PERMS,
  async fn() {
    const logs: McpLogEntry[] = [];
    const s = await startServer(scripted("normal"), {
      handlers: { log: (e) => logs.push(e) },
    });
    try {
      assert.deepEqual(await s.session.listTools(), [
        { name: "ok", inputSchema: { type: "object" } },
        { name: "second", description: "d", inputSchema: { type: "object" } },
      ]);
      const warnings = logs.map((e) => String(e.data));
      assert.ok(logs.every((e) => e.level === "warning"));
      assert.ok(logs.every((e) => e.logger === "mcp-client"));
      const expected = [
        /^Skipped a malformed line from the server: .*JSON/,
        /^Skipped a malformed line from the server:/,
        /^Skipped 1 non-object 'tools' items of MCP tools\/list$/,
        /^Stopped MCP tools\/list at a repeated cursor$/,
        /^Skipped 3 items of MCP tools\/list: a tool has no string name$/,
      ];
      assert.equal(warnings.length, expected.length, warnings.join("\n"));
      expected.forEach((re, i) => assert.match(warnings[i] ?? "", re));
      await s.session.ping();
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` maps a server's JSON-RPC error to a one-line CAPSULE_FAILED",
  permissions: PERMS,
  async fn() {
    const s = await startServer(scripted("normal"));
    try {
      await assert.rejects(
        s.session.callTool("boom", {}),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message ===
            "MCP tools/call 'boom' failed: server error -32603: kaboom at secret (/srv/x.js:1:1)" &&
          e.data?.mcpCode === -32603,
      );
      await assert.rejects(
        s.session.getPrompt("p", {}),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message ===
            "MCP prompts/get 'p' failed: server error -32601: Method not found",
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` keeps a progress notification that arrives in the same chunk as the response",
  permissions: PERMS,
  async fn() {
    const s = await startServer(scripted("normal"));
    try {
      const progress: McpProgress[] = [];
      const r = await s.session.callTool("progress", {}, {
        onProgress: (p) => progress.push(p),
      });
      assert.deepEqual(progress, [{ progress: 1, total: 1, message: "done" }]);
      assert.deepEqual(r, {
        content: [{ type: "text", text: "finished" }],
        isError: false,
      });
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` bounds content to 10 000 items and rejects a non-array content",
  permissions: PERMS,
  async fn() {
    const logs: string[] = [];
    const s = await startServer(scripted("normal"), {
      handlers: { log: (e) => logs.push(String(e.data)) },
    });
    try {
      const big = await s.session.callTool("big", {});
      assert.equal(big.content.length, 10_000);
      assert.equal(big.structuredContent, undefined);
      assert.deepEqual(logs, [
        "Kept the first 10000 of 10005 'content' items of MCP tools/call 'big'",
        "Dropped a non-object structuredContent of MCP tools/call 'big'",
      ]);
      await assert.rejects(
        s.session.callTool("bad", {}),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message ===
            "MCP tools/call 'bad' failed: the server's result has no 'content' array",
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` fails with CAPSULE_FAILED when the server exits mid-call, and `closed` resolves",
  permissions: PERMS,
  async fn() {
    const s = await startServer(scripted("normal"));
    try {
      await assert.rejects(
        s.session.callTool("exit", {}),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message ===
            "MCP tools/call 'exit' failed: the connection to the server closed",
      );
      await s.session.closed;
      assert.equal((await s.child.status).code, 4);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` cancels with notifications/cancelled that does not carry the caller's abort reason",
  permissions: PERMS,
  async fn() {
    const s = await startServer(scripted("normal"));
    try {
      const ctl = new AbortController();
      const call = s.session.callTool("hang", {}, { signal: ctl.signal });
      ctl.abort(new KernelError("ABORTED", "Stopped by /home/alice/.astrid"));
      await assert.rejects(call, (e) =>
        KernelError.is(e, "ABORTED") &&
        e.message === "Cancelled MCP tools/call 'hang'");
      await s.session.ping(); // the server has read the notification by now
    } finally {
      await s.dispose();
    }
    const stderr = await s.stderr;
    assert.match(stderr, /cancelled \d+: Cancelled by the client/);
    assert.doesNotMatch(stderr, /alice/);
  },
});
