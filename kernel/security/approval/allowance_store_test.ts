import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import {
  parsePrincipalId,
  parseSessionId,
  type SessionId,
} from "../../core/ids.ts";
import { openKv } from "../../host/open_kv.ts";
import { KvStore } from "../../store/kv_store.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import { ALLOWANCE_NAMESPACE, AllowanceStore } from "./allowance_store.ts";

const S1 = parseSessionId("00000000-0000-4000-8000-000000000001");
const S2 = parseSessionId("00000000-0000-4000-8000-000000000002");
const ALICE = parsePrincipalId("alice");
const BOB = parsePrincipalId("bob");

function ctx(
  over: { principal?: string; session?: SessionId; workspace?: string } = {},
): GateContext {
  return {
    principal: parsePrincipalId(over.principal ?? "alice"),
    session: over.session ?? S1,
    workspace: over.workspace ?? "/ws",
    callId: "call",
  };
}

const git = (...args: string[]): Action => ({
  type: "execute_command",
  command: "git",
  args,
});

async function setup(
  clock = new FakeClock(1_000),
): Promise<{ store: KvStore; allowances: AllowanceStore; clock: FakeClock }> {
  const store = new KvStore(await openKv(":memory:"));
  const allowances = new AllowanceStore({
    store,
    clock,
    random: new SeededRandom(9),
  });
  return { store, allowances, clock };
}

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` lets the approved command through and refuses bypass variants",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    await allowances.grant(git("status"), ctx(), { scope: "session" });
    assert.ok(await allowances.findAndConsume(git("status"), ctx()));
    const bypasses = [
      git("status;", "rm", "-rf", "~"),
      git("status", "&&", "curl", "x"),
      git("status", "$(id)"),
      git("status\nrm -rf ~"),
      git("status", "--exec=sh"),
      git(),
      { type: "execute_command", command: "git status", args: [] } as Action,
    ];
    for (const action of bypasses) {
      assert.equal(
        await allowances.findAndConsume(action, ctx()),
        null,
        JSON.stringify(action),
      );
    }
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` grants exactly 5 of 50 concurrent uses of a max_uses=5 allowance",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const action: Action = { type: "mcp_tool_call", server: "fs", tool: "rm" };
    const granted = await allowances.grant(action, ctx(), {
      scope: "session",
      maxUses: 5,
    });
    assert.equal(granted?.uses_remaining, 5);
    const results = await Promise.all(
      Array.from(
        { length: 50 },
        () => allowances.findAndConsume(action, ctx()),
      ),
    );
    const used = results.filter((r) => r !== null);
    assert.equal(used.length, 5);
    assert.deepEqual(
      used.map((r) => r!.uses_remaining).sort(),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(await allowances.list(ALICE), []);
    assert.equal(await allowances.findAndConsume(action, ctx()), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore` session allowances stay in their session and `clearSession()` removes only them",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const read: Action = { type: "file_read", path: "/ws/a" };
    const write: Action = { type: "file_write", path: "/ws/a" };
    await allowances.grant(read, ctx({ session: S1 }), { scope: "session" });
    await allowances.grant(write, ctx({ session: S1 }), { scope: "workspace" });
    assert.equal(
      await allowances.findAndConsume(read, ctx({ session: S2 })),
      null,
    );
    assert.ok(await allowances.findAndConsume(write, ctx({ session: S2 })));
    assert.equal(await allowances.clearSession(ALICE, S1), 1);
    assert.equal(
      await allowances.findAndConsume(read, ctx({ session: S1 })),
      null,
    );
    assert.ok(await allowances.findAndConsume(write, ctx({ session: S1 })));
  },
});

Deno.test({
  name:
    "`AllowanceStore` workspace allowances match only the exact workspace root",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const call: Action = { type: "mcp_tool_call", server: "fs", tool: "read" };
    await allowances.grant(call, ctx({ workspace: "/ws" }), {
      scope: "workspace",
    });
    for (const workspace of ["/ws/", "/ws/sub", "/wsx", "/WS", "/"]) {
      assert.equal(
        await allowances.findAndConsume(call, ctx({ workspace, session: S2 })),
        null,
        workspace,
      );
    }
    assert.ok(await allowances.findAndConsume(call, ctx({ session: S2 })));
  },
});

Deno.test({
  name:
    "`AllowanceStore` never lets one principal use or see another's allowances",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const call: Action = { type: "mcp_tool_call", server: "fs", tool: "read" };
    const a = await allowances.grant(call, ctx(), { scope: "workspace" });
    assert.equal(
      await allowances.findAndConsume(call, ctx({ principal: "bob" })),
      null,
    );
    assert.deepEqual(await allowances.list(BOB), []);
    assert.equal(await allowances.revoke(BOB, a!.id), false);
    assert.deepEqual(await allowances.list(ALICE), [a]);
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` ignores and purges an expired allowance",
  permissions: "none",
  async fn() {
    const { store, allowances, clock } = await setup();
    await using _ = store;
    const call: Action = { type: "mcp_tool_call", server: "fs", tool: "read" };
    await allowances.grant(call, ctx(), { scope: "session", ttlMs: 60_000 });
    await clock.advance(59_999);
    assert.ok(await allowances.findAndConsume(call, ctx()));
    await clock.advance(1);
    assert.equal(await allowances.findAndConsume(call, ctx()), null);
    const left = [];
    for await (const e of store.list([ALLOWANCE_NAMESPACE])) left.push(e);
    assert.deepEqual(left, []);
  },
});

Deno.test({
  name:
    "`AllowanceStore.revoke()` removes an allowance so it no longer matches",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const call: Action = { type: "network_request", host: "a.io", port: 443 };
    const a = await allowances.grant(call, ctx(), { scope: "session" });
    assert.equal(await allowances.revoke(ALICE, a!.id), true);
    assert.equal(await allowances.revoke(ALICE, a!.id), false);
    assert.equal(await allowances.revoke(ALICE, "not-an-id"), false);
    assert.equal(await allowances.findAndConsume(call, ctx()), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore.list()` returns valid allowances oldest first, filtered by session and workspace",
  permissions: "none",
  async fn() {
    const { store, allowances, clock } = await setup();
    await using _ = store;
    const a = await allowances.grant(git("status"), ctx({ session: S1 }), {
      scope: "session",
    });
    await clock.advance(1);
    const b = await allowances.grant(git("log"), ctx({ workspace: "/other" }), {
      scope: "workspace",
    });
    assert.deepEqual(await allowances.list(ALICE), [a, b]);
    assert.deepEqual(await allowances.list(ALICE, { session: S2 }), [b]);
    assert.deepEqual(await allowances.list(ALICE, { workspace: "/ws" }), [a]);
  },
});

Deno.test({
  name:
    "`AllowanceStore.grant()` returns null for actions that may not be reused and stores nothing",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const pay: Action = {
      type: "financial_transaction",
      amount: "10",
      recipient: "x",
    };
    assert.equal(
      await allowances.grant(pay, ctx(), { scope: "session" }),
      null,
    );
    assert.deepEqual(await allowances.list(ALICE), []);
    await assert.rejects(
      allowances.grant(git("x"), ctx(), { scope: "session", ttlMs: 0 }),
      RangeError,
    );
  },
});

Deno.test({
  name:
    "`AllowanceStore.add()` refuses a duplicate id and a malformed allowance",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const a = await allowances.grant(git("status"), ctx(), {
      scope: "session",
    });
    await assert.rejects(
      allowances.add(a!),
      (e) =>
        KernelError.is(e, "INVALID_INPUT") && /already exists/.test(e.message),
    );
    await assert.rejects(
      allowances.add({ ...a!, id: "allowance:x" }),
      (e) => KernelError.is(e, "INVALID_INPUT"),
    );
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` treats a tampered, malformed record as no grant",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const a = await allowances.grant(git("status"), ctx(), {
      scope: "session",
    });
    await store.set([ALLOWANCE_NAMESPACE, "alice", a!.id], {
      ...a!,
      pattern: { type: "custom", pattern: "*" },
    } as never);
    assert.equal(await allowances.findAndConsume(git("status"), ctx()), null);
    assert.deepEqual(await allowances.list(ALICE), []);
  },
});

Deno.test({
  name: "`AllowanceStore` keeps workspace allowances across a restart",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_allow_" });
    try {
      const file = path.join(dir, "state.kv");
      const call: Action = { type: "mcp_tool_call", server: "fs", tool: "ls" };
      const first = new KvStore(await openKv(file));
      try {
        const allowances = new AllowanceStore({
          store: first,
          clock: new FakeClock(0),
          random: new SeededRandom(1),
        });
        await allowances.grant(call, ctx(), { scope: "workspace", maxUses: 2 });
        assert.ok(await allowances.findAndConsume(call, ctx()));
      } finally {
        await first.close();
      }
      await using second = new KvStore(await openKv(file));
      const allowances = new AllowanceStore({
        store: second,
        clock: new FakeClock(0),
        random: new SeededRandom(2),
      });
      const used = await allowances.findAndConsume(call, ctx({ session: S2 }));
      assert.equal(used?.uses_remaining, 0);
      assert.equal(await allowances.findAndConsume(call, ctx()), null);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
