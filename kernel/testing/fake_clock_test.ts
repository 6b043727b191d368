import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { FakeClock } from "./fake_clock.ts";

Deno.test({
  name:
    "`FakeClock.advance()` wakes due sleepers in due order, ties in start order, at their due time",
  permissions: "none",
  async fn() {
    const clock = new FakeClock(100);
    const woke: Array<[string, number]> = [];
    const track = (name: string, ms: number) =>
      clock.sleep(ms).then(() => woke.push([name, clock.now()]));
    const all = [
      track("c", 30),
      track("a", 10),
      track("b1", 20),
      track("b2", 20),
      track("late", 60),
    ];
    await clock.advance(50);
    assert.deepEqual(woke, [["a", 110], ["b1", 120], ["b2", 120], ["c", 130]]);
    assert.equal(clock.now(), 150);
    assert.equal(clock.pendingSleeps, 1);
    await clock.advance(10);
    await Promise.all(all);
    assert.deepEqual(woke.at(-1), ["late", 160]);
  },
});

Deno.test({
  name:
    "`FakeClock.advance()` also fires sleeps that woken code starts inside the window",
  permissions: "none",
  async fn() {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(25);
    assert.deepEqual(ticks, [10, 20]);
    await clock.advance(5);
    await loop;
    assert.deepEqual(ticks, [10, 20, 30]);
  },
});

Deno.test({
  name: "`FakeClock.sleep()` does not resolve before its time",
  permissions: "none",
  async fn() {
    const clock = new FakeClock();
    let done = false;
    const p = clock.sleep(1000).then(() => (done = true));
    await clock.advance(999);
    assert.equal(done, false);
    await clock.advance(1);
    await p;
    assert.equal(done, true);
  },
});

Deno.test({
  name:
    "`FakeClock.sleep()` rejects with ABORTED and is forgotten when its signal fires",
  permissions: "none",
  async fn() {
    const clock = new FakeClock();
    const ac = new AbortController();
    const reason = new Error("stop");
    const p = clock.sleep(10, { signal: ac.signal });
    assert.equal(clock.pendingSleeps, 1);
    ac.abort(reason);
    await assert.rejects(
      p,
      (e) => KernelError.is(e, "ABORTED") && e.cause === reason,
    );
    assert.equal(clock.pendingSleeps, 0);
    await assert.rejects(
      clock.sleep(1, { signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});

Deno.test({
  name: "`FakeClock` rejects negative sleeps and advances",
  permissions: "none",
  async fn() {
    const clock = new FakeClock();
    await assert.rejects(clock.sleep(-1), RangeError);
    await assert.rejects(clock.advance(-1), RangeError);
    await assert.rejects(clock.advance(Infinity), RangeError);
  },
});

Deno.test({
  name:
    "`FakeClock.timer()` fires in due order with the sleepers and is forgotten when cancelled",
  permissions: "none",
  async fn() {
    const clock = new FakeClock(0);
    const woke: Array<[string, number]> = [];
    const slept = clock.sleep(20).then(() => woke.push(["sleep", clock.now()]));
    clock.timer(10, () => woke.push(["timer", clock.now()]));
    const cancel = clock.timer(15, () => woke.push(["cancelled", clock.now()]));
    assert.equal(clock.pendingSleeps, 3);
    cancel();
    cancel(); // idempotent
    assert.equal(clock.pendingSleeps, 2);
    await clock.advance(30);
    await slept;
    assert.deepEqual(woke, [["timer", 10], ["sleep", 20]]);
    assert.equal(clock.pendingSleeps, 0);
    assert.throws(() => clock.timer(-1, () => {}), RangeError);
  },
});
