import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import { parsePrincipalId, parseSessionId } from "../../core/ids.ts";
import { openKv } from "../../host/open_kv.ts";
import { KvStore } from "../../store/kv_store.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { MemoryLogger } from "../../testing/memory_logger.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import type {
  ApprovalHandler,
  ApprovalHandlerRequestOptions,
  ApprovalRequest,
  ApprovalResponse,
} from "./handler.ts";
import { ApprovalManager } from "./manager.ts";

const TIMEOUT_MS = 300_000;
const ALICE = parsePrincipalId("alice");
const ctx: GateContext = {
  principal: ALICE,
  session: parseSessionId("00000000-0000-4000-8000-000000000001"),
  workspace: "/ws",
  callId: "call-1",
};
const action: Action = { type: "file_delete", path: "/ws/build" };
const ask = { summary: "Delete /ws/build", risk: "high" } as const;

/** A frontend whose human answers when the test says so. */
class ScriptedHandler implements ApprovalHandler {
  available = true;
  requests: ApprovalRequest[] = [];
  signals: AbortSignal[] = [];
  #answer: (r: unknown) => void = () => {};
  #fail: (e: unknown) => void = () => {};

  isAvailable(): boolean {
    return this.available;
  }

  request(
    req: ApprovalRequest,
    options: ApprovalHandlerRequestOptions,
  ): Promise<ApprovalResponse | null> {
    this.requests.push(req);
    this.signals.push(options.signal);
    return new Promise((resolve, reject) => {
      this.#answer = resolve as (r: unknown) => void;
      this.#fail = reject;
    });
  }

  answer(response: unknown): void {
    this.#answer(response);
  }

  fail(error: unknown): void {
    this.#fail(error);
  }
}

async function setup(): Promise<{
  store: KvStore;
  manager: ApprovalManager;
  clock: FakeClock;
  logger: MemoryLogger;
  handler: ScriptedHandler;
}> {
  const store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000);
  const logger = new MemoryLogger();
  const manager = new ApprovalManager({
    store,
    clock,
    logger,
    random: new SeededRandom(5),
    timeoutMs: TIMEOUT_MS,
  });
  const handler = new ScriptedHandler();
  manager.setHandler(handler);
  return { store, manager, clock, logger, handler };
}

/** Lets the handler receive the request. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test({
  name:
    "`ApprovalManager.ask()` defers and queues the request when no handler is registered",
  permissions: "none",
  async fn() {
    const { store, manager } = await setup();
    await using _ = store;
    manager.setHandler(null);
    const out = await manager.ask(action, ctx, ask);
    assert.equal(out.kind, "deferred");
    if (out.kind !== "deferred") return;
    assert.equal(out.reason, "no approval handler registered");
    const [queued, ...rest] = await manager.deferred.list(ALICE);
    assert.deepEqual(rest, []);
    assert.deepEqual(queued, {
      id: out.resolutionId,
      action,
      ctx,
      summary: ask.summary,
      risk: ask.risk,
      reason: "no approval handler registered",
      queued_at: 1_000,
      expires_at: 1_000 + 86_400_000,
    });
  },
});

Deno.test({
  name:
    "`ApprovalManager.ask()` defers without asking when the handler is unavailable",
  permissions: "none",
  async fn() {
    const { store, manager, handler } = await setup();
    await using _ = store;
    handler.available = false;
    const out = await manager.ask(action, ctx, ask);
    assert.equal(
      out.kind === "deferred" && out.reason,
      "approval handler unavailable",
    );
    assert.equal(handler.requests.length, 0);
  },
});

Deno.test({
  name:
    "`ApprovalManager.ask()` returns the human's answer with the request that offered all five options",
  permissions: "none",
  async fn() {
    const { store, manager, handler, clock } = await setup();
    await using _ = store;
    const pending = manager.ask(action, ctx, ask);
    await tick();
    assert.equal(clock.pendingSleeps, 1);
    const [req] = handler.requests;
    assert.ok(req);
    assert.match(req.id, /^approval:[0-9a-f-]{36}$/);
    assert.deepEqual({ ...req, id: "" }, {
      id: "",
      action,
      summary: ask.summary,
      risk: "high",
      ctx,
      options: [
        "allow_once",
        "allow_session",
        "allow_workspace",
        "allow_always",
        "deny",
      ],
      created_at: 1_000,
    });
    handler.answer({ decision: "allow_session", reason: "fine" });
    assert.deepEqual(await pending, {
      kind: "answered",
      response: { decision: "allow_session", reason: "fine" },
      requestId: req.id,
    });
    assert.equal(clock.pendingSleeps, 0, "the timeout is cancelled");
    assert.deepEqual(await manager.deferred.list(ALICE), []);
  },
});

Deno.test({
  name:
    "`ApprovalManager.ask()` defers on timeout driven by the clock and dismisses the prompt",
  permissions: "none",
  async fn() {
    const { store, manager, handler, clock } = await setup();
    await using _ = store;
    let settled = false;
    const pending = manager.ask(action, ctx, ask).finally(() => {
      settled = true;
    });
    await tick();
    await clock.advance(TIMEOUT_MS - 1);
    await tick();
    assert.equal(settled, false);
    assert.equal(handler.signals[0]?.aborted, false);
    await clock.advance(1);
    const out = await pending;
    assert.equal(
      out.kind === "deferred" && out.reason,
      "approval request timed out",
    );
    assert.equal(handler.signals[0]?.aborted, true);
    // A late answer changes nothing.
    handler.answer({ decision: "allow_once" });
    assert.equal((await manager.deferred.list(ALICE)).length, 1);
  },
});

Deno.test({
  name: "`ApprovalManager.ask()` defers when the human gives no answer",
  permissions: "none",
  async fn() {
    const { store, manager, handler } = await setup();
    await using _ = store;
    const pending = manager.ask(action, ctx, ask);
    await tick();
    handler.answer(null);
    const out = await pending;
    assert.equal(out.kind === "deferred" && out.reason, "user did not respond");
  },
});

Deno.test({
  name:
    "`ApprovalManager.ask()` never treats a malformed or unknown decision as consent",
  permissions: "none",
  async fn() {
    const { store, manager, handler } = await setup();
    await using _ = store;
    for (
      const bad of [
        { decision: "approve" },
        { decision: "ALLOW_ONCE" },
        { decision: "allow_once", reason: 42 },
        "allow_once",
        [],
      ]
    ) {
      const pending = manager.ask(action, ctx, ask);
      await tick();
      handler.answer(bad);
      const out = await pending;
      assert.equal(
        out.kind === "deferred" && out.reason,
        "approval handler returned an invalid response",
        JSON.stringify(bad),
      );
    }
  },
});

Deno.test({
  name: "`ApprovalManager.ask()` defers and logs when the handler fails",
  permissions: "none",
  async fn() {
    const { store, manager, handler, logger } = await setup();
    await using _ = store;
    const pending = manager.ask(action, ctx, ask);
    await tick();
    handler.fail(new Error("socket closed"));
    const out = await pending;
    assert.equal(
      out.kind === "deferred" && out.reason,
      "approval handler failed",
    );
    const warn = logger.records.find((r) => r.level === "warn");
    assert.equal(warn?.fields["error"], "socket closed");
  },
});

Deno.test({
  name:
    "`ApprovalManager.ask()` rejects ABORTED on cancellation, dismisses the prompt and queues nothing",
  permissions: "none",
  async fn() {
    const { store, manager, handler } = await setup();
    await using _ = store;
    const controller = new AbortController();
    const pending = manager.ask(action, ctx, {
      ...ask,
      signal: controller.signal,
    });
    await tick();
    controller.abort(new Error("caller gone"));
    await assert.rejects(pending, (e) => KernelError.is(e, "ABORTED"));
    assert.equal(handler.signals[0]?.aborted, true);
    assert.deepEqual(await manager.deferred.list(ALICE), []);
    await assert.rejects(
      manager.ask(action, ctx, { ...ask, signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
    assert.equal(handler.requests.length, 1);
  },
});

Deno.test({
  name: "`ApprovalManager` rejects a non-positive timeout",
  permissions: "none",
  fn() {
    for (const timeoutMs of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () =>
          new ApprovalManager({
            store: {} as KvStore,
            clock: new FakeClock(),
            random: new SeededRandom(1),
            logger: new MemoryLogger(),
            timeoutMs,
          }),
        RangeError,
      );
    }
  },
});
