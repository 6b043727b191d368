/**
 * Private: which workspace a session hub may serve. A workspace is an
 * absolute path to a directory whose real path (symlinks resolved) lies
 * under the real path of one of the daemon's roots; every other path is
 * refused, so a client cannot point a session at a directory the user did
 * not hand to the daemon, through a symlink or otherwise.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { isPathWithin } from "../core/path_within.ts";
import type { FileSystem } from "../core/ports.ts";

/** The message of `WORKSPACE_OUTSIDE_ROOTS`: how to add a workspace. */
export const OUTSIDE_ROOTS_HINT =
  "add it to [workspace] roots in $ASTRID_HOME/etc/config.toml and restart the daemon ('astrid stop'), or run astrid from inside it";

/**
 * Checks a workspace a client named.
 *
 * @param fs The host file system.
 * @param raw The path the client sent.
 * @param roots The daemon's roots (relative ones are ignored).
 * @returns The workspace's real path.
 * @throws {KernelError} `INVALID_INPUT` (not an absolute path to a
 *   directory), `WORKSPACE_OUTSIDE_ROOTS`.
 */
export async function checkWorkspace(
  fs: FileSystem,
  raw: unknown,
  roots: readonly string[],
): Promise<string> {
  if (typeof raw !== "string" || !path.isAbsolute(raw)) {
    throw new KernelError(
      "INVALID_INPUT",
      "The workspace must be an absolute path",
    );
  }
  const info = await fs.stat(raw);
  if (info === null || !info.isDirectory) {
    throw new KernelError(
      "INVALID_INPUT",
      `The workspace ${raw} is not a directory`,
    );
  }
  const workspace = await fs.realPath(raw);
  for (const root of roots) {
    if (!path.isAbsolute(root)) continue;
    const real = await fs.realPath(root).catch(() => null);
    if (real !== null && isPathWithin(real, workspace)) return workspace;
  }
  throw new KernelError(
    "WORKSPACE_OUTSIDE_ROOTS",
    `The workspace ${raw} is outside the directories this daemon may work in: ${OUTSIDE_ROOTS_HINT}`,
  );
}
