import assert from "node:assert/strict";
import { Activity } from "./activity.ts";
import { watchIdle } from "./idle_watch.ts";

function idleAfter(
  activity: Activity,
  busy: () => Promise<boolean>,
): { fired: Promise<void>; stop(): void } {
  let fire!: () => void;
  const fired = new Promise<void>((r) => (fire = r));
  const w = watchIdle({
    idleMs: 20,
    activity,
    now: () => Date.now(),
    busy,
    onIdle: fire,
  });
  return { fired, stop: w.stop };
}

Deno.test("watchIdle fires once nothing is in flight and no turn runs", async () => {
  const activity = new Activity(() => Date.now());
  const w = idleAfter(activity, () => Promise.resolve(false));
  await w.fired;
  w.stop();
});

Deno.test("watchIdle waits while a request streams and while the hub reports a running turn", async () => {
  const activity = new Activity(() => Date.now());
  let close!: () => void;
  const handler = activity.wrap(() =>
    Promise.resolve(
      new Response(
        new ReadableStream({ start: (c) => (close = () => c.close()) }),
      ),
    )
  );
  const res = await handler(new Request("http://x/"));
  let busyAnswers = 0;
  let turnRuns = true;
  let fired = false;
  const w = idleAfter(activity, () => {
    busyAnswers++;
    return Promise.resolve(turnRuns);
  });
  w.fired.then(() => (fired = true));
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fired, false, "a stream is open");
  assert.equal(
    busyAnswers,
    0,
    "the hub is not asked while a request is in flight",
  );
  close();
  await res.body!.cancel().catch(() => {});
  await res.text().catch(() => {});
  while (busyAnswers === 0) await new Promise((r) => setTimeout(r, 10));
  assert.equal(fired, false, "a turn runs");
  turnRuns = false;
  await w.fired;
  w.stop();
});

Deno.test("watchIdle stays up when the hub cannot tell whether a turn runs, and stop() ends the watch", async () => {
  const activity = new Activity(() => Date.now());
  let asked = 0;
  let fired = false;
  const w = idleAfter(activity, () => {
    asked++;
    return Promise.reject(new Error("hub down"));
  });
  w.fired.then(() => (fired = true));
  while (asked < 2) await new Promise((r) => setTimeout(r, 10));
  w.stop();
  assert.equal(fired, false);
});
