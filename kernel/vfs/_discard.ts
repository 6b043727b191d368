/**
 * Private: `Overlay.discard` — forget chosen entries and delete their upper
 * copies, so the workspace shows through again.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { clearTemp, tempPath } from "./_commit_apply.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { selectKeys } from "./_select.ts";
import type { DiscardOptions } from "./overlay_types.ts";

/** Discards the chosen entries; returns their keys. */
export async function discardOverlay(
  state: OverlayState,
  session: string,
  options: DiscardOptions,
): Promise<string[]> {
  state.assertHealthy();
  const keys = selectKeys(state, options.paths, {
    withParents: false,
    what: "discard",
  });
  await state.lock.run(keys, async () => {
    const files: string[] = [];
    const dirs: string[] = [];
    for (const key of keys) {
      const kind = state.entries.get(key)?.kind;
      if (kind === "file") files.push(key);
      if (kind === "dir") dirs.push(key);
      state.deleteEntry(key);
    }
    await state.persist();
    for (const key of files) {
      await removeIfPresent(state, state.upperPath(key), false);
      await clearTemp(state, tempPath(state, key, session));
    }
    dirs.sort((a, b) => b.split("/").length - a.split("/").length);
    for (const key of dirs) {
      await removeIfPresent(state, state.upperPath(key), true);
    }
  });
  return keys;
}

async function removeIfPresent(
  state: OverlayState,
  path: string,
  isDir: boolean,
): Promise<void> {
  try {
    await state.fs.remove(path);
  } catch (err) {
    // silent-ok: already gone, or (a directory) still holding another entry's files.
    if (KernelError.is(err, "NOT_FOUND")) return;
    if (isDir && KernelError.is(err, "HOST_IO")) return;
    throw err;
  }
}
