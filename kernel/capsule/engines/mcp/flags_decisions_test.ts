import assert from "node:assert/strict";
import type { CapsuleId } from "../../../core/ids.ts";
import { KernelError } from "../../../core/errors.ts";
import { makeGate } from "../../../security/_gate_fixture_test.ts";
import { brokerDecider } from "./broker_decider.ts";
import { decideFlags, flagChecks } from "./flags_decisions.ts";

const LOOPBACK = [
  "127.0.0.1",
  "localhost",
  "127.1",
  "2130706433",
  "0177.0.0.1",
  "::ffff:127.0.0.1",
];

async function decideNet(host: string, allowPrivate: boolean) {
  const f = await makeGate({
    mode: { mode: "autonomous" },
    grants: { mcp: { net: [host], mcp_servers: ["s"] } },
    ...(allowPrivate ? { policy: { allowPrivateNetworks: true } } : {}),
  });
  let n = 0;
  const ctx = () => f.ctx({ capsule: "mcp" as CapsuleId, callId: `c${++n}` });
  try {
    const checks = flagChecks(
      { fs_read: [], fs_write: [], net: [host], env: [] },
      { capsuleDir: "/caps/mcp", workspace: "/ws" },
    );
    let error: unknown = null;
    try {
      await decideFlags(
        brokerDecider(f.gate, { ctx, server: "s" }),
        checks,
        "s",
      );
    } catch (err) {
      error = err;
    }
    await f.gate.flush();
    const entries = await f.audit.query({ principal: ctx().principal });
    return { error, entries };
  } finally {
    await f.close();
  }
}

Deno.test({
  name:
    "`decideFlags()` refuses a loopback net grant in every spelling with POLICY_BLOCKED, audited before any launch",
  permissions: { read: true, write: true, env: true },
  async fn() {
    for (const host of LOOPBACK) {
      const { error, entries } = await decideNet(host, false);
      assert.ok(KernelError.is(error, "POLICY_BLOCKED"), `${host}: ${error}`);
      assert.match((error as Error).message, /net grant/);
      assert.deepEqual(
        entries.map((e) => [e.decision, (e.action as { value: string }).value]),
        [["denied", host]],
      );
    }
  },
});

Deno.test({
  name:
    "`decideFlags()` refuses an IPv6 loopback net grant (the manifest layer already refuses bare IPv6 values)",
  permissions: { read: true, write: true, env: true },
  async fn() {
    for (const host of ["::1", "[::1]"]) {
      const { error, entries } = await decideNet(host, false);
      assert.ok(
        KernelError.is(error, "MANIFEST_DENIED") ||
          KernelError.is(error, "POLICY_BLOCKED"),
        `${host}: ${error}`,
      );
      assert.deepEqual(entries.map((e) => e.decision), ["denied"]);
    }
  },
});

Deno.test({
  name:
    "`decideFlags()` lets the policy's allow_private_networks decide: the same grants pass, each audited",
  permissions: { read: true, write: true, env: true },
  async fn() {
    for (const host of ["127.0.0.1", "localhost"]) {
      const { error, entries } = await decideNet(host, true);
      assert.equal(error, null);
      assert.deepEqual(entries.map((e) => e.decision), ["allowed"]);
    }
  },
});

Deno.test({
  name:
    "`flagChecks()` turns read and write roots, hosts and env names into checks, never the capsule's own dir",
  permissions: "none",
  fn() {
    assert.deepEqual(
      flagChecks(
        {
          fs_read: ["cwd://docs", "/caps/mcp"],
          fs_write: ["cwd://out"],
          net: ["api.example.com", "*"],
          env: ["A", "A"],
        },
        { capsuleDir: "/caps/mcp", workspace: "/ws" },
      ),
      [
        { permission: "read", value: "/ws/docs" },
        { permission: "write", value: "/ws/out" },
        { permission: "net", value: "api.example.com" },
        { permission: "env", value: "A" },
      ],
    );
  },
});
