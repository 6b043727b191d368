/**
 * End-to-end, in both engines: a capsule that loops forever is stopped at its
 * deadline and one that hogs memory is stopped at its cap, while the kernel
 * (registry, dispatcher, gate, store) keeps serving the other capsules and the
 * stopped capsule can be called again. Real kernel, real runtime, capsules
 * installed and booted from disk.
 */
import assert from "node:assert/strict";
import {
  ENGINES,
  LOOP_TIMEOUT_MS,
  makeRuntime,
  MEMORY_BYTES,
  PERMS,
  rejection,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

async function bootPair(
  engine: string,
  options: { timeoutMs?: number } = {},
): Promise<{ f: RuntimeFixture; bad: string; good: string }> {
  const f = await makeRuntime(options);
  const bad = `${engine}-hostile`;
  const good = `${engine}-friend`;
  try {
    await f.install({ name: bad, engine: engine as "js" | "wasm" });
    await f.install({ name: good, engine: engine as "js" | "wasm" });
    const report = await f.boot();
    assert.deepEqual(report.refused, []);
    assert.deepEqual([...report.loaded].sort(), [good, bad].sort());
  } catch (err) {
    await f.close();
    throw err;
  }
  return { f, bad, good };
}

/** The friend capsule still does gated work through the kernel: KV round trip. */
async function assertServes(f: RuntimeFixture, capsule: string, n: number) {
  const set = await f.hostCall(capsule, "kv_set", { key: "n", value: n });
  assert.ok(set.ok, JSON.stringify(set));
  assert.deepEqual(await f.hostCall(capsule, "kv_get", { key: "n" }), {
    ok: true,
    value: { value: n },
  });
}

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): an infinite loop is stopped at the deadline with CAPSULE_TIMEOUT while the kernel keeps serving`,
    permissions: PERMS,
    async fn() {
      const { f, bad, good } = await bootPair(engine, {
        timeoutMs: LOOP_TIMEOUT_MS,
      });
      try {
        assert.deepEqual(await f.invoke(bad, "ping"), { pong: 1 });
        const order: string[] = [];
        const started = performance.now();
        const spinning = rejection(f.invoke(bad, "spin")).then((err) => {
          order.push("spin stopped");
          return err;
        });
        const friend = f.invoke(good, "ping").then((v) => {
          order.push("friend answered");
          return v;
        });
        const [err, pong] = await Promise.all([spinning, friend]);
        const elapsed = performance.now() - started;
        assert.equal(err.code, "CAPSULE_TIMEOUT", err.message);
        assert.ok(
          elapsed >= LOOP_TIMEOUT_MS - 5 &&
            elapsed < LOOP_TIMEOUT_MS + 5_000,
          `stopped after ${elapsed.toFixed(0)} ms`,
        );
        assert.deepEqual(pong, { pong: 1 });
        if (engine === "wasm") {
          // The guest runs in its own worker: the kernel thread answered the
          // other capsule while the loop was still spinning.
          assert.deepEqual(order, ["friend answered", "spin stopped"]);
        }
        // Right after: the other capsule's gated host calls succeed…
        await assertServes(f, good, 1);
        // …and the looping capsule can be called again (js keeps its
        // instance and state; wasm serves from a recycled instance).
        const again = await f.invoke(bad, "ping") as { pong: number };
        assert.equal(again.pong, engine === "js" ? 2 : 1);
        await assertServes(f, bad, 2);
        // It can be stopped again: the deadline is per call, not once.
        assert.equal(
          (await rejection(f.invoke(bad, "spin"))).code,
          "CAPSULE_TIMEOUT",
        );
        await assertServes(f, good, 3);
      } finally {
        await f.close();
      }
    },
  });

  Deno.test({
    name:
      `runtime (${engine}): a memory hog is stopped at the 64 MiB cap with CAPSULE_MEMORY while the kernel keeps serving`,
    permissions: PERMS,
    async fn() {
      // A generous deadline: on a loaded machine growing to 64 MiB may take
      // longer than the usual 300 ms, and this test is about the memory cap.
      const { f, bad, good } = await bootPair(engine, { timeoutMs: 10_000 });
      try {
        const err = await rejection(f.invoke(bad, "hog"));
        assert.equal(err.code, "CAPSULE_MEMORY", err.message);
        if (engine === "wasm") {
          const data = err.data as { memory_bytes: number; cap_bytes: number };
          assert.equal(data.cap_bytes, MEMORY_BYTES);
          assert.ok(data.memory_bytes <= MEMORY_BYTES, "never above the cap");
        } else {
          assert.match(err.message, /reached the cap of 64\.0 MiB/);
        }
        await assertServes(f, good, 1);
        // The hog is served again from a fresh instance.
        assert.deepEqual(await f.invoke(bad, "ping"), { pong: 1 });
        await assertServes(f, bad, 2);
      } finally {
        await f.close();
      }
    },
  });
}
