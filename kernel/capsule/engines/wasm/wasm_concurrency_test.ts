import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import {
  loadFixtureCapsule,
  recordingHost,
  WASM_FIXTURE_PERMISSIONS,
} from "../../../../tests/wasm_fixtures.ts";

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(KernelError.is(err), `expected a KernelError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test({
  name:
    "`invoke()` serialises concurrent calls on one instance; both complete correctly",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const gate = deferred<void>();
    let inFlight = 0;
    let maxInFlight = 0;
    const { host, calls } = recordingHost(async (_fn, payload) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await gate.promise;
      inFlight--;
      return payload;
    });
    const capsule = await loadFixtureCapsule("wasm-hello", { host });
    try {
      const a = capsule.invoke("relay", { who: "a" });
      const b = capsule.invoke("relay", { who: "b" });
      while (calls.length === 0) await new Promise((r) => setTimeout(r, 1));
      assert.equal(calls.length, 1, "b waits while a is inside its host call");
      gate.resolve();
      assert.deepEqual(await Promise.all([a, b]), [
        { ok: true, value: { who: "a" } },
        { ok: true, value: { who: "b" } },
      ]);
      assert.equal(maxInFlight, 1);
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) => capsule.invoke("greet", `g${i}`)),
      );
      assert.deepEqual(
        many.map((o) => (o as { calls: number }).calls),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` cancels a queued call with ABORTED and a running one by recycling",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const entered = deferred<void>();
    const { host, calls } = recordingHost((_fn, payload, { signal }) => {
      entered.resolve();
      return new Promise((resolve, reject) => {
        if ((payload as { fast?: boolean }).fast) return resolve(payload);
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
      });
    });
    const capsule = await loadFixtureCapsule("wasm-hello", { host });
    try {
      const running = new AbortController();
      const queued = new AbortController();
      const a = capsule.invoke("relay", {}, { signal: running.signal });
      const b = capsule.invoke("relay", {}, { signal: queued.signal });
      await entered.promise;
      queued.abort();
      await assert.rejects(b, isCode("ABORTED"));
      running.abort();
      await assert.rejects(a, isCode("ABORTED"));
      assert.equal(
        calls[0]?.signal.aborted,
        true,
        "the pending host call was cancelled",
      );
      assert.deepEqual(await capsule.invoke("relay", { fast: true }), {
        ok: true,
        value: { fast: true },
      });
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`unload()` cancels the pending host call, fails running and queued calls, and is idempotent",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const entered = deferred<void>();
    const { host, calls } = recordingHost((_fn, _payload, { signal }) => {
      entered.resolve();
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        })
      );
    });
    const capsule = await loadFixtureCapsule("wasm-hello", { host });
    const running = capsule.invoke("relay", 1);
    const queued = capsule.invoke("relay", 2);
    await entered.promise;
    await capsule.unload();
    await assert.rejects(running, isCode("ABORTED"));
    await assert.rejects(queued, isCode("ABORTED"));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.signal.aborted, true);
    assert.deepEqual(capsule.health(), {
      status: "failed",
      reason: "unloaded",
    });
    await assert.rejects(
      capsule.invoke("noop", null),
      isCode("CAPSULE_NOT_FOUND"),
    );
    await capsule.unload();
  },
});

Deno.test({
  name:
    "`unload()` during the restart after a timeout stops the fresh worker too",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const loop = await loadFixtureCapsule("wasm-loop", {
      limits: { timeoutMs: 100 },
    });
    await assert.rejects(loop.invoke("spin", null), isCode("CAPSULE_TIMEOUT"));
    await loop.unload(); // waits for the background restart, then terminates it
    assert.equal(loop.health().status, "failed");
  },
});
