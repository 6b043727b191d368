import assert from "node:assert/strict";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import {
  CALL,
  loadInline,
  recordingHost,
  rejection,
  SMALL_MEMORY,
  testEngine,
} from "./_js_fixture_test.ts";

const READ = { read: true } as const;
// Hostile tests rely on a short deadline, never on sleeping.
const DEADLINE = 100;

const HOSTILE = `let calls = 0;
export function loop() { calls++; for (;;) {} }
export function stubborn() { for (;;) { try { for (;;) {} } catch (e) { /* cannot catch a stop */ } } }
export async function asyncLoop() { await null; for (;;) {} }
export async function microLoop() { for (;;) { await null; } }
export function hog() { calls++; const a = []; for (;;) a.push("x".repeat(64) + a.length); }
export function bigBuffer() { try { return new ArrayBuffer(1024 * 1024 * 1024).byteLength; } catch (e) { return e.name; } }
export function deepNative() { return JSON.stringify(new Array(1e5).fill(0).reduce((a) => [a], 0)); }
export function recurse() { const f = (n) => f(n + 1) + 1; return f(0); }
export function count() { return ++calls; }
`;

Deno.test({
  name:
    "`invoke()` stops an infinite loop at the deadline while other capsules keep serving",
  permissions: READ,
  async fn() {
    const engine = testEngine();
    const hostile = await loadInline(HOSTILE, {
      engine,
      name: "hostile",
      timeoutMs: DEADLINE,
    });
    const friendly = await loadInline(`export const hi = () => "hi";`, {
      engine,
      name: "friendly",
    });
    const started = performance.now();
    const [stopped, hi] = await Promise.allSettled([
      hostile.invoke("loop", null),
      friendly.invoke("hi", null),
    ]);
    const elapsed = performance.now() - started;
    assert.equal(stopped.status, "rejected");
    assert.equal(
      (stopped as PromiseRejectedResult).reason.code,
      "CAPSULE_TIMEOUT",
    );
    assert.ok(
      elapsed >= DEADLINE && elapsed < DEADLINE + 2_000,
      `stopped after ${elapsed} ms`,
    );
    assert.deepEqual(hi, { status: "fulfilled", value: "hi" });
    assert.equal(await friendly.invoke("hi", null), "hi");
    // The stopped capsule keeps its instance and its state.
    assert.equal(await hostile.invoke("count", null), 2);
    assert.equal(hostile.stats().instances, 1);
    await hostile.unload();
    await friendly.unload();
  },
});

Deno.test({
  name:
    "`invoke()` stop cannot be caught by the guest, in sync, async and microtask loops",
  permissions: READ,
  async fn() {
    const c = await loadInline(HOSTILE, { timeoutMs: DEADLINE });
    for (const action of ["stubborn", "asyncLoop", "microLoop"]) {
      assert.equal(
        (await rejection(c.invoke(action, null))).code,
        "CAPSULE_TIMEOUT",
        action,
      );
    }
    assert.equal(await c.invoke("count", null), 1);
    await c.unload();
  },
});

Deno.test({
  name: "`invoke()` stops a loop that follows a host call at the same deadline",
  permissions: READ,
  async fn() {
    const { host, calls } = recordingHost();
    const c = await loadInline(
      CALL +
        `export async function spin() { await call("clock_now", {}); for (;;) {} }`,
      {
        host,
        timeoutMs: DEADLINE,
      },
    );
    assert.equal(
      (await rejection(c.invoke("spin", null))).code,
      "CAPSULE_TIMEOUT",
    );
    assert.equal(calls.length, 1);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` stops a memory hog at the cap (CAPSULE_MEMORY) and recycles the instance",
  permissions: READ,
  async fn() {
    const logger = new MemoryLogger();
    const c = await loadInline(HOSTILE, { timeoutMs: 30_000, logger });
    assert.equal(await c.invoke("count", null), 1);
    const err = await rejection(c.invoke("hog", null));
    assert.equal(err.code, "CAPSULE_MEMORY");
    const stats = c.stats();
    assert.equal(stats.instances, 2);
    assert.equal(stats.memoryBytes, 16 * 1024 * 1024);
    assert.equal(stats.stops, 1);
    assert.equal(c.health().status, "degraded");
    // A fresh instance: module state starts over, and it serves again.
    assert.equal(await c.invoke("count", null), 1);
    assert.deepEqual(c.health(), { status: "ok" });
    assert.ok(logger.records.some((r) => r.message.includes("Recycled")));
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` never lets wasm memory grow past the hard maximum, even for one huge allocation",
  permissions: READ,
  async fn() {
    const c = await loadInline(HOSTILE, { timeoutMs: 30_000 });
    const result = await c.invoke("bigBuffer", null).catch((e) => e.code);
    assert.ok(
      result === "InternalError" || result === "RangeError" ||
        result === "CAPSULE_FAILED",
      String(result),
    );
    assert.ok(c.stats().memoryBytes <= (SMALL_MEMORY * 9) / 8);
    assert.equal(await c.invoke("count", null), 1);
    await c.unload();
  },
});

Deno.test({
  name: "`load()` stops a module that loops or hogs memory at the top level",
  permissions: READ,
  async fn() {
    assert.equal(
      (await rejection(
        loadInline(`for (;;) {}`, { loadTimeoutMs: DEADLINE }),
      )).code,
      "CAPSULE_TIMEOUT",
    );
    const hog = await rejection(
      loadInline(`const a = []; for (;;) a.push({ n: a.length });`, {
        timeoutMs: 30_000,
      }),
    );
    assert.equal(hog.code, "CAPSULE_MEMORY");
  },
});

Deno.test({
  name:
    "`invoke()` recycles an instance whose native recursion exhausted the host stack",
  permissions: READ,
  async fn() {
    const c = await loadInline(HOSTILE, { timeoutMs: 30_000 });
    assert.equal(await c.invoke("count", null), 1);
    const err = await rejection(c.invoke("deepNative", null));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.match(err.message, /recycled/);
    assert.equal(c.stats().instances, 2);
    assert.equal(await c.invoke("count", null), 1);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` reports plain deep recursion as a guest stack overflow and keeps the instance",
  permissions: READ,
  async fn() {
    const c = await loadInline(HOSTILE, { timeoutMs: 30_000 });
    const err = await rejection(c.invoke("recurse", null));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.match(err.message, /stack overflow/);
    assert.equal(c.stats().instances, 1);
    assert.deepEqual(c.health(), { status: "ok" });
    await c.unload();
  },
});
