/**
 * Private: the overlay's mutating operations — write/append (with copy-up),
 * mkdir, remove (whiteouts) — each serialised per canonical key.
 *
 * The first touch of a path records its base: the lower state at that
 * moment (BLAKE3, size and mtime of a file; `dir`; `symlink`; `absent`), which
 * commit later compares with the workspace to detect a conflict.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { invalidOpError, invalidPathError, notFoundError } from "./_errors.ts";
import type { Base } from "./_manifest.ts";
import type { OverlayState } from "./_overlay_state.ts";
import {
  hiddenByOpaque,
  listResolved,
  type OpContext,
} from "./_overlay_read.ts";
import { type Resolved, resolvePath } from "./_resolve.ts";
import { joinKey } from "./rel_path.ts";

/**
 * Runs `fn` with the per-key lock of the path's canonical key held, on a
 * resolution made while holding it.
 */
export async function withResolved<T>(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
  followFinal: boolean,
  fn: (r: Resolved) => Promise<T>,
): Promise<T> {
  const opts = { followFinal, original: ctx.original, within: ctx.within };
  let version = state.version;
  let r = await resolvePath(state, parts, opts);
  for (;;) {
    const key = r.key;
    const first = r;
    const result = await state.lock.run([key], async () => {
      state.assertHealthy();
      // Resolve again only if the entries changed while we waited.
      const again = state.version === version
        ? first
        : await resolvePath(state, parts, opts);
      if (again.key !== key) return { retry: again } as const;
      return { value: await fn(again) } as const;
    });
    if ("value" in result) return result.value;
    version = state.version;
    r = result.retry;
  }
}

/** The base recorded when the overlay first takes over `key`. */
export async function baseOf(
  state: OverlayState,
  key: string,
  signal?: AbortSignal,
): Promise<Base> {
  const lower = await state.lowerState(key, signal);
  return lower.type === "blocked" ? { type: "absent" } : lower;
}

/** Writes (truncating) or appends; copies the lower content up for an append. */
export async function writeFileOp(
  state: OverlayState,
  parts: readonly string[],
  data: Uint8Array,
  ctx: OpContext & { append: boolean },
): Promise<void> {
  if (parts.length === 0) throw rootError(ctx.original);
  await withResolved(state, parts, ctx, true, async (r) => {
    const node = r.node;
    const isDir = node.where === "upper"
      ? node.entry.kind === "dir"
      : node.where === "lower" && node.info.isDirectory;
    if (isDir) throw invalidOpError(ctx.original, "write", "it is a directory");
    if (node.where === "lower" && !node.info.isFile) {
      throw invalidOpError(ctx.original, "write", "it is not a regular file");
    }
    let content = data;
    if (ctx.append && node.where !== "none") {
      const old = node.where === "upper"
        ? await state.readUpperFile(r.key, ctx.original, ctx.signal)
        : await state.readLowerFile(r.key, ctx.original, ctx.signal);
      content = concat(old.bytes, data);
    }
    const entry = state.entries.get(r.key);
    if (entry?.kind !== "file") {
      if (node.where === "none" && !node.parentExists) {
        await ensureDirs(state, r.parts.slice(0, -1), ctx.signal);
      }
      const base = entry?.base ?? await firstBase(state, r, ctx.signal);
      state.setEntry(r.key, { kind: "file", base });
      // The entry's journal line and the upper file are written together
      // (one round trip instead of two): the call returns only once both are
      // done. A crash in between leaves a file entry without its upper file
      // or an upper file without an entry, and `reconcile` drops either —
      // the write had not returned. No upper file existed here before (the
      // path had no file entry), so nothing older is lost.
      // (The longer I/O, the file, is started first.)
      const file = writeUpper(state, r.parts, content, ctx.signal);
      await settleBoth(file, state.persist());
      return;
    }
    await writeUpper(state, r.parts, content, ctx.signal);
  });
}

/** The base of a path touched for the first time, reusing what resolution learnt. */
async function firstBase(
  state: OverlayState,
  r: Resolved,
  signal: AbortSignal | undefined,
): Promise<Base> {
  const node = r.node;
  if (node.where === "none" && !node.hidden) return { type: "absent" };
  if (node.where === "lower" && node.info.isFile) {
    const { bytes, info } = await state.readLowerFile(r.key, r.key, signal);
    return {
      type: "file",
      hash: state.hasher.hashHex(bytes),
      size: bytes.length,
      mtime_ms: info.mtimeMs,
    };
  }
  return await baseOf(state, r.key, signal);
}

/** Writes an upper file, creating its upper parents when they are missing. */
export async function writeUpper(
  state: OverlayState,
  parts: readonly string[],
  content: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<void> {
  const path = state.upperPath(joinKey(parts));
  const opts = signal ? { signal } : {};
  try {
    await state.fs.writeFile(path, content, opts);
  } catch (err) {
    if (!KernelError.is(err, "NOT_FOUND")) throw err;
    const parent = state.upperPath(joinKey(parts.slice(0, -1)));
    await state.fs.mkdir(parent, { recursive: true });
    await state.fs.writeFile(path, content, opts);
  }
}

/** Creates a directory and its missing parents; an existing directory is fine. */
export async function mkdirOp(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<void> {
  if (parts.length === 0) throw rootError(ctx.original);
  await withResolved(state, parts, ctx, true, async (r) => {
    const node = r.node;
    if (node.where === "upper" && node.entry.kind === "dir") return;
    if (node.where === "lower" && node.info.isDirectory) return;
    if (node.where !== "none") {
      throw invalidOpError(
        ctx.original,
        "create directory",
        "a file exists there",
      );
    }
    await ensureDirs(state, r.parts, ctx.signal);
    await state.persist();
    await state.fs.mkdir(state.upperPath(r.key), { recursive: true });
  });
}

/**
 * Records a directory entry for every component of `parts` that does not
 * exist in the overlay view (opaque where a whiteout was). In memory only.
 */
export async function ensureDirs(
  state: OverlayState,
  parts: readonly string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i);
    const key = joinKey(prefix);
    const entry = state.entries.get(key);
    if (entry?.kind === "dir") continue;
    if (entry?.kind === "file") {
      throw invalidOpError(key, "create a directory in", "it is a file");
    }
    if (entry?.kind === "whiteout") {
      state.setEntry(key, { kind: "dir", base: entry.base, opaque: true });
      continue;
    }
    if (!hiddenByOpaque(state, prefix.slice(0, -1))) {
      const info = await state.fs.lstat(state.lowerPath(key));
      if (info?.isDirectory) continue;
    }
    const base = await baseOf(state, key, signal);
    state.setEntry(key, { kind: "dir", base, opaque: false });
  }
}

/** Removes a file, a symlink (not its target) or an empty directory. */
export async function removeOp(
  state: OverlayState,
  parts: readonly string[],
  ctx: OpContext,
): Promise<void> {
  if (parts.length === 0) throw rootError(ctx.original);
  await withResolved(state, parts, ctx, false, async (r) => {
    const node = r.node;
    if (node.where === "none") throw notFoundError(ctx.original, "remove");
    const isDir = node.where === "upper"
      ? node.entry.kind === "dir"
      : node.info.isDirectory;
    if (isDir && (await listResolved(state, r, ctx)).length > 0) {
      throw invalidOpError(
        ctx.original,
        "remove",
        "the directory is not empty",
      );
    }
    if (node.where === "lower") {
      state.setEntry(r.key, {
        kind: "whiteout",
        base: await baseOf(state, r.key, ctx.signal),
      });
    } else if (await lowerShows(state, r.parts)) {
      state.setEntry(r.key, { kind: "whiteout", base: node.entry.base });
    } else {
      for (const k of state.keysUnder(r.key)) state.deleteEntry(k);
    }
    await state.persist();
    await removeUpper(state, r.key, isDir);
  });
}

/** Whether the lower layer has something at `parts` that the view would show. */
export async function lowerShows(
  state: OverlayState,
  parts: readonly string[],
): Promise<boolean> {
  if (hiddenByOpaque(state, parts.slice(0, -1))) return false;
  return (await state.fs.lstat(state.lowerPath(joinKey(parts)))) !== null;
}

/** Deletes the upper copy of `key`, if any. */
export async function removeUpper(
  state: OverlayState,
  key: string,
  recursive: boolean,
): Promise<void> {
  try {
    await state.fs.remove(state.upperPath(key), { recursive });
  } catch (err) {
    // silent-ok: nothing in the upper layer to delete (a lower-only path).
    if (!KernelError.is(err, "NOT_FOUND")) throw err;
  }
}

/** Waits for both; rethrows the first failure only after both have settled. */
async function settleBoth(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
}

function rootError(original: string): KernelError {
  return invalidPathError(original, "names the mount root, which has no name");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
