/**
 * Test helper: the AssemblyScript test capsules built from
 * tests/fixtures/capsules/wasm-* by `scripts/build_wasm_fixtures.sh`
 * (`deno task build:wasm`). Loading runs the build script first; it is a
 * no-op when the outputs are fresh, and installs the pinned toolchain from
 * npm on a fresh checkout (the script is a subprocess, so the test itself
 * only needs to run bash).
 *
 * @module
 */
import * as path from "node:path";
import { parseCapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import {
  DEFAULT_ENGINE_LIMITS,
  type EngineLimits,
  type HostCallDispatcher,
} from "../kernel/capsule/engine.ts";
import {
  createWasmEngine,
  type WasmCapsuleHandle,
} from "../kernel/capsule/engines/wasm/mod.ts";

/** The test capsules. */
export type WasmFixture =
  | "wasm-hello"
  | "wasm-loop"
  | "wasm-hog"
  | "wasm-escape"
  | "wasm-runtime";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");

/** Where the built modules are. */
export const WASM_FIXTURE_DIR = path.join(ROOT, "tests/fixtures/capsules/out");

/** Permissions a test that loads fixtures must declare. */
export const WASM_FIXTURE_PERMISSIONS: Deno.PermissionOptionsObject = {
  read: true, // the fixtures and the engine's worker module
  run: ["bash"], // the build script (it runs npm and asc itself)
  // read by @extism/extism when its module loads (in the worker)
  env: ["EXTISM_ENABLE_WASI_OUTPUT", "__MINIMATCH_TESTING_PLATFORM__"],
};

/**
 * Builds (if needed) and reads the named test capsules.
 *
 * @param names Which capsules.
 * @returns Their wasm bytes, in the order asked.
 * @throws {Error} When the build fails (its stderr is in the message).
 */
export async function loadWasmFixtures(
  ...names: WasmFixture[]
): Promise<Uint8Array[]> {
  const script = path.join(ROOT, "scripts/build_wasm_fixtures.sh");
  const out = await new Deno.Command("bash", {
    args: [script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `build:wasm failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return await Promise.all(
    names.map((n) => Deno.readFile(path.join(WASM_FIXTURE_DIR, `${n}.wasm`))),
  );
}

/** One host call a {@linkcode recordingHost} saw. */
export interface RecordedHostCall {
  readonly fn: string;
  readonly payload: JsonValue;
  readonly signal: AbortSignal;
}

/**
 * A dispatcher that records every call, then answers with `answer` (default:
 * `kv_get` ⇒ "héllo from the kernel", anything else ⇒ its payload).
 *
 * @param answer How to answer.
 * @returns The dispatcher and the list of calls it saw.
 */
export function recordingHost(
  answer: HostCallDispatcher = (fn, payload) =>
    Promise.resolve(fn === "kv_get" ? "héllo from the kernel" : payload),
): { host: HostCallDispatcher; calls: RecordedHostCall[] } {
  const calls: RecordedHostCall[] = [];
  return {
    calls,
    host: (fn, payload, options) => {
      calls.push({ fn, payload, signal: options.signal });
      return answer(fn, payload, options);
    },
  };
}

/** Options of {@linkcode loadFixtureCapsule}. */
export interface FixtureCapsuleOptions {
  readonly host?: HostCallDispatcher;
  readonly limits?: Partial<EngineLimits>;
  readonly config?: Record<string, string>;
  readonly logger?: MemoryLogger;
}

/**
 * Builds (if needed) and loads one test capsule in a fresh wasm engine.
 *
 * @param fixture Which capsule.
 * @param options Dispatcher (default {@linkcode recordingHost}), limits over
 *   the defaults, config, logger.
 * @returns The loaded capsule; the caller unloads it.
 */
export async function loadFixtureCapsule(
  fixture: WasmFixture,
  options: FixtureCapsuleOptions = {},
): Promise<WasmCapsuleHandle> {
  const [artifact] = await loadWasmFixtures(fixture);
  const engine = createWasmEngine({
    logger: options.logger ?? new MemoryLogger(),
  });
  return await engine.load({
    capsule: parseCapsuleId(fixture),
    artifact: artifact!,
    host: options.host ?? recordingHost().host,
    limits: { ...DEFAULT_ENGINE_LIMITS, ...options.limits },
    config: options.config ?? {},
  });
}
