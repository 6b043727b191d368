import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { parseCapsuleId } from "../../../core/ids.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import { DEFAULT_ENGINE_LIMITS, type EngineLimits } from "../../engine.ts";
import type { HostCallDispatcher } from "../../engine.ts";
import {
  createWasmEngine,
  type WasmCapsuleHandle,
  type WasmEngine,
} from "./wasm_engine.ts";
import {
  loadWasmFixtures,
  recordingHost,
  WASM_FIXTURE_PERMISSIONS,
  type WasmFixture,
} from "../../../../tests/wasm_fixtures.ts";

function isCode(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(KernelError.is(err), `expected a KernelError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

async function load(
  engine: WasmEngine,
  fixture: WasmFixture,
  name: string,
  options: { limits?: Partial<EngineLimits>; host?: HostCallDispatcher } = {},
): Promise<WasmCapsuleHandle> {
  const [artifact] = await loadWasmFixtures(fixture);
  return await engine.load({
    capsule: parseCapsuleId(name),
    artifact: artifact!,
    host: options.host ?? recordingHost().host,
    limits: { ...DEFAULT_ENGINE_LIMITS, ...options.limits },
    config: { name },
  });
}

async function unloadAll(capsules: WasmCapsuleHandle[]): Promise<void> {
  for (const c of capsules) await c.unload();
}

Deno.test({
  name:
    "`createWasmEngine()` hosts N capsules on at most poolSize Workers, and ends them when all unload",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const engine = createWasmEngine({
      logger: new MemoryLogger(),
      poolSize: 2,
    });
    const capsules: WasmCapsuleHandle[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        capsules.push(await load(engine, "wasm-hello", `hello-${i}`));
      }
      assert.equal(engine.workers, 2);
      const answers = await Promise.all(
        capsules.map((c) => c.invoke("greet", "x")),
      );
      // Each capsule has its own instance: every counter is at 1.
      assert.deepEqual(
        answers.map((a) => (a as { calls: number }).calls),
        [1, 1, 1, 1, 1, 1],
      );
    } finally {
      await unloadAll(capsules);
    }
    assert.equal(engine.workers, 0, "no Worker outlives its last plug-in");
  },
});

Deno.test({
  name:
    "`invoke()` on a shared Worker: a spinning capsule is stopped at its deadline, its neighbour restarts and serves, the spinner is quarantined",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const logger = new MemoryLogger();
    const engine = createWasmEngine({ logger, poolSize: 1 });
    const loop = await load(engine, "wasm-loop", "loop", {
      limits: { timeoutMs: 400 },
    });
    const hello = await load(engine, "wasm-hello", "hello");
    try {
      assert.equal(engine.workers, 1, "both on the one shared Worker");
      assert.equal(
        (await hello.invoke("greet", "a") as { calls: number }).calls,
        1,
      );
      const started = performance.now();
      await assert.rejects(
        loop.invoke("spin", null),
        isCode("CAPSULE_TIMEOUT"),
      );
      const elapsed = performance.now() - started;
      assert.ok(
        elapsed >= 390 && elapsed < 10_000,
        `stopped after ${elapsed} ms`,
      );
      // The neighbour lost its Worker and is re-instantiated: it serves again,
      // its state reset (documented).
      assert.equal(
        (await hello.invoke("greet", "b") as { calls: number }).calls,
        1,
      );
      assert.deepEqual(hello.health(), { status: "ok" });
      assert.equal(await loop.invoke("noop", null), null);
      // Quarantined: the spinner now has a Worker of its own, so its next
      // timeout leaves the neighbour (and its state) alone.
      assert.equal(engine.workers, 1);
      await assert.rejects(
        loop.invoke("spin", null),
        isCode("CAPSULE_TIMEOUT"),
      );
      assert.equal(
        (await hello.invoke("greet", "c") as { calls: number }).calls,
        2,
      );
    } finally {
      await unloadAll([loop, hello]);
    }
  },
});

Deno.test({
  name:
    "`invoke()` a neighbour's call in flight when the shared Worker is stopped fails with a clear CAPSULE_FAILED, then the neighbour serves",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    let entered!: () => void;
    const inHostCall = new Promise<void>((r) => entered = r);
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    const { host } = recordingHost(async (_fn, payload) => {
      entered();
      await held;
      return payload;
    });
    const engine = createWasmEngine({
      logger: new MemoryLogger(),
      poolSize: 1,
    });
    const loop = await load(engine, "wasm-loop", "loop", {
      limits: { timeoutMs: 300 },
    });
    const hello = await load(engine, "wasm-hello", "hello", { host });
    try {
      // The neighbour is suspended in a host call on the shared Worker.
      const relayed = hello.invoke("relay", { who: "n" });
      await inHostCall;
      await assert.rejects(
        loop.invoke("spin", null),
        isCode("CAPSULE_TIMEOUT"),
      );
      await assert.rejects(
        relayed,
        isCode("CAPSULE_FAILED", /capsule 'loop' ran past its deadline/),
      );
      release();
      assert.deepEqual(await hello.invoke("relay", { who: "m" }), {
        ok: true,
        value: { who: "m" },
      });
    } finally {
      release();
      await unloadAll([loop, hello]);
    }
  },
});

Deno.test({
  name:
    "`invoke()` memory caps hold per capsule on one shared Worker: a 4 MiB hog is stopped, a 64 MiB neighbour grows past 4 MiB",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const engine = createWasmEngine({
      logger: new MemoryLogger(),
      poolSize: 1,
    });
    const small = await load(engine, "wasm-hog", "small", {
      limits: { memoryBytes: 4 * 1024 * 1024 },
    });
    const large = await load(engine, "wasm-hog", "large");
    try {
      assert.equal(engine.workers, 1);
      const before = await small.invoke("size", null) as number;
      assert.deepEqual(await small.invoke("grow", 64 - before + 1), {
        result: -1,
        pages: before,
      });
      const pages = await large.invoke("size", null) as number;
      assert.deepEqual(await large.invoke("grow", 128), {
        result: pages,
        pages: pages + 128,
      });
      await assert.rejects(small.invoke("hog", null), isCode("CAPSULE_MEMORY"));
      await assert.rejects(large.invoke("hog", null), (err) => {
        isCode("CAPSULE_MEMORY")(err);
        const data = (err as KernelError).data as { cap_bytes: number };
        assert.equal(data.cap_bytes, 64 * 1024 * 1024);
        return true;
      });
    } finally {
      await unloadAll([small, large]);
    }
  },
});

Deno.test({
  name:
    "`invoke()` a wait timeout on a shared Worker drops only that plug-in: the neighbour keeps its state",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const { host } = recordingHost(() => new Promise(() => {}));
    const engine = createWasmEngine({
      logger: new MemoryLogger(),
      poolSize: 1,
    });
    const stuck = await load(engine, "wasm-hello", "stuck", {
      host,
      limits: { waitTimeoutMs: 300 },
    });
    const hello = await load(engine, "wasm-hello", "hello");
    try {
      assert.equal(
        (await hello.invoke("greet", "a") as { calls: number }).calls,
        1,
      );
      await assert.rejects(
        stuck.invoke("relay", { who: "s" }),
        isCode("CAPSULE_TIMEOUT"),
      );
      assert.equal(
        (await hello.invoke("greet", "b") as { calls: number }).calls,
        2,
      );
    } finally {
      await unloadAll([stuck, hello]);
    }
  },
});

Deno.test({
  name:
    "`invoke()` time queued behind a spinning neighbour is not the queued capsule's running time: the spinner is blamed",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const engine = createWasmEngine({
      logger: new MemoryLogger(),
      poolSize: 1,
    });
    const loop = await load(engine, "wasm-loop", "loop", {
      limits: { timeoutMs: 800 },
    });
    const hello = await load(engine, "wasm-hello", "hello", {
      limits: { timeoutMs: 100 },
    });
    try {
      const spinning = loop.invoke("spin", null);
      await new Promise((r) => setTimeout(r, 50));
      const queued = hello.invoke("noop", null);
      await assert.rejects(spinning, isCode("CAPSULE_TIMEOUT", /'loop'/));
      await assert.rejects(
        queued,
        isCode("CAPSULE_FAILED", /capsule 'loop' ran past its deadline/),
      );
      assert.equal(await hello.invoke("noop", null), null);
    } finally {
      await unloadAll([loop, hello]);
    }
  },
});
