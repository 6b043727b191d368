/**
 * Private: repairing an overlay after a crash, when it is opened.
 *
 * The manifest is authoritative. Because entry changes are persisted before
 * the upper files they describe are deleted or replaced (a first write
 * writes both at once, and returns only when both are done), a crash leaves
 * only two kinds of leftovers: a file entry without its upper file (the write
 * never happened or never returned — the entry is dropped) and an upper file
 * without a file entry (its removal, discard or commit was recorded, or a
 * first write never returned — the file is deleted).
 * Symlinks or special files in the upper layer are never valid and are
 * deleted.
 *
 * @module
 */
import type { OverlayState } from "./_overlay_state.ts";

/** Repairs the upper layer against the entries; returns how many repairs were made. */
export async function reconcile(state: OverlayState): Promise<number> {
  let repairs = await sweep(state, "");
  for (const [key, entry] of [...state.entries]) {
    if (entry.kind === "file") {
      const info = await state.fs.lstat(state.upperPath(key));
      if (info === null || !info.isFile) {
        state.deleteEntry(key);
        repairs++;
      }
    } else if (entry.kind === "dir") {
      await state.fs.mkdir(state.upperPath(key), { recursive: true });
    }
  }
  if (repairs > 0) {
    state.logger?.log(
      "warn",
      "Repaired an overlay left by an interrupted run",
      {
        overlay: state.dir,
        repairs,
      },
    );
    await state.persist();
  }
  return repairs;
}

async function sweep(state: OverlayState, key: string): Promise<number> {
  let repairs = 0;
  for (const e of await state.fs.readDir(state.upperPath(key))) {
    const child = key === "" ? e.name : `${key}/${e.name}`;
    if (e.isDirectory && !e.isSymlink) {
      repairs += await sweep(state, child);
      continue;
    }
    if (e.isFile && state.entries.get(child)?.kind === "file") continue;
    await state.fs.remove(state.upperPath(child));
    repairs++;
  }
  return repairs;
}
