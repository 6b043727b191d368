/**
 * The capsule-author side of `@astrid/sdk` (sdk/capsule.ts, sdk/host.ts),
 * tested here because sdk/ may import nothing, not even test helpers.
 */
import assert from "node:assert/strict";
import {
  CAPSULE_KIND,
  defineCapsule,
  HOST_BINDING_NAME,
} from "../../../../sdk/capsule.ts";
import { callHost, host, HostCallError } from "../../../../sdk/host.ts";

type Binding = (fn: string, json: string) => Promise<string>;

/** Installs a stand-in for the engine's binding for the duration of `fn`. */
async function withBinding(
  binding: Binding,
  fn: () => Promise<void>,
): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  g[HOST_BINDING_NAME] = binding;
  try {
    await fn();
  } finally {
    delete g[HOST_BINDING_NAME];
  }
}

Deno.test({
  name: "`defineCapsule()` returns a frozen, marked copy of the handlers",
  permissions: "none",
  fn() {
    const handlers = { greet: (p: { name: string }) => `hi ${p.name}` };
    const def = defineCapsule(handlers);
    assert.equal(def.kind, CAPSULE_KIND);
    assert.ok(Object.isFrozen(def) && Object.isFrozen(def.handlers));
    assert.equal(Object.getPrototypeOf(def.handlers), null);
    (handlers as Record<string, unknown>).later = () => 1;
    assert.equal("later" in def.handlers, false);
  },
});

Deno.test({
  name:
    "`defineCapsule()` rejects non-function handlers and malformed action names",
  permissions: "none",
  fn() {
    assert.throws(() => defineCapsule({ x: 1 as never }), TypeError);
    assert.throws(() => defineCapsule(null as never), TypeError);
    for (const name of ["", "1abc", "has space", "a/b", "x".repeat(129)]) {
      assert.throws(() => defineCapsule({ [name]: () => 1 }), TypeError, name);
    }
    assert.doesNotThrow(() =>
      defineCapsule({
        "tool.call": () => 1,
        on_message: () => 2,
        "a:b-c": () => 3,
      })
    );
  },
});

Deno.test({
  name:
    "`callHost()` outside the engine rejects with HostCallError CAPSULE_FAILED",
  permissions: "none",
  async fn() {
    const err = await callHost("clock_now", {}).catch((e) => e);
    assert.ok(err instanceof HostCallError);
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.equal(err.fn, "clock_now");
  },
});

Deno.test({
  name:
    "`callHost()` sends the name and JSON payload and maps a rejection's code",
  permissions: "none",
  async fn() {
    const seen: [string, unknown][] = [];
    await withBinding((fn, json) => {
      seen.push([fn, JSON.parse(json)]);
      if (fn === "fs_read") {
        return Promise.reject(
          Object.assign(new Error("denied by manifest"), {
            code: "MANIFEST_DENIED",
          }),
        );
      }
      return Promise.resolve(JSON.stringify({ value: "v" }));
    }, async () => {
      assert.deepEqual(await callHost("kv_get", { key: "k" }), { value: "v" });
      const err = await callHost("fs_read", { path: "/x" }).catch((e) => e);
      assert.ok(err instanceof HostCallError);
      assert.equal(err.code, "MANIFEST_DENIED");
      assert.equal(err.message, "denied by manifest");
    });
    assert.deepEqual(seen, [["kv_get", { key: "k" }], ["fs_read", {
      path: "/x",
    }]]);
  },
});

Deno.test({
  name:
    "`host` methods call the ABI functions with their wire payloads and unwrap results",
  permissions: "none",
  async fn() {
    const seen: [string, unknown][] = [];
    const answers: Record<string, unknown> = {
      fs_read: { content: "text" },
      fs_exists: { exists: true },
      kv_get: { value: null },
      kv_list_keys: { keys: ["a"] },
      ipc_request: { payload: { pong: 1 } },
      config_get: { value: "v" },
      secret_exists: { exists: false },
      clock_now: { now_ms: 5 },
      elicit: { value: "typed" },
    };
    await withBinding((fn, json) => {
      seen.push([fn, JSON.parse(json)]);
      return Promise.resolve(JSON.stringify(answers[fn] ?? { ok: true }));
    }, async () => {
      assert.equal(await host.fs.read("/a", { encoding: "base64" }), "text");
      assert.equal(await host.fs.write("/a", "x"), undefined);
      assert.equal(await host.fs.exists("/a"), true);
      assert.equal(await host.kv.get("k"), null);
      assert.deepEqual(await host.kv.listKeys(), ["a"]);
      assert.deepEqual(await host.ipc.request("t.x", 1, { timeoutMs: 50 }), {
        pong: 1,
      });
      assert.equal(await host.config.get("K"), "v");
      assert.equal(await host.secret.exists("S"), false);
      assert.equal(await host.clock.now(), 5);
      assert.equal(await host.log.warn("careful"), undefined);
      assert.equal(await host.elicit({ type: "text", key: "name" }), "typed");
    });
    assert.deepEqual(seen, [
      ["fs_read", { path: "/a", encoding: "base64" }],
      ["fs_write", { path: "/a", content: "x" }],
      ["fs_exists", { path: "/a" }],
      ["kv_get", { key: "k" }],
      ["kv_list_keys", { prefix: "" }],
      ["ipc_request", { topic: "t.x", payload: 1, timeout_ms: 50 }],
      ["config_get", { key: "K" }],
      ["secret_exists", { key: "S" }],
      ["clock_now", {}],
      ["log", { level: "warn", message: "careful" }],
      ["elicit", { type: "text", key: "name" }],
    ]);
  },
});
