/**
 * `astrid mcp serve` end to end: a real MCP host session with the v2 client
 * SDK against the real CLI subprocess (stdio and Streamable HTTP), a real
 * daemon with the `router` and `fs` capsules installed, both protocol
 * generations. Granted, refused and approval-needing calls, the audit
 * chain, and the HTTP doors (token, Host header).
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  Client,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { ApprovalInfo } from "../kernel/api/client_kit.ts";
import type {
  AuditListBody,
  AuditVerifyBody,
} from "../kernel/api/contract_admin.ts";
import type { ApiClient } from "../kernel/api/client_kit.ts";
import { CLI_MAIN, CLI_PERMS } from "./cli_fixture_test.ts";
import {
  clientOf,
  installCapsules,
  spawnDaemonProcess,
  type TempHome,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";

const CONFIG = `[workspace]
mode = "guided"

[security.policy]
blocked_tools = ["fs:grep"]
approval_required_tools = ["fs:write_file"]
`;

const PERMS = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
  sys: true,
} as const;

type Era = "legacy" | "modern";

function negotiation(era: Era) {
  return era === "modern"
    ? { versionNegotiation: { mode: { pin: "2026-07-28" as const } } }
    : {};
}

/** A host that answers every elicitation with `answer` (and records it). */
function host(era: Era, answer: "allow_once" | "decline" | null) {
  const asked: string[] = [];
  const client = new Client({ name: "test-host", version: "1.0.0" }, {
    capabilities: answer === null ? {} : { elicitation: { form: {} } },
    ...negotiation(era),
  });
  if (answer !== null) {
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(String(request.params.message));
      return Promise.resolve(
        answer === "decline"
          ? { action: "decline" as const }
          : { action: "accept" as const, content: { decision: answer } },
      );
    });
  }
  return { client, asked };
}

function stdioTransport(h: TempHome, extra: readonly string[] = []) {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: [
      "run",
      ...CLI_PERMS,
      CLI_MAIN,
      "mcp",
      "serve",
      "-w",
      h.workspace,
      ...extra,
    ],
    env: h.env,
    cwd: h.dir,
    stderr: "pipe",
  });
}

async function setup(prefix: string) {
  const h = await tempHome(CONFIG);
  void prefix;
  await installCapsules(h, ["router", "fs"]);
  const daemon = await spawnDaemonProcess(h);
  await Deno.writeTextFile(path.join(h.workspace, "a.txt"), "alpha\n");
  const api = await clientOf(h);
  return {
    h,
    api,
    async [Symbol.asyncDispose]() {
      api.close();
      await daemon.stop();
      await h[Symbol.asyncDispose]();
    },
  };
}

async function hostCalls(api: ApiClient) {
  const body = await api.call<AuditListBody>("auditList", {
    query: { action: "mcp_host_tool_call", limit: "100" },
  });
  // Newest first: oldest first here.
  return [...body.entries].reverse().map((e) => {
    const entry = e as unknown as {
      action: { tool: string };
      decision: string;
    };
    return [entry.action.tool, entry.decision];
  });
}

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] })
    .content ?? [];
  return content.map((c) => c.text ?? "").join("\n");
}

async function callRejects(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ code: number; message: string; data: unknown }> {
  try {
    await client.callTool({ name, arguments: args });
  } catch (err) {
    const e = err as { code: number; message: string; data?: unknown };
    return { code: e.code, message: e.message, data: e.data };
  }
  throw new Error(`${name} did not fail`);
}

for (const era of ["legacy", "modern"] as const) {
  Deno.test({
    name:
      `astrid mcp serve (stdio, ${era} host): lists the tools, runs a granted call, refuses a blocked one with a coded MCP error, asks the host through elicitation, and every decision is in a chain that verifies`,
    permissions: PERMS,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await using fx = await setup("mcp-serve-stdio-");
      const { client, asked } = host(era, "allow_once");
      await client.connect(stdioTransport(fx.h));
      try {
        const { tools } = await client.listTools();
        const names = tools.map((t) => t.name);
        assert.ok(names.includes("read_file"), names.join());
        assert.ok(names.includes("write_file"));
        const read = await client.callTool({
          name: "read_file",
          arguments: { path: "a.txt" },
        });
        assert.equal(read.isError ?? false, false);
        assert.match(textOf(read), /alpha/);
        const refused = await callRejects(client, "grep", { pattern: "a" });
        assert.equal(refused.code, -32001);
        assert.match(refused.message, /POLICY_BLOCKED/);
        assert.deepEqual(
          (refused.data as { code: string }).code,
          "POLICY_BLOCKED",
        );
        const wrote = await client.callTool({
          name: "write_file",
          arguments: { path: "w.txt", content: "written\n" },
        });
        assert.equal(wrote.isError ?? false, false, textOf(wrote));
        assert.equal(asked.length, 1);
        assert.match(asked[0]!, /write_file/);
        const unknown = await callRejects(client, "no_such_tool", {});
        assert.equal(unknown.code, -32602);
      } finally {
        await client.close();
      }
      assert.deepEqual(
        (await hostCalls(fx.api)).filter(([, d]) =>
          d === "allowed" || d === "denied"
        ),
        [["read_file", "allowed"], ["grep", "denied"], [
          "write_file",
          "allowed",
        ]],
      );
      const verify = await fx.api.call<AuditVerifyBody>("auditVerify");
      assert.equal(verify.ok, true);
    },
  });
}

Deno.test({
  name:
    "astrid mcp serve: a host without elicitation waits while the approval is answered through the daemon's API; a declined elicitation denies",
  permissions: PERMS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fx = await setup("mcp-serve-queue-");
    const { client } = host("legacy", null);
    await client.connect(stdioTransport(fx.h));
    try {
      const calling = client.callTool({
        name: "write_file",
        arguments: { path: "q.txt", content: "queued\n" },
      });
      let waiting: ApprovalInfo | undefined;
      await waitUntil(async () => {
        const list = await fx.api.call<ApprovalInfo[]>("approvalsList");
        waiting = list.find((a) => a.action === "mcp_host_tool_call");
        return waiting !== undefined;
      }, "the approval to wait in the daemon's queue");
      await fx.api.call("approvalsAnswer", {
        params: { id: waiting!.request_id },
        body: { decision: "allow_once", reason: "from the test" },
      });
      const result = await calling;
      assert.equal(result.isError ?? false, false, textOf(result));
    } finally {
      await client.close();
    }
    const declining = host("modern", "decline");
    await declining.client.connect(stdioTransport(fx.h));
    try {
      const denied = await callRejects(declining.client, "write_file", {
        path: "d.txt",
        content: "no\n",
      });
      assert.match(denied.message, /APPROVAL_DENIED/);
    } finally {
      await declining.client.close();
    }
  },
});

Deno.test({
  name:
    "astrid mcp serve --http: a host with the token lists and calls tools (both eras); no token or a wrong one is 401, a foreign Host header is refused",
  permissions: PERMS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fx = await setup("mcp-serve-http-");
    const token = "t".repeat(40);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...CLI_PERMS,
        CLI_MAIN,
        "mcp",
        "serve",
        "--http",
        "-w",
        fx.h.workspace,
      ],
      env: { ...fx.h.env, ASTRID_MCP_TOKEN: token },
      clearEnv: true,
      cwd: fx.h.dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const url = await listeningUrl(child.stderr);
      for (const era of ["legacy", "modern"] as const) {
        const { client } = host(era, null);
        await client.connect(
          new StreamableHTTPClientTransport(new URL(url), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        try {
          const { tools } = await client.listTools();
          assert.ok(tools.some((t) => t.name === "read_file"));
          const read = await client.callTool({
            name: "read_file",
            arguments: { path: "a.txt" },
          });
          assert.match(textOf(read), /alpha/);
        } finally {
          await client.close();
        }
      }
      const init = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "x", version: "1" },
        },
      });
      const headers = {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      };
      for (const auth of [undefined, "Bearer wrong", `Basic ${token}`]) {
        const res = await fetch(url, {
          method: "POST",
          headers: { ...headers, ...(auth ? { authorization: auth } : {}) },
          body: init,
        });
        await res.body?.cancel();
        assert.equal(res.status, 401, `authorization ${auth}`);
      }
      const port = new URL(url).port;
      const rebound = await rawRequest(
        Number(port),
        `POST /mcp HTTP/1.1\r\nHost: evil.example:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${init.length}\r\nConnection: close\r\n\r\n${init}`,
      );
      assert.match(rebound, /^HTTP\/1\.1 403/);
      const origin = await fetch(url, {
        method: "POST",
        headers: {
          ...headers,
          authorization: `Bearer ${token}`,
          origin: "https://evil.example",
        },
        body: init,
      });
      await origin.body?.cancel();
      assert.equal(origin.status, 403);
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  },
});

/** Reads the child's stderr until it prints the URL it serves. */
async function listeningUrl(stderr: ReadableStream<Uint8Array>) {
  let seen = "";
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`astrid mcp serve ended: ${seen}`);
    seen += value;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(seen);
    if (m) {
      // Keep draining stderr so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return m[1]!;
    }
  }
}

/** Sends raw HTTP (a Host header fetch() would not let us forge). */
async function rawRequest(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}
