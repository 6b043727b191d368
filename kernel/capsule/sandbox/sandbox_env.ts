/**
 * The environment of a sandboxed process: built from nothing, never copied
 * from the kernel's (no proxy or certificate variables, no tokens, no
 * `ASTRID_*`), so a confined program learns nothing about its host from it.
 *
 * @module
 */

/** Where Debian and most distributions keep util-linux's `unshare`. */
export const UNSHARE_PATH = "/usr/bin/unshare";

/** The fixed `PATH` inside every sandbox, searched for bare command names. */
export const SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The complete environment of a process started by `process_spawn`: `PATH`
 * (fixed), `LANG=C.UTF-8`, and `HOME`/`TMPDIR` set to the sandbox's private
 * `/tmp`. Nothing else: the kernel's own environment never reaches it.
 *
 * @returns A fresh object.
 *
 * @example Nothing from the host
 * ```ts
 * import assert from "node:assert/strict";
 * import { spawnEnv } from "./sandbox_env.ts";
 * assert.deepEqual(Object.keys(spawnEnv()).sort(), ["HOME", "LANG", "PATH", "TMPDIR"]);
 * ```
 */
export function spawnEnv(): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    LANG: "C.UTF-8",
    HOME: "/tmp",
    TMPDIR: "/tmp",
  };
}
