/**
 * End-to-end: what an MCP server asks of the client (elicitation, sampling,
 * roots) goes through the gate — checked, budgeted, audited — before the
 * human or the provider sees it.
 */
import assert from "node:assert/strict";
import type { JsonValue } from "../kernel/store/store.ts";
import type {
  McpElicitPort,
  McpSamplingPort,
} from "../kernel/capsule/engines/mcp/client_handlers.ts";
import {
  EVERYTHING_ENV,
  makeMcpRuntime,
  MCP_PERMS,
  npmServer,
  SERVERS,
} from "./mcp_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

function text(result: JsonValue): string {
  return ((result as Obj).content as Obj[]).map((c) => String(c.text ?? ""))
    .join("\n");
}

function everything(): string {
  const s = npmServer("everything", SERVERS.everything);
  return [
    "[package]",
    'name = "every"',
    'version = "1.0.0"',
    "[capabilities]",
    s.host,
    ...EVERYTHING_ENV.flatMap((k) => [`[env.${k}]`, 'type = "string"']),
    "",
    s.server,
  ].join("\n");
}

Deno.test({
  name:
    "mcp engine: elicitation reaches the frontend with the URL's host, sampling reaches the provider, roots are the workspace — each audited",
  permissions: MCP_PERMS,
  async fn() {
    const asked: Obj[] = [];
    const elicit: McpElicitPort = {
      elicit(req) {
        asked.push(req as unknown as Obj);
        return Promise.resolve(
          req.mode === "form"
            ? { action: "accept", content: { name: "Ada", check: true } }
            : { action: "accept" },
        );
      },
    };
    const sampled: Obj[] = [];
    const sampling: McpSamplingPort = {
      sample(req) {
        sampled.push(req as unknown as Obj);
        return Promise.resolve({
          role: "assistant",
          content: { type: "text", text: "provider says hi" },
          model: "replay-1",
          stopReason: "endTurn",
        });
      },
    };
    const f = await makeMcpRuntime({ mcp: { elicit, sampling } });
    try {
      await f.install("every", everything());
      assert.deepEqual((await f.boot()).refused, []);
      const form = await f.invoke("every", "call_tool", {
        tool: "trigger-elicitation-request",
        arguments: {},
      });
      assert.match(text(form), /Ada/);
      const url = await f.invoke("every", "call_tool", {
        tool: "trigger-url-elicitation",
        arguments: {
          url: "https://auth.example.com/authorize?x=1",
          elicitationId: "e1",
        },
      });
      assert.equal((url as Obj).is_error, false, text(url));
      assert.equal(asked[1]?.host, "auth.example.com");
      assert.equal(asked[1]?.capsule, "every");
      const sample = await f.invoke("every", "call_tool", {
        tool: "trigger-sampling-request",
        arguments: { prompt: "hello", maxTokens: 64 },
      });
      assert.match(text(sample), /provider says hi/);
      assert.equal(sampled[0]?.maxTokens, 64);
      const roots = await f.invoke("every", "call_tool", {
        tool: "get-roots-list",
        arguments: {},
      });
      assert.ok(text(roots).includes(f.workspace), text(roots));
      const types = (await f.audit("every")).filter((e) =>
        e.decision === "allowed"
      ).map((e) => (e.action as Obj).type);
      for (const t of ["mcp_elicitation", "mcp_sampling", "mcp_tool_call"]) {
        assert.ok(types.includes(t), `${t} is audited`);
      }
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine: sampling beyond the per-action budget is refused before the provider is asked, and a javascript: elicitation URL never reaches the human",
  permissions: MCP_PERMS,
  async fn() {
    let providerCalls = 0;
    let humanCalls = 0;
    const f = await makeMcpRuntime({
      config: "[budget]\nper_action_max_usd = 0.01\n",
      mcp: {
        elicit: {
          elicit: () => {
            humanCalls++;
            return Promise.resolve({ action: "accept" });
          },
        },
        sampling: {
          sample: () => {
            providerCalls++;
            return Promise.reject(new Error("unreachable"));
          },
        },
      },
    });
    try {
      await f.install("every", everything());
      assert.deepEqual((await f.boot()).refused, []);
      const sample = await f.invoke("every", "call_tool", {
        tool: "trigger-sampling-request",
        arguments: { prompt: "hello", maxTokens: 100_000 },
      }).catch((e) => ({ content: [{ type: "text", text: String(e) }] }));
      assert.doesNotMatch(text(sample), /unreachable/);
      assert.equal(providerCalls, 0);
      const bad = await f.invoke("every", "call_tool", {
        tool: "trigger-url-elicitation",
        arguments: { url: "javascript:alert(1)", elicitationId: "e2" },
      }).catch((e) => ({ content: [{ type: "text", text: String(e) }] }));
      assert.equal(humanCalls, 0, text(bad));
      const denied = (await f.audit("every")).filter((e) =>
        e.decision === "denied"
      ).map((e) => (e.action as Obj).type);
      assert.ok(denied.includes("mcp_sampling"), "the refusal is audited");
      assert.ok(denied.includes("mcp_elicitation"));
    } finally {
      await f.close();
    }
  },
});
