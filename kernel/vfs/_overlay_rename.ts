/**
 * Private: rename in the overlay view.
 *
 * - An upper file moves inside the upper layer; the old path becomes a
 *   whiteout when the workspace has a file there, else disappears.
 * - A lower (workspace) file is copied up to the new path and the old path
 *   becomes a whiteout (rename of a lower file = whiteout + new upper file).
 * - A directory is renamed entry by entry (not atomically): `to` is created,
 *   every child renamed, then `from` removed. A subtree holding a symlink is
 *   refused before anything moves (the overlay never creates symlinks).
 * - A symlink itself cannot be renamed; an existing file at `to` is replaced,
 *   an existing directory at `to` is refused.
 *
 * Crash order: the new entry is persisted, then the upper file is written or
 * moved, then the old entry changes — a crash in between leaves both paths
 * (a copy), never neither.
 *
 * @module
 */
import { invalidOpError, invalidPathError, notFoundError } from "./_errors.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { listResolved, type OpContext } from "./_overlay_read.ts";
import {
  baseOf,
  ensureDirs,
  lowerShows,
  mkdirOp,
  removeOp,
  writeUpper,
} from "./_overlay_write.ts";
import { type Resolved, resolvePath } from "./_resolve.ts";
import { joinKey, keyWithin } from "./rel_path.ts";

/** Renames `from` to `to` (both normalised, in the same overlay). */
export async function renameOp(
  state: OverlayState,
  from: readonly string[],
  to: readonly string[],
  ctx: OpContext & { originalTo: string },
): Promise<void> {
  if (from.length === 0 || to.length === 0) {
    throw invalidPathError(ctx.original, "renames the mount root");
  }
  const toCtx = { ...ctx, original: ctx.originalTo };
  const rf = await resolve(state, from, ctx);
  const rt = await resolve(state, to, toCtx);
  check(rf, rt, ctx);
  if (rf.key === rt.key) return;
  const fromIsDir = rf.node.where === "upper"
    ? rf.node.entry.kind === "dir"
    : rf.node.where === "lower" && rf.node.info.isDirectory;
  if (fromIsDir) return await renameDir(state, rf, to, ctx);
  await state.lock.run([rf.key, rt.key], async () => {
    state.assertHealthy();
    const f = await resolve(state, from, ctx);
    const t = await resolve(state, to, toCtx);
    check(f, t, ctx);
    await moveFile(state, f, t, ctx);
  });
}

async function moveFile(
  state: OverlayState,
  f: Resolved,
  t: Resolved,
  ctx: OpContext,
): Promise<void> {
  const fromEntry = state.entries.get(f.key);
  const bytes = fromEntry?.kind === "file"
    ? null
    : (await state.readLowerFile(f.key, ctx.original, ctx.signal)).bytes;
  if (t.node.where === "none" && !t.node.parentExists) {
    // In memory only: taking the parents' locks here could deadlock with a commit.
    await ensureDirs(state, t.parts.slice(0, -1), ctx.signal);
  }
  const toEntry = state.entries.get(t.key);
  const toBase = toEntry?.base ?? await baseOf(state, t.key, ctx.signal);
  state.setEntry(t.key, { kind: "file", base: toBase });
  await state.persist();
  if (bytes === null) {
    await state.fs.mkdir(state.upperPath(joinKey(t.parts.slice(0, -1))), {
      recursive: true,
    });
    await state.fs.rename(state.upperPath(f.key), state.upperPath(t.key));
  } else {
    await writeUpper(state, t.parts, bytes, ctx.signal);
  }
  if (fromEntry?.kind === "file") {
    if (await lowerShows(state, f.parts)) {
      state.setEntry(f.key, { kind: "whiteout", base: fromEntry.base });
    } else {
      state.deleteEntry(f.key);
    }
  } else {
    state.setEntry(f.key, {
      kind: "whiteout",
      base: await baseOf(state, f.key, ctx.signal),
    });
  }
  await state.persist();
}

async function renameDir(
  state: OverlayState,
  rf: Resolved,
  to: readonly string[],
  ctx: OpContext & { originalTo: string },
): Promise<void> {
  await refuseSymlinks(state, rf, ctx);
  await mkdirOp(state, to, { ...ctx, original: ctx.originalTo });
  for (const child of await listResolved(state, rf, ctx)) {
    await renameOp(state, [...rf.parts, child.name], [...to, child.name], {
      ...ctx,
      original: `${ctx.original}/${child.name}`,
      originalTo: `${ctx.originalTo}/${child.name}`,
    });
  }
  await removeOp(state, rf.parts, ctx);
}

async function refuseSymlinks(
  state: OverlayState,
  dir: Resolved,
  ctx: OpContext,
): Promise<void> {
  for (const child of await listResolved(state, dir, ctx)) {
    const path = `${ctx.original}/${child.name}`;
    if (child.isSymlink) {
      throw invalidOpError(path, "rename", "it is a symlink");
    }
    if (child.isDirectory) {
      const sub = await resolve(state, [...dir.parts, child.name], {
        ...ctx,
        original: path,
      });
      await refuseSymlinks(state, sub, { ...ctx, original: path });
    }
  }
}

async function resolve(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<Resolved> {
  return await resolvePath(state, parts, {
    followFinal: false,
    original: ctx.original,
    within: ctx.within,
  });
}

function check(
  rf: Resolved,
  rt: Resolved,
  ctx: OpContext & { originalTo: string },
): void {
  const f = rf.node;
  if (f.where === "none") throw notFoundError(ctx.original, "rename");
  if (f.where === "lower" && f.info.isSymlink) {
    throw invalidOpError(ctx.original, "rename", "it is a symlink");
  }
  if (f.where === "lower" && !f.info.isFile && !f.info.isDirectory) {
    throw invalidOpError(ctx.original, "rename", "it is a special file");
  }
  if (rf.key !== rt.key && keyWithin(rt.key, rf.key)) {
    throw invalidOpError(ctx.original, "rename", "the target is inside it");
  }
  const t = rt.node;
  const toIsDir = t.where === "upper"
    ? t.entry.kind === "dir"
    : t.where === "lower" && t.info.isDirectory;
  if (toIsDir && rf.key !== rt.key) {
    throw invalidOpError(
      ctx.originalTo,
      "rename onto",
      "a directory already exists there",
    );
  }
  const fromIsDir = f.where === "upper"
    ? f.entry.kind === "dir"
    : f.info.isDirectory;
  if (fromIsDir && t.where !== "none" && rf.key !== rt.key) {
    throw invalidOpError(ctx.originalTo, "rename onto", "it already exists");
  }
}
