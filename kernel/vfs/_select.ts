/**
 * Private: choosing overlay entries by path for diff, commit and discard.
 *
 * @module
 */
import { notFoundError } from "./_errors.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { joinKey, splitRelPath } from "./rel_path.ts";

/**
 * The keys of the entries at or below each path (all entries when `paths`
 * is absent), sorted.
 *
 * @param state The overlay.
 * @param paths Workspace-relative paths as listed by `dirtyPaths()`.
 * @param options `withParents` adds the directory entries above each chosen key.
 * @returns Sorted keys.
 * @throws {KernelError} `VFS_NOT_FOUND` for a path with no entry; `VFS_PATH_*` for a bad path.
 */
export function selectKeys(
  state: OverlayState,
  paths: readonly string[] | undefined,
  options: { withParents: boolean; what: string },
): string[] {
  const keys = new Set<string>();
  if (paths === undefined) {
    for (const k of state.entries.keys()) keys.add(k);
  } else {
    for (const path of paths) {
      const key = joinKey(splitRelPath(path));
      const under = state.keysUnder(key);
      if (under.length === 0) throw notFoundError(path, options.what);
      for (const k of under) keys.add(k);
    }
  }
  if (options.withParents) {
    for (const key of [...keys]) {
      const parts = key.split("/");
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join("/");
        if (state.entries.get(parent)?.kind === "dir") keys.add(parent);
      }
    }
  }
  return [...keys].sort();
}
