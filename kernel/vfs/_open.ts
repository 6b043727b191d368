/**
 * Private: opening an overlay's state from disk.
 *
 * @module
 */
import * as posix from "node:path/posix";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import { createBlake3Hasher } from "../crypto/blake3.ts";
import { loadJournal, removeJournal } from "./_journal.ts";
import { loadManifest, saveManifest } from "./_manifest.ts";
import { OverlayState } from "./_overlay_state.ts";
import { reconcile } from "./_reconcile.ts";
import type { OverlayDeps, OverlayOptions } from "./overlay_types.ts";

/**
 * Loads (or creates) the overlay state in `options.dir`, checks it belongs
 * to this workspace, and repairs what an interrupted run left.
 */
export async function openOverlayState(
  deps: OverlayDeps,
  options: OverlayOptions,
): Promise<OverlayState> {
  const fs = deps.fs;
  if (typeof fs.readFileChecked !== "function") {
    throw new TypeError(
      "The overlay needs a FileSystem with readFileChecked (createDenoFs() has it)",
    );
  }
  if (!options.workspace.startsWith("/") || !options.dir.startsWith("/")) {
    throw new TypeError("The workspace and overlay paths must be absolute");
  }
  throwIfAborted(options.signal, "opening the overlay");
  const info = await fs.stat(options.workspace);
  if (!info?.isDirectory) {
    throw invalid(`the workspace '${options.workspace}' is not a directory`);
  }
  const lowerRoot = await fs.realPath(options.workspace);
  await fs.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const dir = await fs.realPath(options.dir);
  if (inside(dir, lowerRoot) || inside(lowerRoot, dir)) {
    throw invalid(
      `the overlay '${dir}' and the workspace '${lowerRoot}' overlap`,
    );
  }
  await fs.mkdir(`${dir}/upper`, { recursive: true, mode: 0o700 });
  const manifest = await loadManifest(fs, dir);
  const journal = await loadJournal(fs, dir);
  if (manifest === null && journal !== null) {
    throw new KernelError(
      "HOST_IO",
      `Cannot open the overlay '${dir}' as it has a journal but no manifest`,
    );
  }
  if (manifest !== null && manifest.workspace !== lowerRoot) {
    throw invalid(
      `the overlay '${dir}' belongs to the workspace '${manifest.workspace}', not '${lowerRoot}'`,
    );
  }
  const alias = posix.normalize(options.workspace).replace(/(.)\/$/, "$1");
  const state = new OverlayState({
    fs,
    logger: deps.logger,
    hasher: deps.hasher ?? await createBlake3Hasher(),
    lowerRoot,
    roots: alias === lowerRoot ? [lowerRoot] : [lowerRoot, alias],
    dir,
  });
  for (const [key, entry] of Object.entries(manifest?.entries ?? {})) {
    state.setEntry(key, entry);
  }
  for (const batch of journal?.batches ?? []) {
    for (const [key, entry] of batch) {
      if (entry === null) state.deleteEntry(key);
      else state.setEntry(key, entry);
    }
  }
  if (journal?.torn) {
    deps.logger?.log(
      "warn",
      "Ignored a torn last line of the overlay journal",
      {
        overlay: dir,
      },
    );
  }
  // A new overlay is bound to its workspace on disk at once; a journal is
  // compacted (manifest first: replaying it again would change nothing).
  let manifestChars = JSON.stringify(manifest ?? "").length;
  if (manifest === null || journal !== null) {
    manifestChars = await saveManifest(fs, dir, state.snapshot());
    await removeJournal(fs, dir);
  }
  state.markSaved(manifestChars);
  await reconcile(state);
  return state;
}

function inside(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`);
}

function invalid(why: string): KernelError {
  return new KernelError("INVALID_INPUT", `Cannot open the overlay as ${why}`);
}
