/**
 * Private: the overlay's read operations — readFile, stat, readDir.
 *
 * A read of a workspace file that the overlay does not hold takes a fast
 * path: the lower file is opened directly and accepted only when the open
 * descriptor's real path is exactly `<workspace>/<key>`, which proves that no
 * component was a symlink and the bytes came from there. Anything else
 * (symlinks on the way, a missing file, a swap) falls back to the full
 * component-by-component walk of `resolvePath`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { escapeError, invalidOpError, notFoundError } from "./_errors.ts";
import { kindOf, MAX_FILE_BYTES, type OverlayState } from "./_overlay_state.ts";
import { type Resolved, resolvePath } from "./_resolve.ts";
import { joinKey, keyWithin } from "./rel_path.ts";
import type { VfsDirEntry, VfsStat } from "./vfs.ts";

/** The caller's view of one operation. */
export interface OpContext {
  /** The path as given, for messages. */
  readonly original: string;
  /** The key results must stay inside. */
  readonly within: string;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
}

/**
 * Resolves, then waits until no write on the resolved key is in flight and
 * resolves again if one was, so a reader never sees half an operation.
 */
export async function settledResolve(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
  followFinal: boolean,
): Promise<Resolved> {
  for (;;) {
    const opts = { followFinal, original: ctx.original, within: ctx.within };
    const r = await resolvePath(state, parts, opts);
    const busy = state.lock.idle(r.key);
    if (busy === undefined) return r;
    await busy;
  }
}

/** Reads a whole file. */
export async function readFileOp(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<Uint8Array> {
  const fast = await fastRead(state, parts, ctx);
  if (fast !== null) return fast;
  const r = await settledResolve(state, parts, ctx, true);
  const node = r.node;
  if (node.where === "none") throw notFoundError(ctx.original, "read");
  if (node.where === "upper") {
    if (node.entry.kind === "dir") throw isDir(ctx.original);
    return (await vanishedIsMissing(
      state.readUpperFile(r.key, ctx.original, ctx.signal),
      ctx.original,
    )).bytes;
  }
  if (node.info.isDirectory) throw isDir(ctx.original);
  if (!node.info.isFile) {
    throw invalidOpError(ctx.original, "read", `it is ${kindOf(node.info)}`);
  }
  return (await vanishedIsMissing(
    state.readLowerFile(r.key, ctx.original, ctx.signal),
    ctx.original,
  )).bytes;
}

/** Describes a path (symlinks followed). */
export async function statOp(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<VfsStat> {
  const r = await settledResolve(state, parts, ctx, true);
  const node = r.node;
  if (node.where === "none") throw notFoundError(ctx.original, "stat");
  const info = node.where === "upper"
    ? await state.fs.lstat(state.upperPath(r.key))
    : node.info;
  if (info === null) throw notFoundError(ctx.original, "stat");
  return {
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    size: info.isDirectory ? 0 : info.size,
    mtimeMs: info.mtimeMs,
  };
}

/** Lists a directory: the union of both layers, minus whiteouts, sorted by name. */
export async function readDirOp(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<VfsDirEntry[]> {
  return await listResolved(
    state,
    await settledResolve(state, parts, ctx, true),
    ctx,
  );
}

/** Lists an already resolved directory (the caller may hold its lock). */
export async function listResolved(
  state: OverlayState,
  r: Resolved,
  ctx: OpContext,
): Promise<VfsDirEntry[]> {
  const node = r.node;
  if (node.where === "none") throw notFoundError(ctx.original, "list");
  const isDir = node.where === "upper"
    ? node.entry.kind === "dir"
    : node.info.isDirectory;
  if (!isDir) {
    throw invalidOpError(ctx.original, "list", "it is not a directory");
  }
  const out = new Map<string, VfsDirEntry>();
  if (!hiddenByOpaque(state, r.parts)) {
    for (const e of await listLower(state, r.key, ctx)) out.set(e.name, e);
  }
  for (const name of state.childNames(r.key)) {
    const entry = state.entries.get(r.key === "" ? name : `${r.key}/${name}`);
    if (entry === undefined) continue;
    if (entry.kind === "whiteout") out.delete(name);
    else {
      out.set(name, {
        name,
        isFile: entry.kind === "file",
        isDirectory: entry.kind === "dir",
        isSymlink: false,
      });
    }
  }
  return [...out.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
}

async function listLower(
  state: OverlayState,
  key: string,
  ctx: OpContext,
): Promise<VfsDirEntry[]> {
  const path = state.lowerPath(key);
  const info = await state.fs.lstat(path);
  if (info === null || !info.isDirectory) return [];
  const entries = await state.fs.readDir(path);
  // The listing is accepted only if the directory was not swapped meanwhile.
  if (await state.fs.realPath(path) !== path) {
    throw escapeError(ctx.original, "was swapped for a symlink while listed");
  }
  return entries.map((e) => ({
    name: e.name,
    isFile: e.isFile,
    isDirectory: e.isDirectory,
    isSymlink: e.isSymlink,
  }));
}

/** Whether the key or an ancestor is an opaque directory (lower content hidden). */
export function hiddenByOpaque(
  state: OverlayState,
  parts: readonly string[],
): boolean {
  if (state.entries.size === 0) return false;
  for (let i = 1; i <= parts.length; i++) {
    const e = state.entries.get(joinKey(parts.slice(0, i)));
    if (e?.kind === "dir" && e.opaque) return true;
  }
  return false;
}

/**
 * Reads without walking: an overlay file at exactly this key, or a workspace
 * file whose descriptor's real path proves there was no symlink on the way.
 * `null` sends the caller to the full walk.
 */
async function fastRead(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<Uint8Array | null> {
  const key = joinKey(parts);
  if (parts.length === 0 || !keyWithin(key, ctx.within)) return null;
  const busy = state.lock.idle(key);
  if (busy !== undefined) await busy;
  if (state.entries.size > 0) {
    const entry = state.entries.get(key);
    if (entry?.kind === "file") {
      return (await vanishedIsMissing(
        state.readUpperFile(key, ctx.original, ctx.signal),
        ctx.original,
      )).bytes;
    }
    if (entry !== undefined) return null;
    let prefix = "";
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]}`;
      const e = state.entries.get(prefix);
      if (e !== undefined && (e.kind !== "dir" || e.opaque)) return null;
    }
  }
  const path = state.lowerPath(key);
  const got = await state.fs.readFileChecked!(path, {
    maxBytes: MAX_FILE_BYTES,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (got.kind === "file" && got.realPath === path) return got.data;
  return null;
}

async function vanishedIsMissing<T>(p: Promise<T>, original: string) {
  try {
    return await p;
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) {
      throw notFoundError(original, "read");
    }
    throw err;
  }
}

function isDir(original: string) {
  return invalidOpError(original, "read", "it is a directory");
}
