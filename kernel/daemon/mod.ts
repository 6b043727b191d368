/**
 * The daemon: the composition root that wires real host adapters into the kernel.
 *
 * @example Boot a throwaway kernel
 * ```ts ignore
 * import { startKernel } from "./mod.ts";
 * await using kernel = await startKernel({ inMemoryStore: true });
 * console.log(kernel.runtimeKey.keyId);
 * ```
 *
 * @module
 */
export {
  generateRuntimeKey,
  kernelPaths,
  readKernelConfig,
  readRuntimeKey,
  startKernel,
  SYSTEM_CONFIG_PATH,
} from "./boot.ts";
export type {
  HomeOptions,
  KernelHandle,
  KernelPaths,
  StartKernelOptions,
} from "./boot.ts";
