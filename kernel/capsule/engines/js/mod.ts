/**
 * The `js` engine: TypeScript capsules written with `@astrid/sdk`, bundled to
 * one ESM file ({@linkcode buildJsCapsule}, `deno bundle`) and run in QuickJS
 * compiled to WebAssembly ({@linkcode createJsEngine}). The QuickJS module is
 * compiled once per engine; every capsule gets its own WebAssembly instance and
 * memory — or, with `[[component]] instances = N` (1..16), up to N of them,
 * made as concurrent calls need them, each running one call at a time with
 * its own module state; further calls wait their turn in arrival order.
 *
 * The contract with the guest (see `sdk/capsule.ts`): the default export made
 * by `defineCapsule({ action: handler })`, or named exported functions; a
 * handler gets `(payload, { capsule, action, config })` and returns JSON (or a
 * promise of it). Host calls go through the one global binding
 * `__astrid_host(fn, payloadJson)`, which returns a promise; the SDK's `host`
 * object wraps it.
 *
 * Security model: the guest has the ECMAScript built-ins and that binding,
 * nothing else — no `fetch`, `Deno`, `process`, `require`, timers,
 * `queueMicrotask`, `WebAssembly` or `console`. `eval` stays (QuickJS needs its
 * compiler to load the module) and grants nothing beyond guest code. The
 * binding forwards `(name, JSON)` to the kernel's `HostCallDispatcher`, which
 * gates every call; the engine performs no effect itself. Each call has a
 * wall-clock deadline that also covers awaiting host calls (pending calls are
 * then aborted through their signal) and a memory cap checked by the
 * interrupt handler, with a hard wasm memory maximum 1/8 above it. Stops are
 * uncatchable by the guest; an instance stopped at the cap, or one that
 * crashes the interpreter, is replaced by a fresh one; other instances and
 * other capsules are unaffected.
 *
 * @example Load a capsule and call it
 * ```ts
 * import { createJsEngine } from "./mod.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 * import type { CapsuleId } from "../../../core/ids.ts";
 * const engine = createJsEngine({ logger: new MemoryLogger(), fs: createDenoFs() });
 * const capsule = await engine.load({
 *   capsule: "echo" as CapsuleId,
 *   artifact: new TextEncoder().encode("export const echo = (p) => p;"),
 *   host: () => Promise.resolve(null),
 *   limits: { timeoutMs: 1_000, memoryBytes: 32 * 1024 * 1024 },
 *   config: {},
 * });
 * console.assert((await capsule.invoke("echo", [1, 2]) as number[]).length === 2);
 * await capsule.unload();
 * ```
 *
 * @module
 */
export { createJsEngine } from "./js_engine.ts";
export type { JsEngine, JsEngineDeps } from "./js_engine.ts";
export { JsCapsule } from "./js_capsule.ts";
export type { JsCapsuleStats } from "./js_capsule.ts";
export { compileQuickJsWasm, quickJsWasmPath } from "./quickjs_wasm.ts";
export { buildJsCapsule } from "./build.ts";
export type { JsBuildDeps, JsBuildOptions, JsBuildResult } from "./build.ts";
export { MIN_MEMORY_BYTES } from "./_guest_instance.ts";
