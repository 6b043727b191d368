/**
 * The worker side of the wasm engine: one pool worker hosting several Extism
 * plug-ins (foreground mode, JSPI for the async host call), each under its
 * own `pid`, so that the kernel thread can `terminate()` the worker at a
 * deadline.
 *
 * Started by `_worker_pool.ts` with `new Worker(new URL("./plugin_worker.ts",
 * import.meta.url), { type: "module" })`; never imported by kernel code. It
 * performs no effects of its own: a guest's only way out is the
 * `extism:host/user` `astrid_call` import, which is forwarded to the kernel
 * thread as a message and answered there (after the gate). WASI is off, HTTP
 * is off (no allowed hosts and a `fetch` that always rejects).
 *
 * Plug-ins on one worker share its thread: while one guest runs, the others'
 * calls wait in the worker's message queue; a guest suspended in a host call
 * (JSPI) lets the others run. Before a guest starts or resumes, the worker
 * posts `run`, so that the kernel charges running time to the right call.
 *
 * @module
 */
import createPlugin, {
  type CallContext,
  type ExtismPluginOptions,
  type Plugin,
} from "@extism/extism";
import type {
  FailureKind,
  FromWorker,
  ToWorker,
  WorkerInit,
} from "./_protocol.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}

const GUEST_ERROR = "Plugin-originated error: ";
const MISSING = /^Plugin error: (?:function|export) "/;
const MAX_LOG_CHARS = 64 * 1024;
/** Log lines a guest may write per call; the rest are dropped (one notice). */
const MAX_LOG_LINES_PER_CALL = 1_000;

function classify(err: unknown): { kind: FailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith(GUEST_ERROR)) {
    return { kind: "guest", message: message.slice(GUEST_ERROR.length) };
  }
  if (MISSING.test(message)) return { kind: "missing", message };
  if (
    err instanceof WebAssembly.RuntimeError ||
    (err instanceof RangeError && /call stack/i.test(message))
  ) {
    return { kind: "trap", message };
  }
  return { kind: "host", message };
}

/** One plug-in hosted by this worker. */
interface Slot {
  readonly init: WorkerInit;
  plugin: Plugin | undefined;
  hostMemoryExceeded: boolean;
  logLines: number;
  /** The call in flight (calls into one plug-in are serialised by the kernel). */
  callId: number;
}

function serve(scope: WorkerScope): void {
  const slots = new Map<number, Slot>();
  let hostSeq = 0;
  const replies = new Map<
    number,
    { readonly pid: number; readonly resolve: (reply: string) => void }
  >();

  function makeLogger(pid: number, slot: () => Slot | undefined) {
    const log = (level: "debug" | "info" | "warn" | "error") => (m: string) => {
      const s = slot();
      if (!s) return;
      if (/^(?:var )?memory limit exceeded/.test(m)) {
        s.hostMemoryExceeded = true;
      }
      s.logLines++;
      if (s.logLines > MAX_LOG_LINES_PER_CALL) {
        if (s.logLines === MAX_LOG_LINES_PER_CALL + 1) {
          scope.postMessage({
            type: "log",
            pid,
            level: "warn",
            message:
              `more than ${MAX_LOG_LINES_PER_CALL} log lines in one call; dropping the rest`,
          });
        }
        return;
      }
      scope.postMessage({
        type: "log",
        pid,
        level,
        message: m.length > MAX_LOG_CHARS ? m.slice(0, MAX_LOG_CHARS) : m,
      });
    };
    return {
      trace: log("debug"),
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      log: log("info"),
    } as unknown as NonNullable<ExtismPluginOptions["logger"]>;
  }

  async function instantiate(options: WorkerInit): Promise<Plugin> {
    const pid = options.pid;
    const astridCall = async (
      cp: CallContext,
      offset: bigint,
    ): Promise<bigint> => {
      const request = cp.read(offset)?.text() ?? "";
      const id = ++hostSeq;
      const reply = await new Promise<string>((resolve) => {
        replies.set(id, { pid, resolve });
        scope.postMessage({ type: "host", pid, id, request });
      });
      return cp.store(reply);
    };
    return await createPlugin({ wasm: [{ module: options.module }] }, {
      useWasi: false,
      runInWorker: false,
      config: { ...options.config },
      allowedHosts: [],
      allowedPaths: {},
      fetch: () => Promise.reject(new TypeError("no network in capsules")),
      memory: { maxPages: options.hostPages, maxVarBytes: 1024 * 1024 },
      logger: makeLogger(pid, () => slots.get(pid)),
      logLevel: "info",
      functions: { "extism:host/user": { astrid_call: astridCall } },
    });
  }

  async function guestMemoryBytes(p: Plugin): Promise<number | null> {
    const memory = (await p.getInstance()).exports.memory;
    return memory instanceof WebAssembly.Memory
      ? memory.buffer.byteLength
      : null;
  }

  async function call(
    pid: number,
    id: number,
    action: string,
    input: Uint8Array,
  ) {
    const slot = slots.get(pid);
    if (!slot) return; // silent-ok: dropped while the call was on its way
    const plugin = slot.plugin;
    if (!plugin) throw new Error("plug-in not initialised");
    slot.hostMemoryExceeded = false;
    slot.logLines = 0;
    slot.callId = id;
    scope.postMessage({ type: "run", pid, id });
    try {
      const out = await plugin.call(action, input);
      const output = out === null ? null : new Uint8Array(out.bytes());
      scope.postMessage(
        { type: "result", pid, id, output },
        output ? [output.buffer] : [],
      );
    } catch (err) {
      const { kind, message } = classify(err);
      const memoryBytes = await guestMemoryBytes(plugin);
      let recycled = false;
      if ((kind === "trap" || kind === "host") && slots.get(pid) === slot) {
        // A trap can leave the guest's allocator half-updated: start afresh.
        slot.plugin = await instantiate(slot.init);
        recycled = true;
      }
      scope.postMessage({
        type: "failed",
        pid,
        id,
        kind,
        message,
        memoryBytes,
        hostMemoryExceeded: slot.hostMemoryExceeded,
        recycled,
      });
    }
  }

  scope.onmessage = (event: MessageEvent<ToWorker>) => {
    const msg = event.data;
    if (msg.type === "host_reply") {
      const waiting = replies.get(msg.id);
      replies.delete(msg.id);
      const slot = waiting && slots.get(waiting.pid);
      if (!waiting || !slot) return;
      scope.postMessage({ type: "run", pid: waiting.pid, id: slot.callId });
      waiting.resolve(msg.reply);
    } else if (msg.type === "call") {
      // Errors escaping here reach the kernel as a worker "error" event.
      void call(msg.pid, msg.id, msg.action, msg.input);
    } else if (msg.type === "drop") {
      // A guest suspended in a host call is never resumed: its stack is
      // garbage once its reply resolver is gone.
      slots.delete(msg.pid);
      for (const [id, r] of replies) if (r.pid === msg.pid) replies.delete(id);
    } else if (msg.type === "add") {
      const slot: Slot = {
        init: msg,
        plugin: undefined,
        hostMemoryExceeded: false,
        logLines: 0,
        callId: 0,
      };
      slots.set(msg.pid, slot);
      instantiate(msg).then(
        (p) => {
          slot.plugin = p;
          scope.postMessage({ type: "ready", pid: msg.pid });
        },
        (err: unknown) => {
          slots.delete(msg.pid);
          scope.postMessage({
            type: "init_failed",
            pid: msg.pid,
            message: err instanceof Error ? err.message : String(err),
          });
        },
      );
    }
  };
}

serve(globalThis as unknown as WorkerScope);
