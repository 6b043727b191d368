import assert from "node:assert/strict";
import { loadInline, recordingHost } from "./_js_fixture_test.ts";

const READ = { read: true } as const;

const AMBIENT = [
  "fetch",
  "Deno",
  "process",
  "require",
  "module",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "queueMicrotask",
  "WebAssembly",
  "console",
  "XMLHttpRequest",
  "WebSocket",
  "Worker",
  "importScripts",
  "navigator",
  "location",
  "crypto",
  "std",
  "os",
  "scriptArgs",
  "print",
  "Bun",
];

Deno.test({
  name:
    "guest globals: no fetch, Deno, process, require, timers, queueMicrotask, WebAssembly or console",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function probe(names) {
         const g = globalThis;
         return Object.fromEntries(names.map((n) => [n, typeof g[n]]));
       }
       export function own() { return Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("__")); }`,
    );
    const seen = await c.invoke("probe", AMBIENT) as Record<string, string>;
    for (const name of AMBIENT) assert.equal(seen[name], "undefined", name);
    assert.deepEqual(await c.invoke("own", null), ["__astrid_host"]);
    await c.unload();
  },
});

Deno.test({
  name:
    "guest globals: `__astrid_host` is read-only, undeletable and not enumerable",
  permissions: READ,
  async fn() {
    // QuickJS lets `Object.defineProperty` redefine even non-configurable
    // properties of the global object; that only cuts the guest off from its
    // own host access, which is no boundary (the bundle is one trust domain).
    const { host, calls } = recordingHost();
    const c = await loadInline(
      `const original = globalThis.__astrid_host;
       export function tamper() {
         const out = [];
         try { globalThis.__astrid_host = () => "mine"; out.push("assigned"); } catch (e) { out.push(e.name); }
         try { delete globalThis.__astrid_host; out.push("deleted"); } catch (e) { out.push(e.name); }
         out.push(globalThis.__astrid_host === original, Object.keys(globalThis).includes("__astrid_host"));
         return out;
       }
       export async function still() { return JSON.parse(await globalThis.__astrid_host("ping", "{}")); }`,
      { host },
    );
    assert.deepEqual(await c.invoke("tamper", null), [
      "TypeError",
      "TypeError",
      true,
      false,
    ]);
    assert.deepEqual(await c.invoke("still", null), {
      echo: { fn: "ping", payload: {} },
    });
    assert.equal(calls.length, 1);
    await c.unload();
  },
});

Deno.test({
  name: "guest globals: eval and Function reach only the guest's own global",
  permissions: READ,
  async fn() {
    const c = await loadInline(
      `export function escape() {
         const viaEval = (0, eval)("typeof Deno + typeof fetch + typeof process");
         const g = Function("return this")();
         const viaCtor = (function () {}).constructor("return typeof Deno")();
         return [viaEval, g === globalThis, viaCtor, typeof g.Deno];
       }`,
    );
    assert.deepEqual(await c.invoke("escape", null), [
      "undefinedundefinedundefined",
      true,
      "undefined",
      "undefined",
    ]);
    await c.unload();
  },
});

Deno.test({
  name:
    "guest globals: a capsule's global changes stay inside its own instance",
  permissions: READ,
  async fn() {
    const a = await loadInline(
      `export function poison() { Object.prototype.polluted = "yes"; JSON.parse = () => "hijacked"; Array.prototype.map = null; return 1; }`,
      { name: "a" },
    );
    const b = await loadInline(
      `export function look(p) { return [({}).polluted ?? "clean", JSON.parse("[1]"), [1, 2].map((x) => x * 2)]; }`,
      { name: "b" },
    );
    assert.equal(await a.invoke("poison", null), 1);
    assert.deepEqual(await b.invoke("look", null), ["clean", [1], [2, 4]]);
    // The poisoned capsule itself still answers: the engine captured its
    // intrinsics before the module ran.
    assert.equal(await a.invoke("poison", null), 1);
    await a.unload();
    await b.unload();
  },
});
