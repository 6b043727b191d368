/**
 * Process confinement: the kernel's one bubblewrap argument builder
 * ({@linkcode bwrapArgs}), the bubblewrap probe, and a process run over the
 * session's copy-on-write view of the workspace ({@linkcode runInSandbox})
 * whose changes come back as a list the caller imports through the gate
 * ({@linkcode importUpperChanges}).
 *
 * ## Security model
 *
 * A sandboxed process gets every namespace unshared (no network unless
 * asked, a fresh `/proc` without kernel processes), no capabilities, the host
 * root read-only, private `/tmp`, empty `/run` and hidden dirs
 * (`ASTRID_HOME`), and an environment built from nothing. A spawned
 * process's workspace is an overlayfs view mounted in an unprivileged user
 * namespace: it never writes the workspace, and what it wrote is imported
 * only as the caller's gated, audited decisions.
 *
 * @example Build a sandbox command line
 * ```ts
 * import assert from "node:assert/strict";
 * import { bwrapArgs } from "./mod.ts";
 * const args = bwrapArgs({ command: "true", args: [], chdir: "/", workspace: "/" });
 * assert.ok(args.includes("--cap-drop"));
 * ```
 *
 * @module
 */
export { bwrapArgs } from "./bwrap_args.ts";
export type { SandboxSpec } from "./bwrap_args.ts";
export { findBubblewrap } from "./find_bwrap.ts";
export type { FindBubblewrapOptions } from "./find_bwrap.ts";
export { SANDBOX_PATH, spawnEnv, UNSHARE_PATH } from "./sandbox_env.ts";
export { OVERLAY_MOUNT_FAILED, overlayLine } from "./overlay_line.ts";
export type { OverlayDirs } from "./overlay_line.ts";
export { readUpperChanges } from "./upper_changes.ts";
export type { UpperChange } from "./upper_changes.ts";
export { buildViewLayer } from "./view_layer.ts";
export type { OverlaySource, ViewLayerInput } from "./view_layer.ts";
export { runInSandbox } from "./spawn_sandbox.ts";
export type {
  SpawnRequest,
  SpawnResult,
  SpawnSandbox,
} from "./spawn_sandbox.ts";
export { importUpperChanges, MAX_IMPORT_BYTES } from "./import_changes.ts";
export type { ChangeSink, ImportReport } from "./import_changes.ts";
