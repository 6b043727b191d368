import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import {
  parseCapsuleId,
  parsePrincipalId,
  parseSessionId,
} from "../../core/ids.ts";
import { openKv } from "../../host/open_kv.ts";
import { KvStore } from "../../store/kv_store.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { GateContext } from "../context.ts";
import {
  DEFERRED_NAMESPACE,
  DEFERRED_TTL_MS,
  DeferredQueue,
  type DeferRequest,
} from "./deferred_queue.ts";

const ALICE = parsePrincipalId("alice");
const BOB = parsePrincipalId("bob");

function ctx(principal = "alice"): GateContext {
  return {
    principal: parsePrincipalId(principal),
    session: parseSessionId("00000000-0000-4000-8000-000000000001"),
    capsule: parseCapsuleId("shell"),
    workspace: "/ws",
    callId: "call-7",
  };
}

function request(over: Partial<DeferRequest> = {}): DeferRequest {
  return {
    action: { type: "execute_command", command: "rm", args: ["-r", "build"] },
    ctx: ctx(),
    summary: "Run rm -r build",
    risk: "high",
    reason: "approval request timed out",
    ...over,
  };
}

async function setup(): Promise<
  { store: KvStore; queue: DeferredQueue; clock: FakeClock }
> {
  const store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(10_000);
  const queue = new DeferredQueue({
    store,
    clock,
    random: new SeededRandom(4),
  });
  return { store, queue, clock };
}

function notFound(e: unknown): boolean {
  return KernelError.is(e, "DEFERRED_NOT_FOUND");
}

Deno.test({
  name:
    "`DeferredQueue.add()` persists the action, context and reason with a 24 h expiry",
  permissions: "none",
  async fn() {
    const { store, queue } = await setup();
    await using _ = store;
    const item = await queue.add(request());
    assert.match(item.id, /^resolution:[0-9a-f-]{36}$/);
    assert.deepEqual(item, {
      ...request(),
      id: item.id,
      queued_at: 10_000,
      expires_at: 10_000 + DEFERRED_TTL_MS,
    });
    assert.equal(DEFERRED_TTL_MS, 86_400_000);
    assert.deepEqual(await queue.get(item.id), item);
  },
});

Deno.test({
  name: "`DeferredQueue.list()` returns one principal's items oldest first",
  permissions: "none",
  async fn() {
    const { store, queue, clock } = await setup();
    await using _ = store;
    const first = await queue.add(request());
    await clock.advance(5);
    const bobs = await queue.add(request({ ctx: ctx("bob") }));
    await clock.advance(5);
    const second = await queue.add(request({ summary: "again" }));
    assert.deepEqual(
      (await queue.list(ALICE)).map((i) => i.id),
      [first.id, second.id],
    );
    assert.deepEqual(await queue.list(BOB), [bobs]);
  },
});

Deno.test({
  name: "`DeferredQueue.list()` excludes and purges items older than 24 hours",
  permissions: "none",
  async fn() {
    const { store, queue, clock } = await setup();
    await using _ = store;
    const old = await queue.add(request());
    await clock.advance(DEFERRED_TTL_MS - 1);
    const fresh = await queue.add(request());
    assert.equal((await queue.list(ALICE)).length, 2);
    await clock.advance(1);
    assert.deepEqual(await queue.list(ALICE), [fresh]);
    assert.equal(await store.get([DEFERRED_NAMESPACE, old.id]), null);
    assert.equal(await queue.get(old.id), null);
  },
});

Deno.test({
  name:
    "`DeferredQueue.take()` removes the item once; a second take fails DEFERRED_NOT_FOUND",
  permissions: "none",
  async fn() {
    const { store, queue } = await setup();
    await using _ = store;
    const item = await queue.add(request());
    assert.deepEqual(await queue.take(item.id), item);
    await assert.rejects(queue.take(item.id), notFound);
    assert.equal(await queue.get(item.id), null);
  },
});

Deno.test({
  name: "`DeferredQueue.take()` lets exactly one of two concurrent takes win",
  permissions: "none",
  async fn() {
    const { store, queue } = await setup();
    await using _ = store;
    const item = await queue.add(request());
    const results = await Promise.allSettled([
      queue.take(item.id),
      queue.take(item.id),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const lost = results.find((r) => r.status === "rejected");
    assert.ok(lost && notFound(lost.reason));
  },
});

Deno.test({
  name:
    "`DeferredQueue.take()` refuses expired, unknown, malformed and foreign-principal ids",
  permissions: "none",
  async fn() {
    const { store, queue, clock } = await setup();
    await using _ = store;
    const item = await queue.add(request());
    await assert.rejects(queue.take(item.id, { principal: BOB }), notFound);
    await assert.rejects(
      queue.take("resolution:00000000-0000-4000-8000-000000000000"),
      notFound,
    );
    await assert.rejects(queue.take("../../etc"), notFound);
    assert.equal(await queue.get(item.id, { principal: BOB }), null);
    await clock.advance(DEFERRED_TTL_MS);
    await assert.rejects(queue.take(item.id), notFound);
    assert.equal(await store.get([DEFERRED_NAMESPACE, item.id]), null);
  },
});

Deno.test({
  name: "`DeferredQueue.expire()` deletes expired and malformed items only",
  permissions: "none",
  async fn() {
    const { store, queue, clock } = await setup();
    await using _ = store;
    await queue.add(request());
    await clock.advance(DEFERRED_TTL_MS);
    const fresh = await queue.add(request());
    await store.set([DEFERRED_NAMESPACE, "junk"], { nope: true });
    assert.equal(await queue.expire(), 2);
    assert.deepEqual(await queue.list(ALICE), [fresh]);
    assert.equal(await queue.expire(), 0);
  },
});

Deno.test({
  name: "`DeferredQueue` keeps pending items across a restart",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_deferred_" });
    try {
      const file = path.join(dir, "state.kv");
      const clock = new FakeClock(0);
      const first = new KvStore(await openKv(file));
      let id: string;
      try {
        const q = new DeferredQueue({
          store: first,
          clock,
          random: new SeededRandom(1),
        });
        id = (await q.add(request())).id;
      } finally {
        await first.close();
      }
      await using second = new KvStore(await openKv(file));
      const q = new DeferredQueue({
        store: second,
        clock,
        random: new SeededRandom(2),
      });
      const taken = await q.take(id, { principal: ALICE });
      assert.deepEqual(taken.ctx, ctx());
      assert.deepEqual(taken.action, request().action);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
