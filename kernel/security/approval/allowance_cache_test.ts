// Tests of the in-memory copy of allowances kept by `AllowanceStore`: every
// mutation through the same instance takes effect at once, the store record
// still decides every use, and a fresh instance (a restart) sees everything.
import assert from "node:assert/strict";
import { parsePrincipalId, parseSessionId } from "../../core/ids.ts";
import { openKv } from "../../host/open_kv.ts";
import { KvStore } from "../../store/kv_store.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import { ALLOWANCE_NAMESPACE, AllowanceStore } from "./allowance_store.ts";

const S1 = parseSessionId("00000000-0000-4000-8000-000000000001");
const ALICE = parsePrincipalId("alice");
const CTX: GateContext = {
  principal: ALICE,
  session: S1,
  workspace: "/ws",
  callId: "call",
};
const TOOL: Action = { type: "mcp_tool_call", server: "fs", tool: "ls" };

async function setup(): Promise<{
  store: KvStore;
  allowances: AllowanceStore;
  clock: FakeClock;
}> {
  const store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000);
  const allowances = new AllowanceStore({
    store,
    clock,
    random: new SeededRandom(3),
  });
  return { store, allowances, clock };
}

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` refuses an allowance revoked through the same instance right after using it",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const a = await allowances.grant(TOOL, CTX, { scope: "session" });
    assert.equal((await allowances.findAndConsume(TOOL, CTX))?.id, a!.id);
    assert.equal((await allowances.findAndConsume(TOOL, CTX))?.id, a!.id);
    assert.equal(await allowances.revoke(ALICE, a!.id), true);
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);
    assert.equal(await allowances.clearSession(ALICE, S1), 0);
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` stops at max_uses and after clearSession() in the same instance",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    await allowances.grant(TOOL, CTX, { scope: "session", maxUses: 2 });
    assert.equal(
      (await allowances.findAndConsume(TOOL, CTX))?.uses_remaining,
      1,
    );
    assert.equal(
      (await allowances.findAndConsume(TOOL, CTX))?.uses_remaining,
      0,
    );
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);

    await allowances.grant(TOOL, CTX, { scope: "session" });
    assert.ok(await allowances.findAndConsume(TOOL, CTX));
    assert.equal(await allowances.clearSession(ALICE, S1), 1);
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` honours a deletion or an edit made in the store behind its back",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const a = await allowances.grant(TOOL, CTX, { scope: "session" });
    assert.ok(await allowances.findAndConsume(TOOL, CTX));
    await store.delete([ALLOWANCE_NAMESPACE, ALICE, a!.id]);
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);

    const b = await allowances.grant(TOOL, CTX, { scope: "session" });
    assert.ok(await allowances.findAndConsume(TOOL, CTX));
    await store.set([ALLOWANCE_NAMESPACE, ALICE, b!.id], {
      ...b!,
      "workspace_root": "/elsewhere",
    } as never);
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` refuses an allowance once it expires, with the cache warm",
  permissions: "none",
  async fn() {
    const { store, allowances, clock } = await setup();
    await using _ = store;
    const a = await allowances.grant(TOOL, CTX, {
      scope: "session",
      ttlMs: 1_000,
    });
    assert.ok(await allowances.findAndConsume(TOOL, CTX));
    clock.advance(1_000);
    assert.equal(await allowances.findAndConsume(TOOL, CTX), null);
    assert.equal(await store.get([ALLOWANCE_NAMESPACE, ALICE, a!.id]), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore` on the same store after a restart sees grants, uses and revocations",
  permissions: "none",
  async fn() {
    const { store, allowances, clock } = await setup();
    await using _ = store;
    const limited = await allowances.grant(TOOL, CTX, {
      scope: "workspace",
      maxUses: 3,
    });
    assert.equal((await allowances.findAndConsume(TOOL, CTX))?.id, limited!.id);
    const git: Action = {
      type: "execute_command",
      command: "git",
      args: ["status"],
    };
    const revoked = await allowances.grant(git, CTX, { scope: "session" });
    assert.ok(await allowances.findAndConsume(git, CTX));
    await allowances.revoke(ALICE, revoked!.id);

    const fresh = new AllowanceStore({
      store,
      clock,
      random: new SeededRandom(4),
    });
    assert.equal((await fresh.findAndConsume(TOOL, CTX))?.uses_remaining, 1);
    assert.equal(await fresh.findAndConsume(git, CTX), null);
    // A grant through the fresh instance is seen by it at once.
    await fresh.grant(git, CTX, { scope: "session" });
    assert.ok(await fresh.findAndConsume(git, CTX));
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` sees an allowance granted while its cache is being loaded",
  permissions: "none",
  async fn() {
    const { store, allowances } = await setup();
    await using _ = store;
    const [none, granted] = await Promise.all([
      allowances.findAndConsume(TOOL, CTX),
      allowances.grant(TOOL, CTX, { scope: "session" }),
    ]);
    assert.ok(none === null || none.id === granted!.id);
    assert.equal((await allowances.findAndConsume(TOOL, CTX))?.id, granted!.id);
  },
});

Deno.test({
  name:
    "`AllowanceStore` sharing a store with another: an allowance the other granted after this cache loaded applies at once, and one it revoked is refused at once",
  permissions: "none",
  async fn() {
    const { store, allowances: a, clock } = await setup();
    await using _ = store;
    const b = new AllowanceStore({ store, clock, random: new SeededRandom(4) });
    assert.equal(await a.findAndConsume(TOOL, CTX), null); // A loads: none
    const granted = await b.grant(TOOL, CTX, { scope: "workspace" });
    assert.ok(granted);
    assert.equal((await a.findAndConsume(TOOL, CTX))?.id, granted.id);
    assert.equal(await b.revoke(ALICE, granted.id), true);
    assert.equal(await a.findAndConsume(TOOL, CTX), null);
  },
});

Deno.test({
  name:
    "`AllowanceStore.findAndConsume()` on a loaded cache reads the epoch and the candidate's record in one round trip",
  permissions: "none",
  async fn() {
    const inner = new KvStore(await openKv(":memory:"));
    let reads = 0;
    const store = new Proxy(inner, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (key === "get" || key === "getMany" || key === "list") reads++;
          return value.apply(target, args);
        };
      },
    });
    await using _ = inner;
    const a = new AllowanceStore({
      store,
      clock: new FakeClock(1_000),
      random: new SeededRandom(5),
    });
    const granted = await a.grant(TOOL, CTX, { scope: "workspace" });
    assert.ok(await a.findAndConsume(TOOL, CTX)); // loads (epoch moved)
    const before = reads;
    assert.equal((await a.findAndConsume(TOOL, CTX))?.id, granted?.id);
    assert.equal(reads, before + 1);
  },
});
