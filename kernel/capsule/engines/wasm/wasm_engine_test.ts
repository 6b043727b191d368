import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import type { JsonValue } from "../../../store/store.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
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

Deno.test({
  name:
    "`load()` greets through config and one host call, and lists the actions",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const { host, calls } = recordingHost();
    const capsule = await loadFixtureCapsule("wasm-hello", {
      host,
      config: { greeting: "Salut" },
    });
    try {
      assert.deepEqual(capsule.actions, [
        "crash",
        "echo",
        "greet",
        "noop",
        "refuse",
        "relay",
        "shout",
      ]);
      const out = await capsule.invoke("greet", "Ada");
      assert.deepEqual(out, {
        message: "Salut, Ada!",
        greeting: "Salut",
        motd: "héllo from the kernel",
        host: "ok",
        calls: 1,
      });
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.fn, "kv_get");
      assert.deepEqual(calls[0]?.payload, { key: "motd" });
      assert.equal(
        calls[0]?.signal.aborted,
        true,
        "the host call's signal ends with the invoke",
      );
      assert.deepEqual(capsule.health(), { status: "ok" });
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` hands a kernel refusal to the guest as an error envelope, not a trap",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const { host } = recordingHost(() =>
      Promise.reject(
        new KernelError("MANIFEST_DENIED", "kv is not granted to /home/u/x"),
      )
    );
    const capsule = await loadFixtureCapsule("wasm-hello", { host });
    try {
      const out = await capsule.invoke("greet", "Bo") as Record<
        string,
        JsonValue
      >;
      assert.equal(out.motd, null);
      assert.deepEqual(out.host, {
        ok: false,
        error: {
          code: "MANIFEST_DENIED",
          message: "kv is not granted to <path>",
        },
      });
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name: "`invoke()` round-trips non-ASCII JSON through a host call (relay)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const { host, calls } = recordingHost();
    const capsule = await loadFixtureCapsule("wasm-hello", { host });
    try {
      const payload = { text: "héllo ✓ 日本", n: [1, 2.5, null, true] };
      assert.deepEqual(await capsule.invoke("relay", payload), {
        ok: true,
        value: payload,
      });
      assert.deepEqual(calls[0]?.payload, payload);
      assert.deepEqual(await capsule.invoke("echo", payload), payload);
      assert.equal(await capsule.invoke("noop", null), null);
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` maps error_set to CAPSULE_FAILED and keeps the instance (state survives)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const capsule = await loadFixtureCapsule("wasm-hello");
    try {
      assert.equal(
        (await capsule.invoke("greet", "A") as { calls: number }).calls,
        1,
      );
      await assert.rejects(capsule.invoke("refuse", null), (err) => {
        isCode("CAPSULE_FAILED")(err);
        assert.match((err as Error).message, /refused by the guest/);
        return true;
      });
      await assert.rejects(
        capsule.invoke("greet", 42),
        isCode("CAPSULE_FAILED"),
      );
      assert.equal(
        (await capsule.invoke("greet", "B") as { calls: number }).calls,
        2,
      );
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` maps a trap to CAPSULE_FAILED and recycles the instance (state reset)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const capsule = await loadFixtureCapsule("wasm-hello");
    try {
      await capsule.invoke("greet", "A");
      await assert.rejects(capsule.invoke("crash", null), (err) => {
        isCode("CAPSULE_FAILED")(err);
        assert.match((err as Error).message, /trapped: unreachable/);
        return true;
      });
      assert.equal(
        (await capsule.invoke("greet", "B") as { calls: number }).calls,
        1,
      );
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` refuses unknown and reserved actions with CAPSULE_NOT_FOUND",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const capsule = await loadFixtureCapsule("wasm-hello");
    try {
      await assert.rejects(
        capsule.invoke("nope", null),
        isCode("CAPSULE_NOT_FOUND"),
      );
      await assert.rejects(
        capsule.invoke("memory", null),
        isCode("CAPSULE_NOT_FOUND"),
      );
      await assert.rejects(
        capsule.invoke("_start", null),
        isCode("CAPSULE_NOT_FOUND"),
      );
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` refuses a payload above 10 MiB (ABI_PAYLOAD_TOO_LARGE) or not JSON (INVALID_INPUT)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const capsule = await loadFixtureCapsule("wasm-hello");
    try {
      await assert.rejects(
        capsule.invoke("echo", "x".repeat(10 * 1024 * 1024 + 1)),
        isCode("ABI_PAYLOAD_TOO_LARGE"),
      );
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(
        capsule.invoke("echo", cyclic as never),
        isCode("INVALID_INPUT"),
      );
      await assert.rejects(
        capsule.invoke("echo", 1n as never),
        isCode("INVALID_INPUT"),
      );
      assert.equal(await capsule.invoke("echo", "ok"), "ok", "still serving");
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name:
    "`invoke()` forwards the escape attempt to the host, which decides (wasm-escape)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const { host, calls } = recordingHost((fn) =>
      Promise.reject(
        new KernelError(
          "MANIFEST_DENIED",
          `'${fn}' of /etc/passwd is not granted`,
        ),
      )
    );
    const capsule = await loadFixtureCapsule("wasm-escape", { host });
    try {
      const out = await capsule.invoke("steal", null) as {
        ok: boolean;
        error: { code: string };
      };
      assert.deepEqual(calls.map((c) => [c.fn, c.payload]), [["fs_read", {
        path: "/etc/passwd",
      }]]);
      assert.equal(out.ok, false);
      assert.equal(out.error.code, "MANIFEST_DENIED");
    } finally {
      await capsule.unload();
    }
  },
});

Deno.test({
  name: "`invoke()` sends guest log lines to the logger with the capsule id",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const logger = new MemoryLogger();
    const capsule = await loadFixtureCapsule("wasm-hello", { logger });
    try {
      await capsule.invoke("shout", null);
      const line = logger.records.find((r) =>
        r.message === "hello from the guest"
      );
      assert.equal(line?.level, "warn");
      assert.equal(line?.fields.capsule, "wasm-hello");
      assert.equal(line?.fields.source, "guest");
    } finally {
      await capsule.unload();
    }
  },
});
