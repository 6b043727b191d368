/**
 * The worker side of the wasm engine: runs one Extism plug-in (foreground mode,
 * JSPI for the async host call) inside a dedicated Web Worker, so that the
 * kernel thread can `terminate()` it at a deadline.
 *
 * Started by `plugin_thread.ts` with `new Worker(new URL("./plugin_worker.ts",
 * import.meta.url), { type: "module" })`; never imported by kernel code. It
 * performs no effects of its own: the guest's only way out is the
 * `extism:host/user` `astrid_call` import, which is forwarded to the kernel
 * thread as a message and answered there (after the gate). WASI is off, HTTP
 * is off (no allowed hosts and a `fetch` that always rejects).
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

function serve(scope: WorkerScope): void {
  let init: WorkerInit | undefined;
  let plugin: Plugin | undefined;
  let hostMemoryExceeded = false;
  let logLines = 0;
  let hostSeq = 0;
  const replies = new Map<number, (reply: string) => void>();

  const log = (level: "debug" | "info" | "warn" | "error") => (m: string) => {
    if (/^(?:var )?memory limit exceeded/.test(m)) hostMemoryExceeded = true;
    logLines++;
    if (logLines > MAX_LOG_LINES_PER_CALL) {
      if (logLines === MAX_LOG_LINES_PER_CALL + 1) {
        scope.postMessage({
          type: "log",
          level: "warn",
          message:
            `more than ${MAX_LOG_LINES_PER_CALL} log lines in one call; dropping the rest`,
        });
      }
      return;
    }
    scope.postMessage({
      type: "log",
      level,
      message: m.length > MAX_LOG_CHARS ? m.slice(0, MAX_LOG_CHARS) : m,
    });
  };
  const logger = {
    trace: log("debug"),
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    log: log("info"),
  } as unknown as NonNullable<ExtismPluginOptions["logger"]>;

  async function astridCall(cp: CallContext, offset: bigint): Promise<bigint> {
    const request = cp.read(offset)?.text() ?? "";
    const id = ++hostSeq;
    const reply = await new Promise<string>((resolve) => {
      replies.set(id, resolve);
      scope.postMessage({ type: "host", id, request });
    });
    return cp.store(reply);
  }

  async function instantiate(options: WorkerInit): Promise<Plugin> {
    return await createPlugin({ wasm: [{ module: options.module }] }, {
      useWasi: false,
      runInWorker: false,
      config: { ...options.config },
      allowedHosts: [],
      allowedPaths: {},
      fetch: () => Promise.reject(new TypeError("no network in capsules")),
      memory: { maxPages: options.hostPages, maxVarBytes: 1024 * 1024 },
      logger,
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

  async function call(id: number, action: string, input: Uint8Array) {
    if (!plugin || !init) throw new Error("plug-in not initialised");
    hostMemoryExceeded = false;
    logLines = 0;
    try {
      const out = await plugin.call(action, input);
      const output = out === null ? null : new Uint8Array(out.bytes());
      scope.postMessage(
        { type: "result", id, output },
        output ? [output.buffer] : [],
      );
    } catch (err) {
      const { kind, message } = classify(err);
      const memoryBytes = await guestMemoryBytes(plugin);
      let recycled = false;
      if (kind === "trap" || kind === "host") {
        // A trap can leave the guest's allocator half-updated: start afresh.
        plugin = await instantiate(init);
        recycled = true;
      }
      scope.postMessage({
        type: "failed",
        id,
        kind,
        message,
        memoryBytes,
        hostMemoryExceeded,
        recycled,
      });
    }
  }

  scope.onmessage = (event: MessageEvent<ToWorker>) => {
    const msg = event.data;
    if (msg.type === "host_reply") {
      const resolve = replies.get(msg.id);
      replies.delete(msg.id);
      resolve?.(msg.reply);
    } else if (msg.type === "call") {
      // Errors escaping here reach the kernel as a worker "error" event.
      void call(msg.id, msg.action, msg.input);
    } else if (msg.type === "init") {
      init = msg;
      instantiate(msg).then(
        (p) => {
          plugin = p;
          scope.postMessage({ type: "ready" });
        },
        (err: unknown) =>
          scope.postMessage({
            type: "init_failed",
            message: err instanceof Error ? err.message : String(err),
          }),
      );
    }
  };
}

serve(globalThis as unknown as WorkerScope);
