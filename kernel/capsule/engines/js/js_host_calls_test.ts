import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { FakeClock } from "../../../testing/fake_clock.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import type { HostCallDispatcher } from "../../engine.ts";
import { MAX_PENDING_HOST_CALLS } from "./_host_bridge.ts";
import {
  CALL,
  loadInline,
  recordingHost,
  rejection,
} from "./_js_fixture_test.ts";

const READ = { read: true } as const;

/** A dispatcher whose calls hang until their signal fires. */
function hangingHost(): {
  host: HostCallDispatcher;
  signals: AbortSignal[];
  called: Promise<void>;
} {
  const signals: AbortSignal[] = [];
  let called!: () => void;
  const calledP = new Promise<void>((r) => called = r);
  const host: HostCallDispatcher = (_fn, _payload, { signal }) => {
    signals.push(signal);
    called();
    return new Promise((_resolve, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      })
    );
  };
  return { host, signals, called: calledP };
}

Deno.test({
  name:
    "`invoke()` lets a handler await host calls in sequence and gets their results",
  permissions: READ,
  async fn() {
    const { host, calls } = recordingHost();
    const c = await loadInline(
      CALL + `export async function two() {
        const a = await call("kv_set", { key: "k", value: [1, "x"] });
        const b = await call("kv_get", { key: "k" });
        return { a, b };
      }`,
      { host },
    );
    assert.deepEqual(await c.invoke("two", null), {
      a: { ok: true },
      b: { value: [1, "x"] },
    });
    assert.deepEqual(calls.map((x) => [x.fn, x.payload]), [
      ["kv_set", { key: "k", value: [1, "x"] }],
      ["kv_get", { key: "k" }],
    ]);
    await c.unload();
  },
});

Deno.test({
  name: "`invoke()` resolves parallel host calls made with Promise.all",
  permissions: READ,
  async fn() {
    const { host, calls } = recordingHost();
    const c = await loadInline(
      CALL + `export function many() {
        return Promise.all([1, 2, 3, 4, 5].map((n) => call("ping", { n }).then((r) => r.echo.payload.n)));
      }`,
      { host },
    );
    assert.deepEqual(await c.invoke("many", null), [1, 2, 3, 4, 5]);
    assert.equal(calls.length, 5);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` rejects a guest host call with an Error carrying the kernel's code, paths redacted",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      CALL + `export async function read() {
        try { await call("fs_read", { path: "/etc/shadow/x" }); return "read"; }
        catch (e) { return { name: e.name, code: e.code, message: e.message, isError: e instanceof Error }; }
      }`,
      { host: recordingHost().host },
    );
    assert.deepEqual(await c.invoke("read", null), {
      name: "HostCallError",
      code: "MANIFEST_DENIED",
      message: "Capsule may not read '<path>'",
      isError: true,
    });
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` hides unexpected dispatcher errors from the guest as INTERNAL and logs them",
  permissions: READ,
  async fn() {
    const logger = new MemoryLogger();
    const c = await loadInline(
      CALL + `export async function go() {
        try { await call("x", {}); } catch (e) { return [e.code, e.message]; }
      }`,
      {
        logger,
        host: () =>
          Promise.reject(new Error("secret detail /home/u/.astrid/k")),
      },
    );
    assert.deepEqual(await c.invoke("go", null), [
      "INTERNAL",
      "Internal error",
    ]);
    assert.ok(
      logger.records.some((r) =>
        r.level === "error" && String(r.fields.error).includes("secret detail")
      ),
    );
    await c.unload();
  },
});

Deno.test({
  name:
    "`__astrid_host` refuses malformed calls before they reach the dispatcher",
  permissions: READ,
  async fn() {
    const { host, calls } = recordingHost();
    const c = await loadInline(
      `const h = globalThis.__astrid_host;
       const code = (p) => p.then(() => "resolved", (e) => e.code);
       export async function bad() {
         return [
           await code(h("Not A Name", "{}")),
           await code(h(42, "{}")),
           await code(h("x_".repeat(40), "{}")),
           await code(h("kv_get", { key: "k" })),
           await code(h("kv_get", "{not json")),
           await code(h("kv_get")),
         ];
       }`,
      { host },
    );
    assert.deepEqual(await c.invoke("bad", null), [
      "ABI_UNKNOWN_FUNCTION",
      "ABI_UNKNOWN_FUNCTION",
      "ABI_UNKNOWN_FUNCTION",
      "INVALID_INPUT",
      "INVALID_INPUT",
      "INVALID_INPUT",
    ]);
    assert.equal(calls.length, 0);
    await c.unload();
  },
});

Deno.test({
  name: "`__astrid_host` refuses more than the maximum of pending host calls",
  permissions: READ,
  async fn() {
    const { host } = recordingHost();
    const c = await loadInline(
      `export async function flood(p) {
        const all = [];
        for (let i = 0; i < p.n; i++) {
          all.push(globalThis.__astrid_host("ping", "{}").then(() => "ok", (e) => e.code));
        }
        const codes = await Promise.all(all);
        return { ok: codes.filter((c) => c === "ok").length, refused: codes.filter((c) => c === "CAPSULE_FAILED").length };
      }`,
      { host },
    );
    assert.deepEqual(
      await c.invoke("flood", { n: MAX_PENDING_HOST_CALLS + 3 }),
      {
        ok: MAX_PENDING_HOST_CALLS,
        refused: 3,
      },
    );
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` bounds the time spent awaiting host calls by waitTimeoutMs, then aborts them (CAPSULE_TIMEOUT)",
  permissions: READ,
  async fn() {
    const clock = new FakeClock(0);
    const { host, signals, called } = hangingHost();
    const c = await loadInline(
      CALL +
        `export async function hang() { await call("slow", {}); return "done"; }`,
      {
        host,
        clock,
        timeoutMs: 5_000,
        waitTimeoutMs: 60_000,
      },
    );
    const pending = c.invoke("hang", null);
    await called;
    await clock.advance(5_000); // the running-time deadline does not apply
    assert.equal(signals[0]!.aborted, false);
    await clock.advance(55_000);
    const err = await rejection(pending);
    assert.equal(err.code, "CAPSULE_TIMEOUT");
    assert.equal(err.data?.reason, "wait_timeout");
    assert.match(err.message, /waited longer than 60000 ms/);
    assert.equal(signals[0]!.aborted, true);
    assert.equal(c.health().status, "degraded");
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` with a clock that only sleeps still bounds the waiting, and a returned call leaves no sleep behind",
  permissions: READ,
  async fn() {
    const fake = new FakeClock(0);
    const clock = { sleep: fake.sleep.bind(fake) }; // no `timer`
    const { host, called } = hangingHost();
    const c = await loadInline(
      CALL +
        `export async function hang() { await call("slow", {}); return "done"; }`,
      { host, clock, waitTimeoutMs: 60_000 },
    );
    const pending = c.invoke("hang", null);
    await called;
    assert.equal(fake.pendingSleeps, 1);
    await fake.advance(60_000);
    assert.equal((await rejection(pending)).data?.reason, "wait_timeout");
    await c.unload();

    const quick = await loadInline(
      CALL + `export async function two() {
        return (await call("a", {})) + (await call("b", {}));
      }`,
      { host: () => Promise.resolve(1), clock, waitTimeoutMs: 60_000 },
    );
    assert.equal(await quick.invoke("two", null), 2);
    assert.equal(fake.pendingSleeps, 0);
    await quick.unload();
  },
});

Deno.test({
  name:
    "`invoke()` cancels its waiting-bound timer when the call returns, fails or is cancelled",
  permissions: READ,
  async fn() {
    const clock = new FakeClock(0);
    let fail = false;
    const host: HostCallDispatcher = () =>
      fail
        ? Promise.reject(new KernelError("HOST_IO", "Cannot do it"))
        : Promise.resolve(1);
    const c = await loadInline(
      CALL + `export async function two() {
        return (await call("a", {})) + (await call("b", {}));
      }`,
      { host, clock, waitTimeoutMs: 60_000 },
    );
    assert.equal(await c.invoke("two", null), 2);
    assert.equal(clock.pendingSleeps, 0);
    fail = true;
    assert.equal(
      (await rejection(c.invoke("two", null))).code,
      "CAPSULE_FAILED",
    );
    assert.equal(clock.pendingSleeps, 0);
    await c.unload();

    const hanging = hangingHost();
    const h = await loadInline(
      CALL + `export async function hang() { await call("slow", {}); }`,
      { host: hanging.host, clock, waitTimeoutMs: 60_000 },
    );
    const ctl = new AbortController();
    const pending = h.invoke("hang", null, { signal: ctl.signal });
    await hanging.called;
    assert.equal(clock.pendingSleeps, 1);
    ctl.abort();
    assert.equal((await rejection(pending)).code, "ABORTED");
    assert.equal(clock.pendingSleeps, 0);
    await h.unload();
  },
});

Deno.test({
  name:
    "`invoke()` deadline counts only the guest's running time: host calls slower than the deadline still succeed",
  permissions: READ,
  async fn() {
    // Each host call takes longer than the whole deadline (a busy gate, a
    // slow model); the guest's own running time stays far below it.
    const host: HostCallDispatcher = async () => {
      await new Promise((r) => setTimeout(r, 600));
      return 1;
    };
    const c = await loadInline(
      CALL +
        `export async function three() {
          let n = 0;
          for (let i = 0; i < 3; i++) n += await call("slow", {});
          return n;
        }`,
      { host, timeoutMs: 500 },
    );
    assert.equal(await c.invoke("three", null), 3);
    await c.unload();
  },
});

Deno.test({
  name:
    "`invoke()` honours the caller's AbortSignal while a host call is pending (ABORTED)",
  permissions: READ,
  async fn() {
    const { host, signals, called } = hangingHost();
    const c = await loadInline(
      CALL + `export async function hang() { await call("slow", {}); }
      export const ok = () => "still fine";`,
      { host, timeoutMs: 60_000 },
    );
    const ctl = new AbortController();
    const pending = c.invoke("hang", null, { signal: ctl.signal });
    await called;
    ctl.abort();
    assert.equal((await rejection(pending)).code, "ABORTED");
    assert.equal(signals[0]!.aborted, true);
    assert.equal(await c.invoke("ok", null), "still fine");
    const pre = new AbortController();
    pre.abort();
    assert.equal(
      (await rejection(c.invoke("ok", null, { signal: pre.signal }))).code,
      "ABORTED",
    );
    await c.unload();
  },
});

Deno.test({
  name: "`unload()` cancels the running call and its pending host calls",
  permissions: READ,
  async fn() {
    const { host, signals, called } = hangingHost();
    const c = await loadInline(
      CALL + `export async function hang() { await call("slow", {}); }`,
      {
        host,
        timeoutMs: 60_000,
      },
    );
    const running = c.invoke("hang", null);
    const queued = c.invoke("hang", null);
    await called;
    await c.unload();
    assert.equal(signals[0]!.aborted, true);
    assert.equal(signals.length, 1);
    assert.ok(KernelError.is(await rejection(running), "CAPSULE_NOT_FOUND"));
    assert.ok(KernelError.is(await rejection(queued), "CAPSULE_NOT_FOUND"));
  },
});

Deno.test({
  name:
    "`invoke()` ends with its result and drops host calls the guest did not await",
  permissions: READ,
  async fn() {
    let release!: (v: null) => void;
    const seen: AbortSignal[] = [];
    const c = await loadInline(
      `export function fire() { globalThis.__astrid_host("late", "{}").then(() => { globalThis.late = true; }); return "returned"; }
       export function check() { return globalThis.late === true; }`,
      {
        host: (fn, _p, { signal }) => {
          seen.push(signal);
          return fn === "late"
            ? new Promise((r) => release = r)
            : Promise.resolve(null);
        },
      },
    );
    assert.equal(await c.invoke("fire", null), "returned");
    assert.equal(seen[0]!.aborted, true);
    release(null);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(await c.invoke("check", null), false);
    await c.unload();
  },
});
