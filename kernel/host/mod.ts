/**
 * The host: the only part of the kernel that touches `Deno.*`. It provides
 * the real adapters of the ports in `kernel/core/ports.ts` (file system,
 * environment, clock, randomness, logging, processes, network, signals), the
 * Deno KV opener, and the Astrid home: resolving `ASTRID_HOME` and creating
 * its layout. Only the composition root builds these adapters; everything
 * else receives them as ports in a `deps` object (fakes: `kernel/testing/`).
 *
 * Security model: every host failure becomes a `KernelError` (`NOT_FOUND`,
 * `HOST_PERMISSION_DENIED`, `HOST_IO`, `ABORTED`) with the Deno error as
 * `cause`. Spawned processes never inherit the daemon's environment. The
 * daemon socket is made `0600` before it is announced. `ASTRID_HOME` must be
 * absolute without `..`; layout directories are `0700`, `run/` is forced back
 * to `0700` on every boot, and a symlink in place of the root or a layout
 * directory is refused rather than followed.
 *
 * @example Wire the real adapters and prepare the home
 * ```ts
 * import {
 *   astridHomePaths,
 *   createDenoEnv,
 *   createDenoFs,
 *   createStderrLogger,
 *   cryptoRandom,
 *   ensureLayout,
 *   resolveAstridHome,
 *   systemClock,
 * } from "./mod.ts";
 * const tmp = await Deno.makeTempDir();
 * Deno.env.set("ASTRID_HOME", `${tmp}/astrid`);
 * const home = astridHomePaths(resolveAstridHome(createDenoEnv()));
 * const deps = {
 *   fs: createDenoFs(),
 *   clock: systemClock(),
 *   random: cryptoRandom(),
 *   logger: createStderrLogger({ level: "warn" }),
 * };
 * await ensureLayout(deps.fs, home);
 * console.assert((await deps.fs.stat(home.run))?.mode === 0o700);
 * Deno.env.delete("ASTRID_HOME");
 * await Deno.remove(tmp, { recursive: true });
 * ```
 *
 * @module
 */
export { createDenoFs } from "./deno_fs.ts";
export { createDenoEnv } from "./deno_env.ts";
export { systemClock } from "./system_clock.ts";
export { cryptoRandom } from "./crypto_random.ts";
export { createStderrLogger } from "./stderr_logger.ts";
export type { LogWriter, StderrLoggerOptions } from "./stderr_logger.ts";
export { createDenoSpawner } from "./deno_spawner.ts";
export { createDenoNet } from "./deno_net.ts";
export type { DenoNetDeps } from "./deno_net.ts";
export { createDenoSignals } from "./deno_signals.ts";
export { createPinnedFetch } from "./pinned_fetch.ts";
export type {
  PinnedFetch,
  PinnedFetchOptions,
  PinnedInit,
} from "./pinned_fetch.ts";
export { astridHomePaths, resolveAstridHome } from "./astrid_home.ts";
export type { AstridHome, PrincipalHome } from "./astrid_home.ts";
export { ensureLayout, LAYOUT_VERSION } from "./ensure_layout.ts";
export type { EnsureLayoutOptions, LayoutReport } from "./ensure_layout.ts";
export { MEMORY_KV, openKv } from "./open_kv.ts";
export { openPg, versionstampOf } from "./open_pg.ts";
export type { OpenPgOptions } from "./open_pg.ts";
export { denoToolchain, TOOL_ENV_NAMES } from "./deno_toolchain.ts";
export type { DenoToolchain } from "./deno_toolchain.ts";
