import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { parseCapsuleId } from "../../../core/ids.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import { DEFAULT_ENGINE_LIMITS, type EngineLimits } from "../../engine.ts";
import { createWasmEngine, type WasmCapsuleHandle } from "./wasm_engine.ts";
import {
  loadFixtureCapsule,
  loadWasmFixtures,
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

const HEADER = [0, 97, 115, 109, 1, 0, 0, 0];
/** (func $s (loop br 0)) (start $s) (memory 1) */
const START_LOOPS = new Uint8Array([
  ...HEADER,
  ...[1, 4, 1, 0x60, 0, 0],
  ...[3, 2, 1, 0],
  ...[5, 3, 1, 0, 1],
  ...[8, 1, 0],
  ...[10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b],
]);
/** (import "env" "nope" (func)) (memory 1) */
const MISSING_IMPORT = new Uint8Array([
  ...HEADER,
  ...[1, 4, 1, 0x60, 0, 0],
  ...[2, 12, 1, 3, 101, 110, 118, 4, 110, 111, 112, 101, 0, 0],
  ...[5, 3, 1, 0, 1],
]);

function loadBytes(
  artifact: Uint8Array,
  limits: Partial<EngineLimits> = {},
  // Generous: a worker's cold start on a loaded machine can take seconds.
  startTimeoutMs = 30_000,
): Promise<WasmCapsuleHandle> {
  return createWasmEngine({ logger: new MemoryLogger(), startTimeoutMs })
    .load({
      capsule: parseCapsuleId("bytes"),
      artifact,
      host: recordingHost().host,
      limits: { ...DEFAULT_ENGINE_LIMITS, ...limits },
      config: {},
    });
}

Deno.test({
  name:
    "`invoke()` stops an infinite loop at the deadline while another capsule keeps serving",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const loop = await loadFixtureCapsule("wasm-loop", {
      limits: { timeoutMs: 400 },
    });
    const hello = await loadFixtureCapsule("wasm-hello");
    try {
      const started = performance.now();
      const spinning = capsuleCall(loop, "spin");
      // The kernel thread is free: the other capsule answers while the loop spins.
      for (let i = 0; i < 5; i++) await hello.invoke("greet", `n${i}`);
      const err = await spinning;
      const elapsed = performance.now() - started;
      isCode("CAPSULE_TIMEOUT")(err);
      assert.ok(
        elapsed >= 390 && elapsed < 10_000,
        `stopped after ${elapsed} ms`,
      );
      assert.equal(loop.health().status, "degraded");
      // The instance is recycled and serves again.
      assert.equal(await loop.invoke("noop", null), null);
      assert.deepEqual(loop.health(), { status: "ok" });
    } finally {
      await loop.unload();
      await hello.unload();
    }
  },
});

function capsuleCall(
  capsule: WasmCapsuleHandle,
  action: string,
): Promise<unknown> {
  return capsule.invoke(action, null).then(
    (v) => new Error(`expected a failure, got ${JSON.stringify(v)}`),
    (err: unknown) => err,
  );
}

Deno.test({
  name:
    "`invoke()` stops a memory hog at the 64 MiB cap with CAPSULE_MEMORY, then serves again",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const hog = await loadFixtureCapsule("wasm-hog");
    try {
      await assert.rejects(hog.invoke("hog", null), (err) => {
        isCode("CAPSULE_MEMORY")(err);
        const data = (err as KernelError).data as {
          memory_bytes: number;
          cap_bytes: number;
        };
        assert.equal(data.cap_bytes, 64 * 1024 * 1024);
        assert.ok(data.memory_bytes <= data.cap_bytes, "never above the cap");
        assert.ok(
          data.memory_bytes > 56 * 1024 * 1024,
          `at ${data.memory_bytes}`,
        );
        return true;
      });
      assert.ok(
        (await hog.invoke("size", null) as number) < 16,
        "a fresh instance",
      );
    } finally {
      await hog.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` enforces a small cap: memory.grow past it returns -1, a hog gets CAPSULE_MEMORY",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const hog = await loadFixtureCapsule("wasm-hog", {
      limits: { memoryBytes: 4 * 1024 * 1024 },
    });
    try {
      const before = await hog.invoke("size", null) as number;
      assert.deepEqual(await hog.invoke("grow", 64 - before + 1), {
        result: -1,
        pages: before,
      });
      assert.deepEqual(await hog.invoke("grow", 64 - before), {
        result: before,
        pages: 64,
      });
      await assert.rejects(hog.invoke("hog", null), isCode("CAPSULE_MEMORY"));
    } finally {
      await hog.unload();
    }
  },
});

Deno.test({
  name: "`load()` refuses bytes that are not a wasm module with INVALID_INPUT",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    await assert.rejects(
      loadBytes(new TextEncoder().encode("#!/bin/sh")),
      isCode("INVALID_INPUT"),
    );
    const truncated = START_LOOPS.subarray(0, START_LOOPS.length - 3);
    await assert.rejects(loadBytes(truncated), isCode("INVALID_INPUT"));
  },
});

Deno.test({
  name:
    "`load()` refuses a module whose initial memory is above the cap with CAPSULE_MEMORY",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const [hog] = await loadWasmFixtures("wasm-hog");
    await assert.rejects(
      loadBytes(hog!, { memoryBytes: 65_536 / 2 }),
      RangeError,
    );
    const big = new Uint8Array([...HEADER, 5, 4, 1, 0, 0x81, 0x01]); // (memory 129)
    await assert.rejects(
      loadBytes(big, { memoryBytes: 128 * 65_536 }),
      isCode("CAPSULE_MEMORY"),
    );
  },
});

Deno.test({
  name: "`load()` reports a module with an unknown import as CAPSULE_FAILED",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    await assert.rejects(loadBytes(MISSING_IMPORT), (err) => {
      isCode("CAPSULE_FAILED")(err);
      assert.match((err as Error).message, /nope/);
      return true;
    });
  },
});

Deno.test({
  name:
    "`load()` stops a start function that never returns with CAPSULE_TIMEOUT",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    await assert.rejects(
      loadBytes(START_LOOPS, {}, 500),
      isCode("CAPSULE_TIMEOUT"),
    );
  },
});

Deno.test({
  name: "`invoke()` refuses guest output above 10 MiB with CAPSULE_FAILED",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    // Copying 10 MiB out byte-wise takes ~2 s: keep the deadline out of the way.
    const hog = await loadFixtureCapsule("wasm-hog", {
      limits: { timeoutMs: 60_000 },
    });
    try {
      await assert.rejects(hog.invoke("flood", null), (err) => {
        isCode("CAPSULE_FAILED")(err);
        assert.match((err as Error).message, /above the limit/);
        return true;
      });
      assert.equal(typeof await hog.invoke("size", null), "number");
    } finally {
      await hog.unload();
    }
  },
});

Deno.test({
  name: "`invoke()` drops guest log lines past 1,000 per call, with one notice",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const logger = new MemoryLogger();
    const hog = await loadFixtureCapsule("wasm-hog", {
      logger,
      limits: { timeoutMs: 60_000 },
    });
    try {
      await hog.invoke("chatter", null);
      const lines = logger.records.filter((r) => r.fields.source === "guest");
      assert.equal(lines.length, 1_001);
      assert.equal(lines[999]?.message, "line 999");
      assert.match(lines[1_000]?.message ?? "", /dropping the rest/);
      await hog.invoke("chatter", null);
      assert.equal(
        logger.records.filter((r) => r.fields.source === "guest").length,
        2_002,
      );
    } finally {
      await hog.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` deadline counts only the guest's running time: a host call slower than the deadline still succeeds",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    // The host call takes 3x the whole deadline (a busy gate, a slow model).
    const capsule = await loadFixtureCapsule("wasm-hello", {
      limits: { timeoutMs: 500 },
      host: async (_fn, payload) => {
        await new Promise((r) => setTimeout(r, 1_500));
        return payload;
      },
    });
    try {
      const out = await capsule.invoke("relay", { slow: true });
      assert.deepEqual(out, { ok: true, value: { slow: true } });
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` bounds the time spent waiting on host calls by waitTimeoutMs (CAPSULE_TIMEOUT, the host call is aborted)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    let aborted: Promise<void> | undefined;
    const capsule = await loadFixtureCapsule("wasm-hello", {
      limits: { timeoutMs: 5_000, waitTimeoutMs: 200 },
      host: (_fn, _payload, { signal }) => {
        aborted = new Promise((r) =>
          signal.addEventListener("abort", () => r(), { once: true })
        );
        return new Promise(() => {}); // never answers
      },
    });
    try {
      const err = await capsuleCall(capsule, "relay");
      isCode("CAPSULE_TIMEOUT")(err);
      assert.equal((err as KernelError).data?.reason, "wait_timeout");
      await aborted;
      // Recycled; serves again.
      assert.equal(await capsule.invoke("noop", null), null);
    } finally {
      await capsule.unload();
    }
  },
});
