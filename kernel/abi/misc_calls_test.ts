import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId, PrincipalId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import { makeAbi } from "./_abi_fixture_test.ts";

const P = { read: true, write: true, env: true } as const;
const code = (c: string) => (e: unknown) => KernelError.is(e, c as never);

async function chain(f: Awaited<ReturnType<typeof makeAbi>>) {
  await f.gate.flush();
  return (await f.audit.query({ principal: "default" as PrincipalId })).map(
    (e) => [e.decision, (e.action as { type: string }).type],
  );
}

Deno.test({
  name:
    "host call approval_request without [capabilities] approval is refused with MANIFEST_DENIED, audited, and the human is never asked",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: {} },
      answers: [{ decision: "allow_once" }],
    });
    try {
      await assert.rejects(
        f.call("approval_request", { action: "wipe", resource: "prod" }),
        code("MANIFEST_DENIED"),
      );
      assert.equal(f.handler.asked.length, 0);
      assert.deepEqual(await chain(f), [[
        "denied",
        "capsule_approval_request",
      ]]);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call approval_request is rate-limited per capsule (ABI_RATE_LIMITED, audited) and allowed again a minute later",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { other: ["approval_request"] } },
      answers: [
        { decision: "allow_once" },
        { decision: "deny" },
        { decision: "allow_once" },
      ],
      deps: { approvalRatePerMinute: 2 },
    });
    try {
      const { call } = f.dispatcher("fs");
      const ask = () =>
        call("approval_request", { action: "deploy", resource: "prod" }, {
          signal: new AbortController().signal,
        });
      assert.deepEqual(await ask(), { approved: true, decision: "allow_once" });
      assert.deepEqual(await ask(), { approved: false, decision: "deny" });
      await assert.rejects(ask(), code("ABI_RATE_LIMITED"));
      assert.equal(f.handler.asked.length, 2);
      f.clock.advance(60_000);
      assert.deepEqual(await ask(), { approved: true, decision: "allow_once" });
      assert.deepEqual(await chain(f), [
        ["allowed", "capsule_approval_request"],
        ["allowed", "capsule_execution"],
        ["allowed", "capsule_approval_request"],
        ["denied", "capsule_execution"],
        ["denied", "capsule_approval_request"],
        ["allowed", "capsule_approval_request"],
        ["allowed", "capsule_execution"],
      ]);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call elicit for an undeclared secret is refused with MANIFEST_DENIED before the human is asked, and nothing is stored",
  permissions: P,
  async fn() {
    const asked: JsonValue[] = [];
    const f = await makeAbi({
      grants: { fs: { secrets: ["API_KEY"], env: ["REGION"] } },
      deps: {
        elicit: {
          request: (req) => {
            asked.push(req.key);
            return Promise.resolve(req.type === "secret" ? "sk-1" : "eu");
          },
        },
      },
    });
    try {
      await assert.rejects(
        f.call("elicit", { type: "secret", key: "OTHER_KEY" }),
        code("MANIFEST_DENIED"),
      );
      await assert.rejects(
        f.call("elicit", { type: "text", key: "API_KEY" }),
        code("MANIFEST_DENIED"),
        "a secret is never asked as plain text",
      );
      assert.deepEqual(asked, []);
      assert.deepEqual(
        await f.call("elicit", { type: "secret", key: "API_KEY" }),
        { value: null },
      );
      assert.deepEqual(
        await f.call("elicit", { type: "text", key: "REGION" }),
        {
          value: "eu",
        },
      );
      assert.deepEqual([...f.secrets.values], [["fs/API_KEY", "sk-1"]]);
      assert.deepEqual(await chain(f), [
        ["denied", "capsule_elicit"],
        ["denied", "capsule_elicit"],
        ["allowed", "capsule_elicit"],
        ["allowed", "capsule_elicit"],
      ]);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call ipc_request accepts a deadline of up to 30 minutes (a model or tool call) and refuses a longer one with INVALID_INPUT",
  permissions: P,
  async fn() {
    const f = await makeAbi({ withBus: true, grants: { fs: {} } });
    try {
      const bus = f.bus!;
      bus.registerCapsule("fs" as CapsuleId, {
        publish: ["ask.v1.*"],
        subscribe: [],
      });
      bus.registerCapsule("peer" as CapsuleId, {
        publish: [],
        subscribe: ["ask.v1.*"],
      });
      bus.subscribe("peer" as CapsuleId, {
        pattern: "ask.v1.*",
        handler: () => ({ answered: true }),
      });
      const ask = (timeout_ms: number) =>
        f.call("ipc_request", { topic: "ask.v1.q", payload: {}, timeout_ms });
      assert.deepEqual(await ask(30 * 60_000), {
        payload: { answered: true },
      });
      await assert.rejects(ask(30 * 60_000 + 1), code("INVALID_INPUT"));
    } finally {
      await f.dispose();
    }
  },
});
