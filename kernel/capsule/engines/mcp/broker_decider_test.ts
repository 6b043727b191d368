import assert from "node:assert/strict";
import type { CapsuleId } from "../../../core/ids.ts";
import { createDenoNet } from "../../../host/deno_net.ts";
import { makeGate } from "../../../security/_gate_fixture_test.ts";
import { readerSource, runBrokeredChild } from "./_broker_child_test.ts";
import { brokerDecider } from "./broker_decider.ts";
import { startPermissionBroker } from "./permission_broker.ts";

const PERMS = {
  read: true,
  write: true,
  run: true,
  env: true,
  net: true,
} as const;

Deno.test({
  name:
    "`brokerDecider()` lets a real gate decide a child's checks: granted dir readable, /etc/passwd and env denied and audited",
  permissions: PERMS,
  async fn() {
    const dir = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "astrid_broker_gate_" }),
    );
    const f = await makeGate({
      grants: { mcp: { fs_read: [dir], mcp_servers: ["files"] } },
    });
    let n = 0;
    const fresh = () =>
      f.ctx({
        capsule: "mcp" as CapsuleId,
        workspace: dir,
        callId: `check-${++n}`,
      });
    const ctx = fresh();
    const broker = await startPermissionBroker({
      socketPath: `${dir}/broker.sock`,
      net: createDenoNet({ logger: f.logger }),
      logger: f.logger,
      decide: brokerDecider(f.gate, { ctx: fresh, server: "files" }),
    });
    try {
      await Deno.writeTextFile(`${dir}/a.txt`, "granted\n");
      const r = await runBrokeredChild(
        dir,
        broker.path,
        readerSource(`${dir}/a.txt`, "/etc/passwd"),
      );
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[0], "allowed ok granted");
      assert.equal(lines[1], "denied err NotCapable MANIFEST_DENIED");
      assert.equal(lines[2], "env err NotCapable MANIFEST_DENIED");
      await f.gate.flush();
      const entries = await f.audit.query({ principal: ctx.principal });
      const checks = entries.map((e) => ({
        action: e.action,
        decision: e.decision,
        capsule: e.capsule,
        callId: e.call_id,
      }));
      assert.deepEqual(checks.map((c) => c.action), [
        {
          type: "mcp_permission_check",
          server: "files",
          permission: "read",
          value: `${dir}/a.txt`,
        },
        {
          type: "mcp_permission_check",
          server: "files",
          permission: "read",
          value: "/etc/passwd",
        },
        {
          type: "mcp_permission_check",
          server: "files",
          permission: "env",
          value: "SECRET",
        },
      ]);
      assert.deepEqual(checks.map((c) => c.decision), [
        "allowed",
        "denied",
        "denied",
      ]);
      assert.ok(checks.every((c) => c.capsule === "mcp"));
      // Each check is its own decision: one call id each (issue 11, finding 7).
      const ids = checks.map((c) => c.callId);
      assert.equal(new Set(ids).size, ids.length, JSON.stringify(ids));
      assert.equal((await f.audit.verify(ctx.principal)).valid, true);
    } finally {
      await broker.close();
      await f.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
