/**
 * End-to-end: remote MCP servers (`[[mcp_server]] url = …`) over
 * Streamable HTTP on loopback, built with the v2 server SDK (2026-07-28) and
 * the v1 SDK (2025-11-25): tools on the bus, every HTTP request a gated
 * `capsule_http_request` in the audit chain, the bearer token from a secret
 * placeholder — and the attacks: a host outside the net grants, a name
 * resolving to a private address, a redirect to another host, a tool call
 * the gate denies, the token in audit, logs or errors.
 */
import assert from "node:assert/strict";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import { makeMcpRuntime, MCP_PERMS } from "./mcp_fixture_test.ts";
import {
  type HttpMcpServer,
  startLegacyServer,
  startModernServer,
} from "./_mcp_http_server_test.ts";

type Obj = { [k: string]: JsonValue };
const TOKEN = "tok-9f8e7d6c5b4a-do-not-leak";
const CONFIG = [
  "[security]",
  "allow_private_networks = true",
  "[security.policy]",
  'blocked_tools = ["remote:secret_op"]',
  "",
].join("\n");

function manifest(url: string, net: string, headers = true): string {
  return [
    "[package]",
    'name = "remote-mcp"',
    'version = "1.0.0"',
    'description = "A remote MCP server"',
    "",
    "[capabilities]",
    `net = ["${net}"]`,
    "",
    "[env.MCP_TOKEN]",
    'type = "secret"',
    "",
    "[[mcp_server]]",
    'id = "remote"',
    `url = "${url}"`,
    ...(headers
      ? ['headers = { Authorization = "Bearer {{secret:MCP_TOKEN}}" }']
      : []),
    "",
  ].join("\n");
}

function text(result: JsonValue): string {
  return ((result as Obj).content as Obj[]).map((c) => String(c.text)).join(
    "",
  );
}

async function remoteFixture(
  server: HttpMcpServer,
  o: {
    url?: string;
    net?: string;
    resolveDns?: (h: string) => Promise<string[]>;
  } = {},
) {
  const f = await makeMcpRuntime({
    config: CONFIG,
    ...(o.resolveDns ? { resolveDns: o.resolveDns } : {}),
  });
  const url = new URL(o.url ?? server.url);
  await f.install("remote-mcp", manifest(url.href, o.net ?? url.host));
  await f.runtime.secrets.set("remote-mcp" as CapsuleId, "MCP_TOKEN", TOKEN);
  return f;
}

for (
  const [label, start, first] of [
    [
      "v2 SDK, 2026-07-28",
      () => Promise.resolve(startModernServer()),
      "server/discover",
    ],
    ["v1 SDK, 2025-11-25", startLegacyServer, "initialize"],
  ] as const
) {
  Deno.test({
    name:
      `mcp engine, remote server (${label}): tools are listed and called over Streamable HTTP, each HTTP request audited as capsule_http_request, the bearer token sent but never logged or audited`,
    permissions: MCP_PERMS,
    async fn() {
      const server = await start();
      const f = await remoteFixture(server);
      try {
        const report = await f.boot();
        assert.deepEqual(report.refused, []);
        // Both are probed with server/discover; only the legacy one needs
        // the initialize handshake after it.
        assert.equal(server.seen[0]?.rpc, "server/discover");
        assert.equal(
          server.seen.some((s) => s.rpc === "initialize"),
          first === "initialize",
        );
        const tools = await f.invoke("remote-mcp", "list_tools") as Obj[];
        assert.ok(tools.some((t) => t.name === "echo"), JSON.stringify(tools));
        const r = await f.invoke("remote-mcp", "call_tool", {
          tool: "echo",
          arguments: { text: "hello" },
        });
        assert.equal(text(r), "echo: hello");
        assert.deepEqual(server.calls, ["echo:hello"]);
        assert.ok(server.seen.length > 0);
        for (const s of server.seen) {
          if (s.method === "POST") assert.equal(s.auth, `Bearer ${TOKEN}`);
        }
        const audit = await f.audit("remote-mcp");
        const types = audit.map((e) => (e.action as Obj).type);
        assert.ok(types.includes("secret_use"), types.join());
        assert.ok(types.includes("mcp_tool_call"), types.join());
        const http = audit.filter((e) =>
          (e.action as Obj).type === "capsule_http_request"
        );
        // Every POST that reached the server was decided and audited.
        const posts = server.seen.filter((s) => s.method === "POST").length;
        assert.ok(http.length >= posts, `${http.length} < ${posts}`);
        assert.ok(http.every((e) => e.decision === "allowed"));
        assert.ok(!JSON.stringify(audit).includes(TOKEN));
        assert.ok(!JSON.stringify(f.logger.records).includes(TOKEN));
        const version = first === "initialize" ? "2025-11-25" : "2026-07-28";
        assert.ok(
          f.logger.records.some((r) =>
            r.message.includes(`connected (protocol ${version})`)
          ),
        );
      } finally {
        await f.close();
        await server.close();
      }
    },
  });
}

Deno.test({
  name:
    "mcp engine, remote server: a tool call the gate denies never reaches the server, and is audited as denied",
  permissions: MCP_PERMS,
  async fn() {
    const server = startModernServer();
    const f = await remoteFixture(server);
    try {
      assert.deepEqual((await f.boot()).refused, []);
      await assert.rejects(
        f.invoke("remote-mcp", "call_tool", {
          tool: "secret_op",
          arguments: {},
        }),
        (err: Error) => !err.message.includes(TOKEN),
      );
      assert.deepEqual(server.calls, []);
      assert.ok(!server.seen.some((s) => s.rpc === "tools/call"));
      const denied = (await f.audit("remote-mcp")).filter((e) =>
        (e.action as Obj).type === "mcp_tool_call"
      );
      assert.equal(denied.length, 1);
      assert.notEqual(denied[0]!.decision, "allowed");
    } finally {
      await f.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine, remote server: a URL whose host is not in capabilities.net is refused at install, before any connection",
  permissions: MCP_PERMS,
  async fn() {
    const server = startModernServer();
    const f = await makeMcpRuntime({ config: CONFIG });
    try {
      await assert.rejects(
        f.install("remote-mcp", manifest(server.url, "api.example.com")),
        /not in capabilities\.net/,
      );
      assert.deepEqual(server.seen, []);
    } finally {
      await f.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine, remote server: a host name that resolves to a private address is refused before any connection (even with allow_private_networks)",
  permissions: MCP_PERMS,
  async fn() {
    const server = startModernServer();
    const port = new URL(server.url).port;
    const lookups: string[] = [];
    const f = await remoteFixture(server, {
      url: `http://mcp.rebind.test:${port}/mcp`,
      resolveDns: (h) => (lookups.push(h), Promise.resolve(["127.0.0.1"])),
    });
    try {
      const report = await f.boot();
      assert.equal(report.refused.length, 1, JSON.stringify(report));
      assert.match(JSON.stringify(report.refused), /not a public address/);
      assert.deepEqual(server.seen, []);
      assert.deepEqual(lookups, ["mcp.rebind.test"]);
    } finally {
      await f.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine, remote server: a redirect to another host is refused, not followed",
  permissions: MCP_PERMS,
  async fn() {
    const target = startModernServer();
    const redirector = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () =>
        new Response(null, {
          status: 307,
          headers: { location: target.url.replace("127.0.0.1", "localhost") },
        }),
    );
    const port = (redirector.addr as Deno.NetAddr).port;
    const f = await makeMcpRuntime({ config: CONFIG });
    try {
      await f.install(
        "remote-mcp",
        manifest(`http://127.0.0.1:${port}/mcp`, `127.0.0.1:${port}`),
      );
      await f.runtime.secrets.set(
        "remote-mcp" as CapsuleId,
        "MCP_TOKEN",
        TOKEN,
      );
      const report = await f.boot();
      assert.equal(report.refused.length, 1, JSON.stringify(report));
      assert.match(JSON.stringify(report.refused), /redirect/);
      assert.ok(!JSON.stringify(report).includes(TOKEN));
      assert.deepEqual(target.seen, []);
    } finally {
      await f.close();
      await redirector.shutdown();
      await target.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine, remote server: when the server goes away the connection counts as lost and is re-established with the restart policy's backoff",
  permissions: MCP_PERMS,
  async fn() {
    let server = startModernServer();
    const port = Number(new URL(server.url).port);
    const f = await remoteFixture(server);
    try {
      assert.deepEqual((await f.boot()).refused, []);
      await server.close();
      await assert.rejects(
        f.invoke("remote-mcp", "call_tool", {
          tool: "echo",
          arguments: { text: "down" },
        }),
        (err: Error) => !err.message.includes(TOKEN),
      );
      server = startModernServer({ port });
      let result: JsonValue = null;
      for (let i = 0; i < 50 && result === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        result = await f.invoke("remote-mcp", "call_tool", {
          tool: "echo",
          arguments: { text: "back" },
        }).catch(() => null);
      }
      assert.equal(text(result), "echo: back");
      assert.ok(server.seen.some((s) => s.rpc === "server/discover"));
      assert.ok(
        f.logger.records.some((r) =>
          /connection lost; reconnecting/.test(r.message)
        ),
      );
    } finally {
      await f.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine, remote server: every HTTP request is a gate decision — a host the policy denies is refused (and audited) before any connection",
  permissions: MCP_PERMS,
  async fn() {
    const server = startModernServer();
    const f = await makeMcpRuntime({
      config: CONFIG.replace(
        "[security.policy]\n",
        '[security.policy]\ndenied_hosts = ["127.0.0.1"]\n',
      ),
    });
    try {
      // No header: the first decision is the HTTP request itself. (With the
      // token header the secret_use decision is refused first, so the token
      // is not even read for a denied host.)
      const url = new URL(server.url);
      await f.install("remote-mcp", manifest(url.href, url.host, false));
      const report = await f.boot();
      assert.equal(report.refused.length, 1, JSON.stringify(report));
      assert.match(report.refused[0]!.reason, /denied/);
      assert.deepEqual(server.seen, []);
      const http = (await f.audit("remote-mcp")).filter((e) =>
        (e.action as Obj).type === "capsule_http_request"
      );
      assert.ok(http.length >= 1);
      assert.ok(http.every((e) => e.decision !== "allowed"));
    } finally {
      await f.close();
      await server.close();
    }
  },
});
