import assert from "node:assert/strict";
import type { PrincipalId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import { actionCostMicros } from "./action_cost.ts";
import {
  type FixtureOptions,
  FS_GRANTS,
  makeGate,
  OTHER_SESSION,
} from "./_gate_fixture_test.ts";

const P = { read: true, write: true } as const;
const ME = "default" as PrincipalId;
/** The capsule `fs` runs MCP servers `a` and `b`. */
const GRANTS: FixtureOptions["grants"] = {
  fs: { ...FS_GRANTS, "mcp_servers": ["a", "b"] },
};

const read = (server: string, uri = "mem://notes/1"): Action => ({
  type: "mcp_resource_read",
  server,
  uri,
});
const openUrl = (url: string, server = "a"): Action => ({
  type: "mcp_elicitation",
  server,
  mode: "url",
  message: "Please log in",
  url,
});
const sample = (server: string, maxTokens = 1000): Action => ({
  type: "mcp_sampling",
  server,
  "max_tokens": maxTokens,
  "prompt_chars": 3000,
});

Deno.test({
  name:
    "`Gate.decide()` denies every MCP request of a server the manifest does not grant (MANIFEST_DENIED), without asking",
  permissions: P,
  async fn() {
    const f = await makeGate({
      grants: GRANTS,
      answers: [{ decision: "allow_once" }],
    });
    try {
      const actions: Action[] = [
        read("c"),
        { type: "mcp_prompt_get", server: "c", name: "p" },
        { type: "mcp_elicitation", server: "c", mode: "form", message: "?" },
        openUrl("https://github.com/", "c"),
        sample("c"),
        { type: "mcp_tool_call", server: "c", tool: "t" },
      ];
      for (const a of actions) {
        const d = await f.gate.decide(a, f.ctx());
        assert.ok(!d.allowed && d.code === "MANIFEST_DENIED", a.type);
      }
      assert.equal(f.handler.asked.length, 0);
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` refuses elicitation URLs with javascript:, credentials or a blocked host (POLICY_BLOCKED)",
  permissions: P,
  async fn() {
    const f = await makeGate({
      grants: GRANTS,
      mode: { mode: "yolo" },
      policy: { deniedHosts: ["evil.example"] },
    });
    try {
      for (
        const url of [
          "javascript:alert(document.cookie)",
          "data:text/html,<b>hi</b>",
          "file:///etc/passwd",
          "https://github.com@evil.example/",
          "https://user:secret@github.com/",
          "https://evil.example/login",
          "http://169.254.169.254/",
          "http://127.1:8080/",
        ]
      ) {
        const d = await f.gate.decide(openUrl(url), f.ctx());
        assert.ok(!d.allowed && d.code === "POLICY_BLOCKED", url);
      }
      const ok = await f.gate.decide(openUrl("https://github.com/x"), f.ctx());
      assert.ok(ok.allowed, "yolo mode allows a good URL elicitation");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` refuses a resource URI with NUL or over 2048 characters, even with a covering token",
  permissions: P,
  async fn() {
    const f = await makeGate({ grants: GRANTS, mode: { mode: "autonomous" } });
    try {
      await f.tokens.mint({
        principal: ME,
        resource: "mcp-resource://a/**",
        permissions: ["read"],
        ttlMs: 60_000,
        scope: "persistent",
      });
      for (
        const uri of [
          "mem://notes\0/x",
          `mem://${"x".repeat(2048)}`,
          "file:///ws/../etc/shadow",
        ]
      ) {
        const d = await f.gate.decide(read("a", uri), f.ctx());
        assert.ok(!d.allowed && d.code === "POLICY_BLOCKED", uri.slice(0, 20));
      }
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` allows MCP resource reads like tool calls and audits the action as is, args_hash included",
  permissions: P,
  async fn() {
    const f = await makeGate({ grants: GRANTS });
    try {
      const d = await f.gate.decide(read("a"), f.ctx());
      assert.ok(d.allowed && d.proof.type === "policy_allowed");
      const hash = "1f".repeat(32);
      const call: Action = {
        type: "mcp_tool_call",
        server: "a",
        tool: "search",
        "args_hash": hash,
      };
      const t = await f.gate.decide(call, f.ctx());
      assert.ok(t.allowed);
      const entry = await f.audit.get(ME, t.auditId);
      assert.deepEqual(entry?.action, call);
      assert.equal(f.handler.asked.length, 0);
      const bad = await f.gate.decide(
        { ...call, "args_hash": "nope" },
        f.ctx(),
      );
      assert.ok(!bad.allowed && bad.code === "POLICY_BLOCKED");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` asks before elicitation and sampling in the default (safe) mode, showing the URL's real host",
  permissions: P,
  async fn() {
    const f = await makeGate({ grants: GRANTS });
    try {
      const url = await f.gate.decide(
        openUrl("https://GitHub.com/login/device?next=evil"),
        f.ctx(),
      );
      assert.ok(!url.allowed && url.code === "APPROVAL_DEFERRED");
      const s = await f.gate.decide(sample("a"), f.ctx());
      assert.ok(!s.allowed && s.code === "APPROVAL_DEFERRED");
      const [asked1, asked2] = f.handler.asked;
      assert.equal(
        asked1?.summary,
        "MCP server 'a' asks you to open https://github.com/…",
      );
      assert.equal(asked1?.risk, "high");
      assert.equal(asked2?.risk, "medium");
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Session for server A's sampling does not cover server B",
  permissions: P,
  async fn() {
    const f = await makeGate({
      grants: GRANTS,
      answers: [{ decision: "allow_session" }, { decision: "deny" }],
    });
    try {
      assert.ok((await f.gate.decide(sample("a"), f.ctx())).allowed);
      const again = await f.gate.decide(sample("a", 50), f.ctx());
      assert.ok(again.allowed && again.proof.type === "allowance");
      const other = await f.gate.decide(sample("b"), f.ctx());
      assert.ok(!other.allowed && other.code === "APPROVAL_DENIED");
      const elsewhere = await f.gate.decide(
        sample("a"),
        f.ctx({ session: OTHER_SESSION }),
      );
      assert.ok(!elsewhere.allowed, "a session allowance stays in its session");
      assert.equal(f.handler.asked.length, 3);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Always for a URL elicitation mints a token for that server and host only",
  permissions: P,
  async fn() {
    const f = await makeGate({
      grants: GRANTS,
      answers: [{ decision: "allow_always" }],
    });
    try {
      const first = await f.gate.decide(
        openUrl("https://github.com/login"),
        f.ctx(),
      );
      assert.ok(first.allowed && first.mintedTokenId);
      const token = await f.tokens.get(first.mintedTokenId as never);
      assert.equal(token?.claims.resource, "mcp-elicit://a/url/github.com");
      const again = await f.gate.decide(
        openUrl("https://github.com/other"),
        f.ctx(),
      );
      assert.ok(again.allowed && again.proof.type === "capability");
      for (
        const a of [
          openUrl("https://gitlab.com/login"),
          openUrl("https://github.com/login", "b"),
          { type: "mcp_elicitation", server: "a", mode: "form", message: "?" },
        ] satisfies Action[]
      ) {
        const d = await f.gate.decide(a, f.ctx());
        assert.ok(!d.allowed, JSON.stringify(a));
      }
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.run()` reserves and commits the sampling price even when the caller estimates less",
  permissions: P,
  async fn() {
    const f = await makeGate({ grants: GRANTS, mode: { mode: "autonomous" } });
    try {
      const price = actionCostMicros(sample("a"));
      assert.equal(price, 15_000 + 75_000); // 1,000 prompt tokens + 1,000 output tokens
      let during = -1;
      await f.gate.run(sample("a"), f.ctx(), {
        estimatedCostMicros: 1,
        effect: async () => {
          during = (await f.budget.snapshot(f.ctx())).sessionSpentMicros;
        },
      });
      assert.equal(during, price, "reserved before the effect runs");
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        price,
      );
      await f.gate.run(sample("a"), f.ctx(), {
        estimatedCostMicros: 500_000,
        effect: () => Promise.resolve(),
      });
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        price + 500_000,
        "a higher caller estimate wins",
      );
      await assert.rejects(
        f.gate.run(sample("a"), f.ctx(), {
          effect: () => Promise.reject(new Error("provider down")),
        }),
      );
      assert.equal(
        (await f.budget.snapshot(f.ctx())).sessionSpentMicros,
        price + 500_000,
        "a failed sampling call is refunded",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` denies sampling over the budget with BUDGET_EXCEEDED, even with a token, and reserves nothing",
  permissions: P,
  async fn() {
    const f = await makeGate({
      grants: GRANTS,
      mode: { mode: "autonomous" },
      limits: { sessionMaxMicros: 1_000_000 },
    });
    try {
      await f.tokens.mint({
        principal: ME,
        resource: "mcp-sampling://a",
        permissions: ["invoke"],
        ttlMs: 60_000,
        scope: "persistent",
      });
      // 200,000 output tokens ⇒ $15, over the $10 per-action limit.
      const huge = await f.gate.decide(sample("a", 200_000), f.ctx());
      assert.ok(!huge.allowed && huge.code === "BUDGET_EXCEEDED");
      assert.match(!huge.allowed ? huge.reason : "", /per-action limit/);
      // 14,000 tokens ⇒ $1.065, over the $1 session budget.
      const over = await f.gate.decide(sample("a", 14_000), f.ctx());
      assert.ok(!over.allowed && over.code === "BUDGET_EXCEEDED");
      assert.match(!over.allowed ? over.reason : "", /session budget/);
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
      const fits = await f.gate.decide(sample("a", 10_000), f.ctx());
      assert.ok(fits.allowed && fits.proof.type === "capability");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` blocks sampling with zero, negative or huge max_tokens before reserving anything",
  permissions: P,
  async fn() {
    const f = await makeGate({ grants: GRANTS, mode: { mode: "yolo" } });
    try {
      for (const n of [0, -1, 1_000_001, 2 ** 60]) {
        const d = await f.gate.decide(sample("a", n), f.ctx(), {
          estimatedCostMicros: 1000,
        });
        assert.ok(!d.allowed && d.code === "POLICY_BLOCKED", String(n));
      }
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
    } finally {
      await f.close();
    }
  },
});
