import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { CallQueue } from "./_call_queue.ts";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test({
  name: "`CallQueue.run()` runs tasks one at a time in arrival order",
  permissions: "none",
  async fn() {
    const q = new CallQueue();
    const order: string[] = [];
    let active = 0;
    const task = (name: string, gate?: Promise<void>) => async () => {
      active++;
      assert.equal(active, 1, "never two at once");
      order.push(`start ${name}`);
      await gate;
      order.push(`end ${name}`);
      active--;
      return name;
    };
    const gate = deferred();
    const runs = [
      q.run(task("a", gate.promise)),
      q.run(task("b")),
      q.run(task("c")),
    ];
    await Promise.resolve();
    assert.equal(q.waiting, 2);
    gate.resolve();
    assert.deepEqual(await Promise.all(runs), ["a", "b", "c"]);
    assert.deepEqual(order, [
      "start a",
      "end a",
      "start b",
      "end b",
      "start c",
      "end c",
    ]);
  },
});

Deno.test({
  name:
    "`CallQueue.run()` drops a waiter whose signal fires (ABORTED) and keeps the order of the rest",
  permissions: "none",
  async fn() {
    const q = new CallQueue();
    const gate = deferred();
    const ctl = new AbortController();
    const a = q.run(() => gate.promise.then(() => "a"));
    const b = q.run(() => Promise.resolve("b"), ctl.signal);
    const c = q.run(() => Promise.resolve("c"));
    ctl.abort();
    await assert.rejects(b, (e) => KernelError.is(e, "ABORTED"));
    assert.equal(q.waiting, 1);
    gate.resolve();
    assert.deepEqual(await Promise.all([a, c]), ["a", "c"]);
    await assert.rejects(
      q.run(() => Promise.resolve(1), ctl.signal),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});

Deno.test({
  name:
    "`CallQueue.rejectWaiting()` fails the waiters, not the running task, and the queue still works",
  permissions: "none",
  async fn() {
    const q = new CallQueue();
    const gate = deferred();
    const a = q.run(() => gate.promise.then(() => "a"));
    const b = q.run(() => Promise.resolve("b"));
    q.rejectWaiting(new KernelError("ABORTED", "unloaded"));
    await assert.rejects(b, (e) => KernelError.is(e, "ABORTED"));
    gate.resolve();
    assert.equal(await a, "a");
    assert.equal(await q.run(() => Promise.resolve("d")), "d");
  },
});
