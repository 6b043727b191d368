/**
 * The QuickJS WebAssembly module, compiled once and shared: every capsule
 * instantiates it on its own memory (feasibility §5, addendum).
 *
 * @module
 */
import { createRequire } from "node:module";
import { KernelError } from "../../../core/errors.ts";
import type { FileSystem } from "../../../core/ports.ts";

const WASM_SPECIFIER = "@jitl/quickjs-wasmfile-release-sync/wasm";

/**
 * Where the QuickJS `.wasm` file of the pinned variant lies on disk (in the
 * npm cache, or `node_modules`).
 *
 * @returns An absolute path.
 * @throws {KernelError} `NOT_FOUND` when the package cannot be resolved.
 *
 * @example Locate the wasm file
 * ```ts
 * import { quickJsWasmPath } from "./quickjs_wasm.ts";
 * console.assert(quickJsWasmPath().endsWith(".wasm"));
 * ```
 */
export function quickJsWasmPath(): string {
  try {
    return createRequire(import.meta.url).resolve(WASM_SPECIFIER);
  } catch (err) {
    throw new KernelError(
      "NOT_FOUND",
      `Cannot find the QuickJS wasm file ('${WASM_SPECIFIER}'): is the npm package installed?`,
      { cause: err },
    );
  }
}

/**
 * Reads and compiles the QuickJS wasm module (about 500 KB, ~10 ms).
 *
 * @param fs Reads the file.
 * @param options Optional cancellation.
 * @returns The compiled module, to share between capsules.
 * @throws {KernelError} `NOT_FOUND` when the file is missing, `HOST_IO` when it
 *   cannot be read or compiled, `ABORTED` when cancelled.
 *
 * @example Compile the module once
 * ```ts
 * import { compileQuickJsWasm } from "./quickjs_wasm.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * const module = await compileQuickJsWasm(createDenoFs());
 * console.assert(WebAssembly.Module.imports(module).length > 0);
 * ```
 */
export async function compileQuickJsWasm(
  fs: Pick<FileSystem, "readFile">,
  options: { signal?: AbortSignal } = {},
): Promise<WebAssembly.Module> {
  const path = quickJsWasmPath();
  const bytes = await fs.readFile(
    path,
    options.signal ? { signal: options.signal } : {},
  );
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new KernelError(
      "HOST_IO",
      `Cannot compile the QuickJS wasm module: ${String(err)}`,
      { cause: err },
    );
  }
}
