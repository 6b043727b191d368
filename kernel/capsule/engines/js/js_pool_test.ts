import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { HostCallDispatcher } from "../../engine.ts";
import type { JsCapsule } from "./js_capsule.ts";
import { CALL, loadInline, rejection } from "./_js_fixture_test.ts";

const READ = { read: true } as const;

/** One host call the test holds open. */
interface Held {
  readonly payload: JsonValue;
  readonly signal: AbortSignal;
  readonly release: (value: JsonValue) => void;
}

/** A dispatcher whose calls wait until the test releases them. */
function heldHost(): {
  host: HostCallDispatcher;
  held: Held[];
  until: (n: number) => Promise<void>;
} {
  const held: Held[] = [];
  const host: HostCallDispatcher = (_fn, payload, { signal }) =>
    new Promise((resolve, reject) => {
      held.push({ payload, signal, release: resolve });
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
    });
  const until = async (n: number) => {
    const deadline = Date.now() + 5_000;
    while (held.length < n) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${n} host calls, got ${held.length}`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  return { host, held, until };
}

/** Lets pending timers and promises run (a queued call would start by then). */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}

/** `wait(p)` holds a host call open and returns `p` (or the host's value). */
const WAITER = CALL + `let mine = 0;
export async function wait(p) { mine++; const r = await call("hold", { p }); return r ?? p; }
export function mine_() { return mine; }
export function hog() { const a = []; for (;;) a.push("x".repeat(64) + a.length); }
`;

Deno.test({
  name:
    "`invoke()` with instances = 1 still runs one call at a time: the second call's host call starts after the first call ends",
  permissions: READ,
  async fn() {
    const { host, held, until } = heldHost();
    const c = await loadInline(WAITER, { host, instances: 1 });
    const first = c.invoke("wait", "a");
    const second = c.invoke("wait", "b");
    await until(1);
    await settle();
    assert.equal(held.length, 1);
    assert.equal(c.stats().queued, 1);
    held[0]!.release(null);
    assert.equal(await first, "a");
    await until(2);
    held[1]!.release(null);
    assert.equal(await second, "b");
    assert.deepEqual({ ...c.stats(), memoryBytes: 0 }, {
      instances: 1,
      live: 1,
      queued: 0,
      memoryBytes: 0,
      stops: 0,
    });
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` with instances = 3 runs three waiting calls at once; a 4th waits and runs when one frees",
  permissions: READ,
  async fn() {
    const { host, held, until } = heldHost();
    const c = await loadInline(WAITER, { host, instances: 3 });
    const calls = ["a", "b", "c", "d"].map((p) => c.invoke("wait", p));
    await until(3);
    await settle();
    assert.equal(held.length, 3, "the 4th call waits for a free instance");
    assert.deepEqual(held.map((h) => (h.payload as { p: string }).p), [
      "a",
      "b",
      "c",
    ]);
    const stats = c.stats();
    assert.equal(stats.instances, 3);
    assert.equal(stats.live, 3);
    assert.equal(stats.queued, 1);
    assert.equal(stats.memoryBytes, 3 * 16 * 1024 * 1024);
    held[1]!.release(null);
    assert.equal(await calls[1], "b");
    await until(4);
    assert.equal((held[3]!.payload as { p: string }).p, "d");
    for (const h of [held[0]!, held[2]!, held[3]!]) h.release(null);
    assert.deepEqual(await Promise.all(calls), ["a", "b", "c", "d"]);
    assert.equal(c.stats().instances, 3, "no instance beyond the bound");
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` with instances = 3 makes instances only as concurrent calls need them",
  permissions: READ,
  async fn() {
    const c = await loadInline(WAITER, { instances: 3 });
    for (let i = 0; i < 5; i++) assert.equal(await c.invoke("mine_", null), 0);
    assert.equal(c.stats().instances, 1);
    await c.unload();
  },
});

/**
 * A host whose `reenter` call invokes action `y` of the same capsule (as a
 * bus request passing the capsule's own interceptor would), with the host
 * call's signal.
 */
function reentrantHost(capsule: () => JsCapsule): HostCallDispatcher {
  return (fn, payload, { signal }) => {
    if (fn !== "reenter") return Promise.resolve(null);
    return capsule().invoke("y", payload, { signal });
  };
}

const REENTRANT = CALL + `
export async function x(p) { const inner = await call("reenter", { n: p.n + 1 }); return { outer: p.n, inner }; }
export function y(p) { return p.n * 10; }
`;

Deno.test({
  name:
    "`invoke()` completes a call that re-enters the same capsule through the host when instances >= 2",
  permissions: READ,
  async fn() {
    const c: JsCapsule = await loadInline(REENTRANT, {
      host: reentrantHost(() => c),
      instances: 2,
    });
    assert.deepEqual(await c.invoke("x", { n: 1 }), { outer: 1, inner: 20 });
    assert.equal(c.stats().instances, 2);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` with instances = 1 cannot serve a re-entrant call: it ends at the waiting bound (CAPSULE_TIMEOUT) and the inner call is cancelled",
  permissions: READ,
  async fn() {
    const c: JsCapsule = await loadInline(REENTRANT, {
      host: reentrantHost(() => c),
      instances: 1,
      waitTimeoutMs: 200,
    });
    const err = await rejection(c.invoke("x", { n: 1 }));
    assert.equal(err.code, "CAPSULE_TIMEOUT");
    assert.equal(c.stats().queued, 0, "the inner call left the queue");
    // The instance is not wedged.
    assert.equal(await c.invoke("y", { n: 4 }), 40);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` recycles only the instance that hit the memory cap; a call waiting on another instance completes",
  permissions: READ,
  async fn() {
    const { host, held, until } = heldHost();
    const c = await loadInline(WAITER, {
      host,
      instances: 2,
      timeoutMs: 30_000,
    });
    const waiting = c.invoke("wait", "kept");
    await until(1);
    const err = await rejection(c.invoke("hog", null));
    assert.equal(err.code, "CAPSULE_MEMORY");
    const stats = c.stats();
    assert.equal(stats.instances, 3, "first, growth, one recycle");
    assert.equal(stats.live, 2);
    assert.equal(stats.stops, 1);
    assert.equal(stats.memoryBytes, 2 * 16 * 1024 * 1024);
    held[0]!.release(null);
    assert.equal(await waiting, "kept");
    // Both instances serve again.
    const both = await Promise.all([
      c.invoke("wait", "p"),
      c.invoke("wait", "q"),
      until(3).then(() => {
        held[1]!.release("p");
        held[2]!.release("q");
      }),
    ]);
    assert.deepEqual(both.slice(0, 2), ["p", "q"]);
    assert.equal(c.stats().instances, 3);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` with instances = 2: a queued call cancelled by its caller leaves the queue (ABORTED) and the next one runs",
  permissions: READ,
  async fn() {
    const { host, held, until } = heldHost();
    const c = await loadInline(WAITER, { host, instances: 2 });
    const a = c.invoke("wait", "a");
    const b = c.invoke("wait", "b");
    const cancel = new AbortController();
    const queued = c.invoke("wait", "cancelled", { signal: cancel.signal });
    const d = c.invoke("wait", "d");
    await until(2);
    assert.equal(c.stats().queued, 2);
    cancel.abort();
    const err = await rejection(queued);
    assert.ok(KernelError.is(err, "ABORTED"), err.message);
    assert.equal(c.stats().queued, 1);
    held[0]!.release(null);
    assert.equal(await a, "a");
    await until(3);
    assert.equal((held[2]!.payload as { p: string }).p, "d");
    held[1]!.release(null);
    held[2]!.release(null);
    assert.deepEqual([await b, await d], ["b", "d"]);
    await c.unload();
  },
});

Deno.test({
  name:
    "`unload()` with instances = 3 cancels the running and queued calls, aborts their host calls and frees every instance",
  permissions: READ,
  async fn() {
    const { host, held, until } = heldHost();
    const c = await loadInline(WAITER, { host, instances: 3 });
    const calls = ["a", "b", "c", "d"].map((p) => c.invoke("wait", p));
    await until(3);
    await c.unload();
    for (const call of calls) {
      assert.equal((await rejection(call)).code, "CAPSULE_NOT_FOUND");
    }
    assert.ok(held.every((h) => h.signal.aborted));
    const stats = c.stats();
    assert.equal(stats.live, 0);
    assert.equal(stats.memoryBytes, 0);
    assert.deepEqual(c.health(), { status: "failed", reason: "unloaded" });
    assert.equal(
      (await rejection(c.invoke("wait", "e"))).code,
      "CAPSULE_NOT_FOUND",
    );
  },
});

Deno.test({
  name: "`load()` refuses instances outside 1..16 (RangeError)",
  permissions: READ,
  async fn() {
    for (const instances of [0, 17, 1.5]) {
      await assert.rejects(
        loadInline(WAITER, { instances }),
        RangeError,
        String(instances),
      );
    }
  },
});
