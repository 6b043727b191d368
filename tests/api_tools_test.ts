/**
 * The tool gateway's routes (`GET /v1/sessions/:id/tools`, `POST
 * /v1/sessions/:id/tools/call`) on the real hub, kernel and capsules
 * (`router` + `fs`): listing, a granted call, a blocked one, one that asks
 * for approval (answered through the approvals route while it waits), and
 * the attacks the routes stop.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { ApiClient } from "../kernel/api/client.ts";
import type {
  GatewayTool,
  ToolCallStreamEvent,
} from "../kernel/api/contract.ts";
import {
  answerFirst,
  apiTest,
  code,
  newSession,
  startApi,
} from "./api_fixture_test.ts";

const POLICY = `[security.policy]
blocked_tools = ["fs:grep"]
approval_required_tools = ["fs:write_file"]
`;

async function call(
  c: ApiClient,
  session: string,
  body: unknown,
): Promise<ToolCallStreamEvent[]> {
  const events: ToolCallStreamEvent[] = [];
  for await (
    const e of c.stream<ToolCallStreamEvent>("sessionToolCall", {
      params: { id: session },
      body,
    })
  ) events.push(e);
  return events;
}

async function auditOf(
  fx: Awaited<ReturnType<typeof startApi>>,
): Promise<{ action: Record<string, unknown>; decision: string }[]> {
  await fx.kernel.security.gate.flush();
  await fx.kernel.security.audit.flush();
  const out = [];
  for await (
    const line of fx.kernel.security.audit.exportJsonl(fx.kernel.principal)
  ) out.push(JSON.parse(line));
  return out;
}

apiTest(
  "GET /tools lists the session's tools with the capsule that offers each; a capsule filter keeps only that capsule's",
  async () => {
    await using fx = await startApi({
      prefix: "api-tools-list-",
      capsules: ["router", "fs"],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const all = await c.call<GatewayTool[]>("sessionTools", {
      params: { id: s.id },
    });
    const read = all.find((t) => t.name === "read_file");
    assert.equal(read?.capsule, "fs");
    assert.equal(read?.input_schema["type"], "object");
    assert.ok(all.every((t) => t.capsule === "fs"));
    const routerOnly = await c.call<GatewayTool[]>("sessionTools", {
      params: { id: s.id },
      query: { capsule: "router" },
    });
    assert.deepEqual(routerOnly, [], "the router intercepts no tool topic");
    assert.equal(
      await code(c.call("sessionTools", {
        params: { id: s.id },
        query: { capsule: "../fs" },
      })),
      "API_BAD_REQUEST",
    );
  },
);

apiTest(
  "POST /tools/call runs a granted tool through the gate (audited before and after), refuses a blocked one with the gate's code (audited)",
  async () => {
    await using fx = await startApi({
      prefix: "api-tools-call-",
      capsules: ["router", "fs"],
      config: POLICY,
    });
    await Deno.writeTextFile(path.join(fx.tk.workspace, "a.txt"), "alpha\n");
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const ok = await call(c, s.id, {
      name: "read_file",
      arguments: { path: "a.txt" },
    });
    const result = ok.at(-1);
    assert.equal(result?.type, "result");
    assert.ok(result?.type === "result" && !result.is_error);
    assert.match(result.content, /alpha/);
    const blocked = await call(c, s.id, {
      name: "grep",
      arguments: { pattern: "a" },
    });
    assert.deepEqual(blocked.map((e) => e.type), ["error"]);
    const refusal = blocked[0] as { code: string; message: string };
    assert.equal(refusal.code, "POLICY_BLOCKED");
    assert.match(refusal.message, /fs:grep/);
    const entries = (await auditOf(fx)).filter((e) =>
      e.action["type"] === "mcp_host_tool_call"
    );
    const decisions = entries.map((e) => [e.action["tool"], e.decision]);
    assert.deepEqual(
      decisions.filter(([, d]) => d !== "info" && d !== "outcome"),
      [["read_file", "allowed"], ["grep", "denied"]],
    );
    const hashed = entries.find((e) => e.action["tool"] === "read_file");
    assert.match(String(hashed?.action["args_hash"]), /^[0-9a-f]{64}$/);
    assert.equal(hashed?.action["capsule_id"], "fs");
  },
);

apiTest(
  "POST /tools/call waits on an approval the gate asks for: the stream carries approval_required, another client answers through /v1/approvals, the tool runs",
  async () => {
    await using fx = await startApi({
      prefix: "api-tools-ask-",
      capsules: ["router", "fs"],
      config: POLICY,
      mode: "guided",
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const calling = call(c, s.id, {
      name: "write_file",
      arguments: { path: "w.txt", content: "written\n" },
    });
    const asked = await answerFirst(fx.client(), s.id, "allow_once");
    assert.equal(asked.action, "mcp_host_tool_call");
    const events = await calling;
    assert.deepEqual(events.map((e) => e.type), [
      "approval_required",
      "approval_decision",
      "result",
    ]);
    const last = events.at(-1);
    assert.ok(last?.type === "result" && !last.is_error, JSON.stringify(last));
    const denied = call(c, s.id, {
      name: "write_file",
      arguments: { path: "x.txt", content: "no\n" },
    });
    await answerFirst(fx.client(), s.id, "deny");
    const refused = (await denied).at(-1);
    assert.equal(refused?.type === "error" && refused.code, "APPROVAL_DENIED");
  },
);

apiTest(
  "POST /tools/call refuses what could reach another topic or another capsule: bus wildcards and dots, an unknown tool, a filter naming another capsule, oversized arguments, no token",
  async () => {
    await using fx = await startApi({
      prefix: "api-tools-attack-",
      capsules: ["router", "fs"],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    for (const name of ["*", ">", "read_file.result", "a.b", "**", "", 7]) {
      assert.equal(
        await code(c.call("sessionToolCall", {
          params: { id: s.id },
          body: { name, arguments: {} },
        })),
        "API_BAD_REQUEST",
        `name ${JSON.stringify(name)}`,
      );
    }
    assert.equal(
      await code(c.call("sessionToolCall", {
        params: { id: s.id },
        body: { name: "read_file", arguments: ["a.txt"] },
      })),
      "API_BAD_REQUEST",
    );
    const unknown = await call(c, s.id, { name: "no_such_tool" });
    assert.deepEqual(unknown.map((e) => e.type === "error" && e.code), [
      "NOT_FOUND",
    ]);
    const filtered = await call(c, s.id, {
      name: "read_file",
      arguments: { path: "a.txt" },
      capsules: ["router"],
    });
    assert.deepEqual(filtered, [{
      type: "error",
      code: "NOT_FOUND",
      message: "Unknown tool 'read_file'",
    }], "the same answer as an unknown tool");
    assert.equal(
      await code(c.call("sessionToolCall", {
        params: { id: s.id },
        body: {
          name: "write_file",
          arguments: { path: "big", content: "x".repeat(1024 * 1024 + 1) },
        },
      })),
      "API_BODY_TOO_LARGE",
    );
    for (const token of [null, "wrong"]) {
      const res = await fx.fetch(
        new Request(`http://astrid/v1/sessions/${s.id}/tools/call`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ name: "read_file", arguments: {} }),
        }),
      );
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, "API_UNAUTHORIZED");
    }
  },
);

apiTest(
  "GET /resources and /prompts list only MCP capsules' items; reading one nobody listed is NOT_FOUND; bad keys, arguments and filters are refused",
  async () => {
    await using fx = await startApi({
      prefix: "api-items-",
      capsules: ["router", "fs"],
    });
    const c = fx.client();
    const s = await newSession(c, fx.tk.workspace);
    const params = { id: s.id };
    assert.deepEqual(await c.call("sessionResources", { params }), []);
    assert.deepEqual(await c.call("sessionPrompts", { params }), []);
    assert.equal(
      await code(c.call("sessionResourceRead", {
        params,
        body: { key: "file:///etc/passwd" },
      })),
      "NOT_FOUND",
      "a URI no capsule listed is never read",
    );
    assert.equal(
      await code(c.call("sessionPromptGet", {
        params,
        body: { key: "anything" },
      })),
      "NOT_FOUND",
    );
    for (
      const body of [
        { key: "" },
        { key: "x".repeat(2049) },
        { key: 7 },
        { key: "p", arguments: { a: 1 } },
        { key: "p", arguments: ["a"] },
        { key: "p", capsules: ["../fs"] },
        { key: "p", capsules: "fs" },
      ]
    ) {
      assert.equal(
        await code(c.call("sessionPromptGet", { params, body })),
        "API_BAD_REQUEST",
        JSON.stringify(body).slice(0, 80),
      );
    }
  },
);
