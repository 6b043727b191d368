import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import { parsePrincipalId, parseSessionId } from "../../core/ids.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import { parseAllowance } from "./allowance.ts";
import {
  allowanceFromAction,
  allowancePatternFor,
} from "./allowance_from_action.ts";
import { matchesAllowancePattern } from "./allowance_pattern.ts";

const ctx: GateContext = {
  principal: parsePrincipalId("alice"),
  session: parseSessionId("00000000-0000-4000-8000-000000000001"),
  workspace: "/ws",
  callId: "c1",
};

Deno.test({
  name:
    "`allowancePatternFor()` builds the narrowest pattern for each reusable action",
  permissions: "none",
  fn() {
    const cases: Array<[Action, unknown]> = [
      [{ type: "mcp_tool_call", server: "fs", tool: "read" }, {
        type: "exact_tool",
        server: "fs",
        tool: "read",
      }],
      [{ type: "file_read", path: "/ws/a[1]*.txt" }, {
        type: "file_pattern",
        pattern: "/ws/a\\[1\\]\\*.txt",
        permission: "read",
      }],
      [{ type: "file_delete", path: "/ws/x" }, {
        type: "file_pattern",
        pattern: "/ws/x",
        permission: "delete",
      }],
      [{ type: "network_request", host: "a.io", port: 443 }, {
        type: "network_host",
        host: "a.io",
        ports: [443],
      }],
      [{ type: "execute_command", command: "git", args: ["status"] }, {
        type: "command_pattern",
        command: "git status",
      }],
      [{
        type: "capsule_process_spawn",
        capsule_id: "shell",
        command: "ls",
        args: ["-la"],
      }, { type: "command_pattern", command: "ls -la", capsule_id: "shell" }],
      [{ type: "capsule_net_bind", capsule_id: "web" }, {
        type: "capsule_capability",
        capsule_id: "web",
        capability: "net_bind",
      }],
      [{
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/x",
        mode: "delete",
      }, {
        type: "file_pattern",
        pattern: "/x",
        permission: "delete",
        capsule_id: "fs",
      }],
      [{
        type: "capsule_http_request",
        capsule_id: "fs",
        url: "https://api.example.com/v1?x=1",
        method: "GET",
      }, {
        type: "network_host",
        host: "api.example.com",
        ports: [443],
        capsule_id: "fs",
      }],
    ];
    for (const [action, pattern] of cases) {
      assert.deepEqual(allowancePatternFor(action), pattern, action.type);
      const built = allowancePatternFor(action);
      assert.ok(built !== null && matchesAllowancePattern(built, action));
    }
  },
});

Deno.test({
  name:
    "`allowancePatternFor()` refuses reuse for dangerous action kinds and metacharacter command lines",
  permissions: "none",
  fn() {
    const never: Action[] = [
      { type: "transmit_data", destination: "x", data_type: "pii" },
      { type: "financial_transaction", amount: "1", recipient: "r" },
      { type: "access_control_change", resource: "r", change: "c" },
      {
        type: "capability_grant",
        resource_pattern: "*",
        permissions: ["read"],
      },
      {
        type: "mcp_permission_check",
        server: "s",
        permission: "run",
        value: null,
      },
      { type: "overlay_commit", session_id: "s", paths: [] },
      { type: "secret_use", capsule_id: "c", name: "K", host: "h" },
      { type: "execute_command", command: "git", args: ["status", "&&", "id"] },
      { type: "execute_command", command: "sh", args: ["-c", "a\nb"] },
    ];
    for (const action of never) {
      assert.equal(allowancePatternFor(action), null, JSON.stringify(action));
    }
  },
});

Deno.test({
  name:
    "`allowanceFromAction()` binds session allowances to the session and workspace ones to the root",
  permissions: "none",
  fn() {
    const action: Action = { type: "file_write", path: "/ws/a" };
    const random = new SeededRandom(3);
    const session = allowanceFromAction(action, {
      scope: "session",
      ctx,
      now: 100,
      random,
      maxUses: 3,
      expiresAt: 200,
    });
    assert.ok(session !== null);
    assert.match(session.id, /^allowance:[0-9a-f-]{36}$/);
    assert.deepEqual({ ...session, id: "" }, {
      id: "",
      pattern: { type: "file_pattern", pattern: "/ws/a", permission: "write" },
      created_at: 100,
      expires_at: 200,
      max_uses: 3,
      uses_remaining: 3,
      scope: "session",
      session: ctx.session,
      workspace_root: "/ws",
      principal: ctx.principal,
    });
    const ws = allowanceFromAction(action, {
      scope: "workspace",
      ctx,
      now: 100,
      random,
    });
    assert.equal(ws?.session, null);
    assert.equal(ws?.workspace_root, "/ws");
    assert.equal(ws?.expires_at, null);
    assert.deepEqual(parseAllowance(ws), ws);
  },
});

Deno.test({
  name:
    "`allowanceFromAction()` throws RangeError for a non-positive use limit or a past expiry",
  permissions: "none",
  fn() {
    const action: Action = { type: "file_write", path: "/ws/a" };
    const base = {
      scope: "session",
      ctx,
      now: 100,
      random: new SeededRandom(1),
    } as const;
    assert.throws(
      () => allowanceFromAction(action, { ...base, maxUses: 0 }),
      RangeError,
    );
    assert.throws(
      () => allowanceFromAction(action, { ...base, maxUses: 1.5 }),
      RangeError,
    );
    assert.throws(
      () => allowanceFromAction(action, { ...base, expiresAt: 100 }),
      RangeError,
    );
  },
});

Deno.test({
  name: "`parseAllowance()` rejects malformed records naming the field",
  permissions: "none",
  fn() {
    const good = allowanceFromAction(
      { type: "mcp_tool_call", server: "s", tool: "t" },
      { scope: "workspace", ctx, now: 1, random: new SeededRandom(2) },
    )!;
    const broken: Array<[Record<string, unknown>, string]> = [
      [{ ...good, id: "allowance:nope" }, "id"],
      [{ ...good, scope: "forever" }, "scope"],
      [{ ...good, workspace_root: null }, "workspace_root"],
      [{ ...good, uses_remaining: 2 }, "uses_remaining"],
      [{ ...good, pattern: { type: "custom", pattern: "*" } }, "pattern.type"],
      [{
        ...good,
        pattern: { type: "network_host", host: "h", ports: [70000] },
      }, "pattern.ports"],
      [{ ...good, created_at: "yesterday" }, "created_at"],
    ];
    for (const [raw, field] of broken) {
      assert.throws(
        () => parseAllowance(raw),
        (e) =>
          KernelError.is(e, "INVALID_INPUT") && e.data?.["field"] === field,
        field,
      );
    }
  },
});
