/**
 * A bounded breadth-first walk of a workspace directory through the gated
 * `fs_readdir` host call (each read is its own gate decision).
 *
 * @module
 */
import { host } from "@astrid/sdk";
import { join } from "./_util.ts";

/** Directories a walk never enters unless the caller names them. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  ".git",
  "node_modules",
]);

/** Options of {@linkcode walk}. */
export interface WalkOptions {
  /** Directories read at most. */
  readonly maxDirs: number;
  /** Whether to enter a directory (relative path from the root). */
  readonly enter: (rel: string, name: string) => boolean;
  /** Called per file (relative path, path as given to host calls); `false` stops. */
  readonly file: (rel: string, full: string) => boolean | Promise<boolean>;
}

/** How a walk ended. */
export interface WalkReport {
  /** Directories read. */
  readonly dirs: number;
  /** Whether `maxDirs` stopped it. */
  readonly truncated: boolean;
  /** Sub-directories that could not be read, with why. */
  readonly unreadable: readonly string[];
}

/**
 * Walks `root` breadth-first, files of a directory in name order.
 *
 * @throws {HostCallError} When `root` itself cannot be read.
 */
export async function walk(
  root: string,
  options: WalkOptions,
): Promise<WalkReport> {
  const queue: string[] = [""];
  const unreadable: string[] = [];
  let dirs = 0;
  while (queue.length > 0) {
    if (dirs >= options.maxDirs) {
      return { dirs, truncated: true, unreadable };
    }
    const rel = queue.shift()!;
    const full = rel === "" ? root : join(root, rel);
    let entries;
    try {
      entries = await host.fs.readDir(full);
    } catch (err) {
      if (rel === "") throw err;
      unreadable.push(
        `${rel}: ${err instanceof Error ? err.message : String(err)}`,
      );
      continue;
    }
    dirs++;
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.is_dir) {
        if (options.enter(childRel, e.name)) queue.push(childRel);
      } else if (!(await options.file(childRel, join(root, childRel)))) {
        return { dirs, truncated: false, unreadable };
      }
    }
  }
  return { dirs, truncated: false, unreadable };
}
