/**
 * Shared pieces of the js engine tests: the QuickJS module compiled once per
 * test file, a loader for inline guest sources, and a small in-memory host
 * dispatcher that records every call.
 */
import type { CapsuleId } from "../../../core/ids.ts";
import { KernelError } from "../../../core/errors.ts";
import type { Clock } from "../../../core/ports.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { HostCallDispatcher } from "../../engine.ts";
import { createJsEngine, type JsEngine } from "./js_engine.ts";
import type { JsCapsule } from "./js_capsule.ts";
import { compileQuickJsWasm } from "./quickjs_wasm.ts";

/** The QuickJS module, compiled once for the whole test file. */
export const WASM: WebAssembly.Module = await compileQuickJsWasm(
  createDenoFs(),
);

/** 32 MiB: small enough for quick hog tests. */
export const SMALL_MEMORY = 32 * 1024 * 1024;

/** One recorded host call. */
export interface RecordedCall {
  readonly fn: string;
  readonly payload: JsonValue;
  readonly signal: AbortSignal;
}

/** A dispatcher with a tiny KV and clock, refusing `fs_read` of `/etc/*`. */
export function recordingHost(): {
  host: HostCallDispatcher;
  calls: RecordedCall[];
  kv: Map<string, JsonValue>;
} {
  const calls: RecordedCall[] = [];
  const kv = new Map<string, JsonValue>();
  const host: HostCallDispatcher = (fn, payload, { signal }) => {
    calls.push({ fn, payload, signal });
    const p = (payload ?? {}) as Record<string, JsonValue>;
    switch (fn) {
      case "kv_get":
        return Promise.resolve({ value: kv.get(String(p.key)) ?? null });
      case "kv_set":
        kv.set(String(p.key), p.value ?? null);
        return Promise.resolve({ ok: true });
      case "clock_now":
        return Promise.resolve({ now_ms: 1_700_000_000_000 });
      case "fs_read":
        return Promise.reject(
          new KernelError(
            "MANIFEST_DENIED",
            `Capsule may not read '${String(p.path)}'`,
          ),
        );
      default:
        return Promise.resolve({ echo: { fn, payload } });
    }
  };
  return { host, calls, kv };
}

/** Options of {@linkcode loadInline}. */
export interface InlineOptions {
  readonly name?: string;
  readonly host?: HostCallDispatcher;
  readonly timeoutMs?: number;
  readonly waitTimeoutMs?: number;
  readonly memoryBytes?: number;
  readonly config?: Record<string, string>;
  readonly engine?: JsEngine;
  readonly clock?: Pick<Clock, "sleep" | "timer">;
  readonly logger?: MemoryLogger;
  readonly loadTimeoutMs?: number;
  /** `[[component]] instances` (default 1). */
  readonly instances?: number;
}

/** A js engine over the shared compiled module. */
export function testEngine(
  options: {
    clock?: Pick<Clock, "sleep" | "timer">;
    logger?: MemoryLogger;
    loadTimeoutMs?: number;
  } = {},
): JsEngine {
  return createJsEngine({
    logger: options.logger ?? new MemoryLogger(),
    quickjsWasm: WASM,
    ...(options.loadTimeoutMs === undefined
      ? {}
      : { loadTimeoutMs: options.loadTimeoutMs }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Loads an inline ESM source as a capsule. */
export function loadInline(
  source: string,
  options: InlineOptions = {},
): Promise<JsCapsule> {
  const engine = options.engine ?? testEngine({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.loadTimeoutMs === undefined
      ? {}
      : { loadTimeoutMs: options.loadTimeoutMs }),
  });
  return engine.load({
    capsule: (options.name ?? "inline") as CapsuleId,
    artifact: new TextEncoder().encode(source),
    host: options.host ?? recordingHost().host,
    limits: {
      timeoutMs: options.timeoutMs ?? 2_000,
      ...(options.waitTimeoutMs === undefined
        ? {}
        : { waitTimeoutMs: options.waitTimeoutMs }),
      memoryBytes: options.memoryBytes ?? SMALL_MEMORY,
    },
    config: options.config ?? {},
    ...(options.instances === undefined
      ? {}
      : { instances: options.instances }),
  });
}

/** The guest-side helper every inline source uses to call the host. */
export const CALL =
  `const call = (fn, p) => globalThis.__astrid_host(fn, JSON.stringify(p)).then(JSON.parse);\n`;

/** Awaits a promise that must reject, and returns the error. */
export async function rejection(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error("Expected a rejection");
}
