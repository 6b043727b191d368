import assert from "node:assert/strict";
import { evalChild } from "./_eval_child_test.ts";
import { KernelError } from "../core/errors.ts";
import { systemClock } from "./system_clock.ts";

Deno.test({
  name: "`systemClock().now()` follows Date.now()",
  permissions: "none",
  fn() {
    const before = Date.now();
    const t = systemClock().now();
    assert.ok(t >= before && t <= Date.now());
  },
});

Deno.test({
  name: "`systemClock().sleep(0)` resolves",
  permissions: "none",
  async fn() {
    await systemClock().sleep(0);
  },
});

Deno.test({
  name:
    "`systemClock().sleep()` rejects with ABORTED and clears its timer when the signal fires",
  permissions: "none",
  async fn() {
    // A leaked timer would fail this test through the op sanitizer.
    const ac = new AbortController();
    const reason = new Error("stop");
    const slept = systemClock().sleep(3_600_000, { signal: ac.signal });
    ac.abort(reason);
    await assert.rejects(
      slept,
      (e) => KernelError.is(e, "ABORTED") && e.cause === reason,
    );
  },
});

Deno.test({
  name:
    "`systemClock().sleep()` longer than the timer limit is still cancellable",
  permissions: "none",
  async fn() {
    const ac = new AbortController();
    const slept = systemClock().sleep(Infinity, { signal: ac.signal });
    ac.abort();
    await assert.rejects(slept, (e) => KernelError.is(e, "ABORTED"));
  },
});

Deno.test({
  name:
    "`systemClock().sleep()` rejects at once for an already-aborted signal or a bad delay",
  permissions: "none",
  async fn() {
    const clock = systemClock();
    await assert.rejects(
      clock.sleep(10, { signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
    await assert.rejects(clock.sleep(-1), RangeError);
    await assert.rejects(clock.sleep(Number.NaN), RangeError);
  },
});

Deno.test({
  name:
    "`systemClock().sleep()` cancelled leaves no timer that keeps the process alive",
  permissions: { run: true, read: true },
  async fn() {
    // The test sanitizers do not track timers, so watch a real process exit instead:
    // a leaked one-hour timer would keep it running until the safety kill.
    const url = new URL("./system_clock.ts", import.meta.url).href;
    const code = `import { systemClock } from "${url}";
      const ac = new AbortController();
      const slept = systemClock().sleep(3_600_000, { signal: ac.signal });
      ac.abort();
      await slept.catch((e) => console.log(e.code));`;
    assert.deepEqual(await evalChild(code), {
      code: 0,
      signal: null,
      stdout: "ABORTED\n",
    });
  },
});

Deno.test({
  name:
    "`systemClock().timer()` fires once, never synchronously, and not at all once cancelled",
  permissions: "none",
  async fn() {
    const clock = systemClock();
    let fired = 0;
    clock.timer!(0, () => fired++);
    assert.equal(fired, 0);
    const cancelled = clock.timer!(5, () => fired += 100);
    cancelled();
    cancelled(); // idempotent
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(fired, 1);
    assert.throws(() => clock.timer!(-1, () => {}), RangeError);
    assert.throws(() => clock.timer!(Number.NaN, () => {}), RangeError);
  },
});

Deno.test({
  name:
    "`systemClock().timer()` cancelled, even past the timer limit, leaves no timer that keeps the process alive",
  permissions: { run: true, read: true },
  async fn() {
    const url = new URL("./system_clock.ts", import.meta.url).href;
    const code = `import { systemClock } from "${url}";
      const clock = systemClock();
      clock.timer(3_600_000, () => console.log("fired"))();
      clock.timer(Infinity, () => console.log("fired"))();
      console.log("done");`;
    assert.deepEqual(await evalChild(code), {
      code: 0,
      signal: null,
      stdout: "done\n",
    });
  },
});
