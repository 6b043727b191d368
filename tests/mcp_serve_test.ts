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
import { CLI_MAIN, CLI_PERMS, runAstrid } from "./cli_fixture_test.ts";
import {
  installFixtureCapsule,
  listeningUrl,
} from "./mcp_serve_fixture_test.ts";
import { serveMcp } from "../cli/mcp/serve.ts";
import type { CommandIo } from "../cli/commands/command_io.ts";
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

async function setup(
  options: { fixture?: boolean; capsules?: readonly string[] } = {},
) {
  const h = await tempHome(CONFIG);
  const capsules = options.capsules ?? ["router", "fs"];
  if (capsules.length > 0) await installCapsules(h, capsules);
  if (options.fixture) await installFixtureCapsule(h.env);
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
    async fn() {
      await using fx = await setup();
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
      const answers = await fx.api.call<AuditListBody>("auditList", {
        query: { action: "approval_answer" },
      });
      assert.deepEqual(
        answers.entries.map((e) => {
          const a = (e as unknown as { action: Record<string, unknown> })
            .action;
          return [a["action"], a["decision"], a["reason"]];
        }),
        [[
          "mcp_host_tool_call",
          "allow_once",
          "answered by the MCP host (elicitation)",
        ]],
        "the host's answer is audited like any other",
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
  async fn() {
    await using fx = await setup();
    const { client } = host("legacy", null);
    await client.connect(stdioTransport(fx.h));
    try {
      const calling = client.callTool({
        name: "write_file",
        arguments: { path: "q.txt", content: "queued\n" },
      });
      const waiting = await waitForApproval(fx.api);
      await fx.api.call("approvalsAnswer", {
        params: { id: waiting.request_id },
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
    "astrid mcp serve --http: a host with the token lists and calls tools (both eras), answers an approval by elicitation (2026-07-28) or waits for the queue (2025 era, stateless); no token or a wrong one is 401, a foreign Host or Origin header is refused",
  permissions: PERMS,
  async fn() {
    await using fx = await setup();
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
      // 2026-07-28 over HTTP: the approval is an input_required round trip.
      const modern = host("modern", "allow_once");
      await modern.client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const wrote = await modern.client.callTool({
          name: "write_file",
          arguments: { path: "h.txt", content: "over http\n" },
        });
        assert.equal(wrote.isError ?? false, false, textOf(wrote));
        assert.equal(modern.asked.length, 1);
      } finally {
        await modern.client.close();
      }
      // 2025 era over stateless HTTP cannot carry the question: it waits in
      // the daemon's queue even for a host that declares elicitation.
      const legacy = host("legacy", "allow_once");
      await legacy.client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const calling = legacy.client.callTool({
          name: "write_file",
          arguments: { path: "l.txt", content: "queued\n" },
        });
        const asked = await waitForApproval(fx.api);
        await fx.api.call("approvalsAnswer", {
          params: { id: asked.request_id },
          body: { decision: "allow_once" },
        });
        const wrote = await calling;
        assert.equal(wrote.isError ?? false, false, textOf(wrote));
        assert.equal(legacy.asked.length, 0);
      } finally {
        await legacy.client.close();
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

Deno.test({
  name:
    "astrid mcp serve --capsule: an MCP capsule's tools (content blocks as the server sent them), resources and prompts reach the host; other capsules' tools are not offered nor callable",
  permissions: PERMS,
  async fn() {
    await using fx = await setup({ fixture: true });
    const { client } = host("modern", null);
    await client.connect(
      stdioTransport(fx.h, ["--capsule", "conformance"]),
    );
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes("test_image_content"), names.join());
      assert.ok(!names.includes("read_file"), "fs is filtered out");
      const image = await client.callTool({ name: "test_image_content" });
      assert.deepEqual(
        (image.content as { type: string; mimeType?: string }[]).map((c) => [
          c.type,
          c.mimeType,
        ]),
        [["image", "image/png"]],
      );
      const failing = await client.callTool({ name: "test_error_handling" });
      assert.equal(failing.isError, true);
      const filtered = await callRejects(client, "read_file", {
        path: "a.txt",
      });
      assert.equal(filtered.code, -32602);
      const { resources } = await client.listResources();
      assert.ok(resources.some((r) => r.uri === "test://static-text"));
      const read = await client.readResource({ uri: "test://static-text" });
      assert.deepEqual(
        (read.contents[0] as { text?: string }).text,
        "This is the content of the static text resource.",
      );
      const missing = await client.readResource({ uri: "test://nope" }).then(
        () => null,
        (err: { code: number }) => err.code,
      );
      assert.notEqual(missing, null);
      const { prompts } = await client.listPrompts();
      assert.ok(prompts.some((p) => p.name === "test_prompt_with_arguments"));
      const prompt = await client.getPrompt({
        name: "test_prompt_with_arguments",
        arguments: { arg1: "hello", arg2: "world" },
      });
      assert.deepEqual(prompt.messages[0]?.content, {
        type: "text",
        text: "Prompt with arguments: arg1='hello', arg2='world'",
      });
    } finally {
      await client.close();
    }
    const calls = await hostCalls(fx.api);
    assert.deepEqual(
      calls.filter(([, d]) => d === "allowed").map(([t]) => t),
      ["test_image_content", "test_error_handling"],
    );
  },
});

Deno.test({
  name:
    "astrid mcp serve: without a router capsule, an MCP capsule's tools are still offered and called through the gate",
  permissions: PERMS,
  async fn() {
    await using fx = await setup({ fixture: true, capsules: [] });
    const { client } = host("legacy", null);
    await client.connect(stdioTransport(fx.h));
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === "test_simple_text"));
      const r = await client.callTool({ name: "test_simple_text" });
      assert.equal(textOf(r), "This is a simple text response for testing.");
    } finally {
      await client.close();
    }
    assert.deepEqual(
      (await hostCalls(fx.api)).filter(([, d]) => d === "allowed"),
      [["test_simple_text", "allowed"]],
    );
  },
});

Deno.test({
  name:
    "serveMcp() (in process, http): a call waiting in the daemon's queue reports progress naming the approval, then completes once it is answered",
  permissions: PERMS,
  async fn() {
    await using fx = await setup();
    const stop = new AbortController();
    const lines: string[] = [];
    const io: CommandIo = {
      out: () => {
        throw new Error("nothing may be written to stdout");
      },
      err: (line) => lines.push(line),
      stdin: () => Promise.resolve(null),
      ask: () => null,
      cwd: fx.h.workspace,
      realPath: (p) => Deno.realPath(p),
    };
    const listening = Promise.withResolvers<string>();
    const token = "x".repeat(32);
    const serving = serveMcp(fx.api, {
      transport: "http",
      port: 0,
      workspace: fx.h.workspace,
      token,
      heartbeatMs: 100,
      signal: stop.signal,
      onListen: (url) => listening.resolve(url),
    }, io);
    try {
      const url = await listening.promise;
      const { client } = host("modern", null);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const progress: string[] = [];
        const calling = client.callTool({
          name: "write_file",
          arguments: { path: "p.txt", content: "progress\n" },
        }, {
          onprogress: (p) => progress.push(String(p.message ?? "")),
          resetTimeoutOnProgress: true,
        });
        const asked = await waitForApproval(fx.api);
        await waitUntil(
          () =>
            Promise.resolve(progress.some((m) => m.includes(asked.request_id))),
          "a progress notification naming the approval",
        );
        await fx.api.call("approvalsAnswer", {
          params: { id: asked.request_id },
          body: { decision: "allow_once" },
        });
        const wrote = await calling;
        assert.equal(wrote.isError ?? false, false, textOf(wrote));
      } finally {
        await client.close();
      }
    } finally {
      stop.abort();
      assert.equal(await serving, 0);
    }
    assert.ok(lines.some((l) => l.includes("/mcp")), lines.join("\n"));
    assert.ok(
      lines.some((l) => l.includes("waits (astrid approvals list)")),
      "the waiting approval is named on stderr",
    );
  },
});

Deno.test({
  name:
    "astrid mcp: a usage error (unknown subcommand, --port without --http, a bad port, a short ASTRID_MCP_TOKEN) exits 2 and starts no daemon",
  permissions: PERMS,
  async fn() {
    await using h = await tempHome();
    for (
      const args of [
        ["mcp"],
        ["mcp", "bogus"],
        ["mcp", "serve", "--port", "80"],
        ["mcp", "serve", "--http", "--port", "70000"],
        ["mcp", "serve", "extra"],
        ["mcp", "serve", "--http"], // ASTRID_MCP_TOKEN too short
      ]
    ) {
      const short = args.at(-1) === "--http";
      const run = await runAstrid(args, {
        env: short ? { ...h.env, ASTRID_MCP_TOKEN: "short" } : h.env,
        cwd: h.workspace,
      });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(
        run.stderr,
        short ? /error\[USAGE\].*ASTRID_MCP_TOKEN/ : /error\[USAGE\]/,
      );
    }
    assert.equal(
      await Deno.stat(h.files.socket).then(() => true, () => false),
      false,
      "no daemon was started",
    );
  },
});

/** The gateway's approval request waiting in the daemon's queue. */
async function waitForApproval(api: ApiClient): Promise<ApprovalInfo> {
  let waiting: ApprovalInfo | undefined;
  await waitUntil(async () => {
    const list = await api.call<ApprovalInfo[]>("approvalsList");
    waiting = list.find((a) => a.action === "mcp_host_tool_call");
    return waiting !== undefined;
  }, "the approval to wait in the daemon's queue");
  return waiting!;
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
