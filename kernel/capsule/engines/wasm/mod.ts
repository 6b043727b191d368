/**
 * The `wasm` capsule engine: Extism plug-ins (`@extism/extism` 2.0.0-rc13)
 * with a memory maximum patched into the module, a hard per-call deadline,
 * calls serialised per instance, and one generic guest→kernel host call.
 *
 * ## Design (measured, see `wasm_bench.ts`)
 *
 * Capsules run in a small pool of shared Web Workers (`plugin_worker.ts`,
 * started with `new Worker(new URL(...), { type: "module" })`): one engine
 * keeps at most `poolSize` of them (default `min(cores, 2)`), each hosting
 * many plug-ins; a new plug-in goes to the Worker with the fewest, and a
 * Worker left with none is terminated. Inside a Worker, Extism runs in
 * *foreground* mode, so the async host function works through JSPI
 * (`WebAssembly.Suspending`): a guest suspended in a host call lets the
 * other plug-ins of its Worker run. A guest host call travels to the kernel
 * thread as a message, runs through the kernel's `HostCallDispatcher`
 * (kernel/abi → gate) there, and the reply resumes the suspended guest.
 *
 * The kernel thread owns the deadline, which counts only the guest's own
 * running time: the Worker posts `run` whenever a guest starts or resumes,
 * and the clock runs from there to the guest's next host call or its end.
 * Time queued on the Worker behind a neighbour's guest, and time in host
 * calls, counts as waiting (`waitTimeoutMs`). When the running-time deadline
 * passes, the guest cannot be interrupted inside its Worker, so the kernel
 * `terminate()`s **that whole Worker** (a guest in `loop {}` dies with its
 * thread): the call fails with `CAPSULE_TIMEOUT`, its pending host call's
 * signal is aborted, and **every other plug-in on that Worker is lost too**
 * — a neighbour's call in flight fails with `CAPSULE_FAILED` ("the shared
 * wasm worker was stopped because capsule 'x' ran past its deadline"), and
 * every neighbour is re-instantiated on a fresh Worker in the background
 * (health `degraded` until it is ready). **A re-instantiated capsule starts
 * from a fresh instance: its globals and linear memory are reset**, as after
 * a trap. The capsule that ran past its deadline is *quarantined*
 * (`quarantine: true`, the default): from then on it runs on a Worker of its
 * own, so a second runaway costs only itself. A wait timeout or a
 * cancellation while the guest is suspended in a host call drops only that
 * plug-in (the guest is never resumed; the neighbours are untouched); a
 * cancellation while it runs stops the Worker, as a timeout does. A start
 * function that hangs past `startTimeoutMs` also stops its Worker.
 *
 * Why not rc13's own `runInWorker: true` + `timeoutMs` (which needs
 * `nodeWorkerArgs: { execArgv: [] }` under Deno)? It does support async host
 * functions (they run on the main thread while the worker blocks on a
 * SharedArrayBuffer), but measured on the same machine in the same run:
 *
 * | per call                        | this engine | rc13 runInWorker | rc13 foreground (no deadline) |
 * |---------------------------------|-------------|------------------|-------------------------------|
 * | `noop`                          | ~105 µs     | ~210 µs          | ~4 µs                         |
 * | `greet` (config + 1 host call)  | ~265 µs     | ~2.9 ms          | ~32 µs                        |
 * | load/create (+ unload/close)    | ~80 ms      | ~105 ms          | ~0.3 ms                       |
 *
 * and it cannot tell the engine how much memory a trapped guest held, while a
 * host function that throws closes its worker. Foreground mode alone cannot
 * stop an infinite loop at all (the kernel thread would be stuck in it). The
 * per-call cost here is two `postMessage` hops (plus one `run` message per
 * start and per resume after a host call, since the Workers are shared:
 * re-measured with the pool on a busy machine, `noop` ~180 µs, `greet`
 * ~285 µs); the create cost is mostly a Worker's cold start (a fresh isolate
 * loading the Extism SDK), paid only by a plug-in that opens a Worker.
 *
 * ## Limits
 *
 * - Memory: {@linkcode capMemory} writes `limits.memoryBytes / 64 KiB` pages
 *   as the maximum of the module's memory (defined or imported) before
 *   compiling. Extism's `memory.maxPages` alone caps only its host-side blocks
 *   (it is also set, to the same number). A trap while the guest's memory is
 *   within an eighth of the cap (or Extism refused a host-side block) is
 *   reported as `CAPSULE_MEMORY`; other traps as `CAPSULE_FAILED`. After any
 *   trap the instance is re-instantiated (its globals reset); after
 *   `error_set` it is kept.
 * - Time: `limits.timeoutMs` per call, counted from when the call starts
 *   running (not while it waits in the queue). Instantiation has its own
 *   deadline (`startTimeoutMs`, default `max(timeoutMs, 10 s)`).
 * - Concurrency: one call at a time per instance, FIFO; a waiting call can be
 *   cancelled (`ABORTED`); cancelling a running call recycles the worker. A
 *   capsule that, from inside its own host call, invokes itself waits behind
 *   itself and ends in `CAPSULE_TIMEOUT`.
 * - Payloads: invoke payloads, guest outputs and host-call requests ≤ 10 MiB.
 * - Logs: guest log lines (Extism `log_*`) go to the logger with
 *   `source: "guest"`, at most 1,000 per call and 64 KiB each.
 * - Cost: ≈ 14 MB of RSS per Worker (at most `poolSize` shared ones, plus
 *   one per quarantined capsule); an extra capsule on a shared Worker costs
 *   its instance — ≈ 0.1 MB for the `wasm-runtime` test capsule
 *   (`deno task bench memory`) — plus its guest memory.
 * - `unload()` drops the plug-in from its Worker (stopping the Worker if its
 *   guest is running), aborts the pending host call, and fails the running
 *   and queued calls with `ABORTED`.
 *
 * ## Guest ABI
 *
 * See `guest_abi.ts`: import `extism:host/user` `astrid_call(i64) -> i64`
 * taking `{"fn","payload"}` JSON and returning `{"ok":true,"value"}` or
 * `{"ok":false,"error":{"code","message"}}`; every exported `() -> i32`
 * function not starting with `_` is an action taking the payload as JSON
 * input and returning JSON output. The AssemblyScript helper is
 * `tests/fixtures/capsules/wasm-build/astrid_guest.ts` (build with
 * `deno task build:wasm`).
 *
 * ## Security model
 *
 * The guest is untrusted. Its only imports are Extism's `extism:host/env`
 * functions (its own memory blocks, read-only config, vars capped at 1 MiB,
 * log lines) and `astrid_call`, which performs nothing itself: the kernel's
 * dispatcher maps it to a gate action and decides before any effect. WASI is
 * off (no files, clock or environment); Extism's `http_request` is off (no
 * allowed hosts, and its `fetch` always rejects). Memory is bounded by the
 * module's own maximum, which the guest cannot change, and a module with
 * several memories is refused; each plug-in on a shared Worker has its own
 * instance and memory, capped by its own module. A hung or hostile guest
 * costs at most one Worker thread for `timeoutMs` (and the restart of the
 * plug-ins that shared it), never the kernel thread. Errors returned to
 * the guest carry only a code and a path-redacted message. The worker runs
 * with Deno permissions of its own that grant nothing but reading the env
 * vars `EXTISM_ENABLE_WASI_OUTPUT` and `__MINIMATCH_TESTING_PLATFORM__`
 * (read by the SDK when it loads): no file, net, run, ffi, sys or import —
 * the module arrives compiled in a message. This needs the
 * `worker-options` unstable flag (`deno.json`); without it no worker starts.
 *
 * @example Load a capsule and call an action
 * ```ts
 * import assert from "node:assert/strict";
 * import { createWasmEngine } from "./mod.ts";
 * import { DEFAULT_ENGINE_LIMITS } from "../../engine.ts";
 * import { parseCapsuleId } from "../../../core/ids.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 *
 * // (module (memory 1) (func (export "noop") (result i32) i32.const 0))
 * const wasm = new Uint8Array([
 *   0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0,
 *   5, 3, 1, 0, 1, 7, 8, 1, 4, 110, 111, 111, 112, 0, 0, 10, 6, 1, 4, 0, 65, 0, 11,
 * ]);
 * const engine = createWasmEngine({ logger: new MemoryLogger() });
 * const capsule = await engine.load({
 *   capsule: parseCapsuleId("tiny"),
 *   artifact: wasm,
 *   host: (fn) => Promise.reject(new Error(`no host function ${fn}`)),
 *   limits: { ...DEFAULT_ENGINE_LIMITS, timeoutMs: 1_000 },
 *   config: {},
 * });
 * try {
 *   assert.equal(await capsule.invoke("noop", { any: "json" }), null);
 * } finally {
 *   await capsule.unload();
 * }
 * ```
 *
 * @module
 */
export {
  createWasmEngine,
  defaultPoolSize,
  START_TIMEOUT_FLOOR_MS,
} from "./wasm_engine.ts";
export type {
  WasmCapsuleHandle,
  WasmEngine,
  WasmEngineDeps,
} from "./wasm_engine.ts";
export { capMemory, readMemoryLimits, WASM_PAGE_BYTES } from "./cap_memory.ts";
export type { MemoryLimits } from "./cap_memory.ts";
export {
  answerHostCall,
  errorEnvelope,
  HOST_FUNCTION,
  HOST_NAMESPACE,
  MAX_HOST_REQUEST_BYTES,
  okEnvelope,
  parseHostRequest,
} from "./guest_abi.ts";
export type { HostRequest } from "./guest_abi.ts";
