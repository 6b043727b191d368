import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { SerialLane } from "./_serial_lane.ts";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test({
  name: "`SerialLane.run()` runs tasks one at a time in arrival order",
  permissions: "none",
  async fn() {
    const lane = new SerialLane();
    const log: string[] = [];
    let running = 0;
    const task = (name: string) => async () => {
      running++;
      assert.equal(running, 1);
      log.push(`start ${name}`);
      await Promise.resolve();
      await Promise.resolve();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all(
      ["a", "b", "c"].map((n) => lane.run(task(n))),
    );
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(log, [
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
  name: "`SerialLane.run()` frees the lane when a task throws",
  permissions: "none",
  async fn() {
    const lane = new SerialLane();
    const failing = lane.run(() => Promise.reject(new Error("boom")));
    const next = lane.run(() => Promise.resolve("next"));
    await assert.rejects(() => failing, /boom/);
    assert.equal(await next, "next");
  },
});

Deno.test({
  name:
    "`SerialLane.run()` cancels a waiting task on abort without running it or blocking the queue",
  permissions: "none",
  async fn() {
    const lane = new SerialLane();
    const gate = deferred();
    const holder = lane.run(() => gate.promise);
    const ac = new AbortController();
    let cancelledRan = false;
    const cancelled = lane.run(() => {
      cancelledRan = true;
      return Promise.resolve();
    }, ac.signal);
    const after = lane.run(() => Promise.resolve("after"));
    ac.abort();
    await assert.rejects(
      () => cancelled,
      (e: unknown) => KernelError.is(e, "ABORTED"),
    );
    gate.resolve();
    await holder;
    assert.equal(await after, "after");
    assert.equal(cancelledRan, false);
    await assert.rejects(
      () => lane.run(() => Promise.resolve(), AbortSignal.abort()),
      (e: unknown) => KernelError.is(e, "ABORTED"),
    );
  },
});
