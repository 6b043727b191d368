import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { loadInline, rejection, testEngine } from "./_js_fixture_test.ts";

const READ = { read: true } as const;

Deno.test({
  name:
    "`invoke()` calls a named export with the payload and returns its JSON result",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function add(p) { return { sum: p.a + p.b, list: [p.a, null, "x"] }; }`,
    );
    assert.deepEqual(await c.invoke("add", { a: 2, b: 3 }), {
      sum: 5,
      list: [2, null, "x"],
    });
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` routes to defineCapsule handlers and passes capsule, action and config",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export default { kind: "astrid.capsule/v1", handlers: {
         who(p, ctx) { return { capsule: ctx.capsule, action: ctx.action, config: ctx.config, frozen: Object.isFrozen(ctx.config) }; },
       } };
       export function who() { return "named exports are ignored when the default export is a capsule"; }`,
      { name: "hello", config: { GREETING: "hi" } },
    );
    assert.deepEqual(await c.invoke("who", null), {
      capsule: "hello",
      action: "who",
      config: { GREETING: "hi" },
      frozen: true,
    });
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` rejects CAPSULE_NOT_FOUND for unknown and inherited action names",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export default { kind: "astrid.capsule/v1", handlers: { ok: () => 1 } };`,
    );
    for (
      const action of [
        "missing",
        "toString",
        "constructor",
        "__proto__",
        "hasOwnProperty",
        "kind",
      ]
    ) {
      const err = await rejection(c.invoke(action, null));
      assert.equal(err.code, "CAPSULE_NOT_FOUND", action);
    }
    const named = await loadInline(
      `export const value = 3; export default function () { return 1; }`,
    );
    assert.equal(
      (await rejection(named.invoke("value", null))).code,
      "CAPSULE_NOT_FOUND",
    );
    assert.equal(
      (await rejection(named.invoke("default", null))).code,
      "CAPSULE_NOT_FOUND",
    );
    assert.equal(await c.invoke("ok", null), 1);
    await c.unload();
    await named.unload();
  },
});

Deno.test({
  name:
    "`invoke()` maps a guest throw to CAPSULE_FAILED with the guest's message and keeps serving",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function fail() { throw new RangeError("the guest refused"); }
       export async function failLater() { await null; throw "plain string"; }
       export function ok() { return "ok"; }`,
    );
    const err = await rejection(c.invoke("fail", null));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.match(
      err.message,
      /action 'fail' threw RangeError: the guest refused/,
    );
    assert.match(
      (await rejection(c.invoke("failLater", null))).message,
      /threw plain string/,
    );
    assert.equal(await c.invoke("ok", null), "ok");
    assert.deepEqual(c.health(), { status: "ok" });
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` reports a guest error's UPPER_SNAKE `code` as data.guest_code, never as the kernel's code",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function coded() {
         const e = new Error("too many rounds"); e.code = "TURN_MAX_ITERATIONS"; throw e;
       }
       export function odd() { const e = new Error("x"); e.code = "not a code"; throw e; }`,
    );
    const err = await rejection(c.invoke("coded", null));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.equal(err.data?.guest_code, "TURN_MAX_ITERATIONS");
    const odd = await rejection(c.invoke("odd", null));
    assert.equal(odd.data?.guest_code, undefined);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` turns undefined into null and refuses results JSON cannot carry",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function nothing() {}
       export function fn() { return () => 1; }
       export function big() { return 10n; }
       export function cyclic() { const a = {}; a.a = a; return a; }`,
    );
    assert.equal(await c.invoke("nothing", null), null);
    for (const action of ["fn", "big", "cyclic"]) {
      assert.equal(
        (await rejection(c.invoke(action, null))).code,
        "CAPSULE_FAILED",
        action,
      );
    }
    await assert.rejects(c.invoke("nothing", 1n as never), TypeError);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` rejects CAPSULE_FAILED at once for a promise nothing can settle",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function wait() { return new Promise(() => {}); }`,
      {
        timeoutMs: 60_000,
      },
    );
    const err = await rejection(c.invoke("wait", null));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.match(err.message, /never settles/);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` keeps module state between calls, separately for each capsule",
  permissions: READ,
  async fn() {
    const source =
      `let n = 0; export function inc() { globalThis.shared = (globalThis.shared ?? 0) + 1; return [++n, globalThis.shared]; }`;
    const engine = testEngine();
    const a = await loadInline(source, { engine, name: "a" });
    const b = await loadInline(source, { engine, name: "b" });
    assert.deepEqual(await a.invoke("inc", null), [1, 1]);
    assert.deepEqual(await a.invoke("inc", null), [2, 2]);
    assert.deepEqual(await b.invoke("inc", null), [1, 1]);
    await a.unload();
    await b.unload();
  },
});

Deno.test({
  name: "`invoke()` runs calls of one capsule one at a time, in arrival order",
  permissions: READ,
  async fn() {
    const order: string[] = [];
    const releases: (() => void)[] = [];
    const c = await loadInline(
      `export async function step(p) {
         await globalThis.__astrid_host("log", JSON.stringify({ message: "start " + p }));
         return p;
       }`,
      {
        host: (_fn, payload) => {
          order.push(String((payload as { message: string }).message));
          return new Promise((resolve) => releases.push(() => resolve(null)));
        },
      },
    );
    const first = c.invoke("step", "a");
    const second = c.invoke("step", "b");
    while (releases.length === 0) await Promise.resolve();
    assert.deepEqual(order, ["start a"]);
    releases.shift()!();
    assert.equal(await first, "a");
    while (releases.length === 0) await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(order, ["start a", "start b"]);
    releases.shift()!();
    assert.equal(await second, "b");
    await c.unload();
  },
});

Deno.test({
  name:
    "`unload()` refuses later calls with CAPSULE_NOT_FOUND, is idempotent and reports failed health",
  permissions: READ,
  async fn() {
    const c = await loadInline(`export const x = () => 1;`);
    await c.unload();
    await c.unload();
    const err = await rejection(c.invoke("x", null));
    assert.ok(KernelError.is(err, "CAPSULE_NOT_FOUND"));
    assert.deepEqual(c.health(), { status: "failed", reason: "unloaded" });
    assert.equal(c.stats().memoryBytes, 0);
  },
});
