/**
 * Private: resolving a normalised overlay path to its canonical key, walking
 * the overlay view one component at a time.
 *
 * At every component: an overlay entry decides first (a whiteout ends the
 * walk, an upper file or directory is never a symlink); otherwise the lower
 * layer is `lstat`ed. A lower symlink is followed only when its target,
 * resolved lexically against the canonical directory that holds it, stays
 * inside the workspace (and inside `within`); else `VFS_PATH_ESCAPE`. So
 * every component is checked, in the lower layer too, and the key that comes
 * out names the same file whichever alias (symlink) was used to reach it.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileInfo } from "../core/ports.ts";
import type { Entry } from "./_manifest.ts";
import { escapeError, invalidOpError, invalidPathError } from "./_errors.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { joinKey, keyWithin, normalizeParts } from "./rel_path.ts";

/** Most symlinks followed in one resolution (Linux `MAXSYMLINKS`). */
export const MAX_SYMLINK_HOPS = 40;

/** What is at a resolved key. */
export type ResolvedNode =
  | {
    readonly where: "upper";
    readonly entry: Extract<Entry, { kind: "file" | "dir" }>;
  }
  /** `info` from `lstat`: a symlink only when the final one was not followed. */
  | { readonly where: "lower"; readonly info: FileInfo }
  /**
   * Nothing; `parentExists` tells whether the parent directory exists in the
   * view; `hidden` that the lower layer was not looked at (below a whiteout
   * or an opaque directory), so the workspace may still hold something there.
   */
  | {
    readonly where: "none";
    readonly parentExists: boolean;
    readonly hidden: boolean;
  };

/** A resolved path. */
export interface Resolved {
  /** The canonical key (`""` = the root). */
  readonly key: string;
  /** Its components. */
  readonly parts: readonly string[];
  /** What is there. */
  readonly node: ResolvedNode;
}

/** Options of {@linkcode resolvePath}. */
export interface ResolveOptions {
  /** Follow a final symlink (reads, writes, stat) or not (remove, rename). */
  readonly followFinal: boolean;
  /** The path as the caller wrote it, for messages. */
  readonly original: string;
  /** The key the result must stay inside (`""` = the whole workspace). */
  readonly within: string;
}

/**
 * Resolves normalised components in the overlay view.
 *
 * @param state The overlay.
 * @param start The components.
 * @param options Follow mode, message path, scope.
 * @returns The canonical key and what is there.
 * @throws {KernelError} `VFS_PATH_ESCAPE` (a symlink leaves the workspace or the scope),
 *   `VFS_PATH_INVALID` (too many symlinks), `VFS_INVALID_OPERATION` (a file used as a directory).
 */
export async function resolvePath(
  state: OverlayState,
  start: readonly string[],
  options: ResolveOptions,
): Promise<Resolved> {
  // An overlay file or directory at exactly this path wins without any I/O:
  // overlay keys are canonical, and the upper layer holds no symlinks.
  const exact = start.length > 0
    ? state.entries.get(joinKey(start))
    : undefined;
  if (exact !== undefined && exact.kind !== "whiteout") {
    return done(start, { where: "upper", entry: exact }, options);
  }
  if (start.length > 1) {
    // The final component's lstat runs alongside the parent's realPath (two
    // independent reads: one round trip instead of two); it is used only if
    // the parent is plain, else the full walk looks again.
    const key = joinKey(start);
    const lstat = exact === undefined
      ? state.fs.lstat(state.lowerPath(key))
      : undefined;
    lstat?.catch(() => {}); // silent-ok: awaited (and thrown) by the walk when used
    if (await plainLowerParent(state, start)) {
      try {
        return await walk(
          state,
          start.slice(0, -1),
          start.slice(-1),
          options,
          lstat && { key, info: lstat },
        );
      } catch (err) {
        // silent-ok: the parent turned out not to be a directory; the full walk says so properly.
        if (!KernelError.is(err, "HOST_IO")) throw err;
      }
    }
  }
  return await walk(state, [], start, options);
}

/** Walks `rest` from the canonical, existing, unhidden directory `from`. */
async function walk(
  state: OverlayState,
  from: readonly string[],
  start: readonly string[],
  options: ResolveOptions,
  prefetched?: {
    readonly key: string;
    readonly info: Promise<FileInfo | null>;
  },
): Promise<Resolved> {
  let pending = prefetched;

  const { original } = options;
  let rest = [...start];
  let canon: string[] = [...from];
  let hidden = false; // below an opaque directory: the lower layer does not show
  let lowerMissing = false; // a component is absent from the lower layer
  let exists = true; // canon exists in the view
  let hops = 0;
  while (rest.length > 0) {
    const name = rest.shift()!;
    const last = rest.length === 0;
    canon.push(name);
    const key = joinKey(canon);
    const entry = state.entries.get(key);
    if (entry !== undefined) {
      if (entry.kind === "whiteout") {
        return done(canon.concat(rest), none(last && exists, true), options);
      }
      if (entry.kind === "file") {
        if (!last) throw notDir(original, key);
        return done(canon, { where: "upper", entry }, options);
      }
      if (entry.opaque) hidden = true;
      if (last) return done(canon, { where: "upper", entry }, options);
      exists = true;
      continue;
    }
    if (hidden || lowerMissing) {
      if (last) return done(canon, none(exists, hidden), options);
      exists = false;
      continue;
    }
    const info = pending?.key === key
      ? await pending.info
      : await state.fs.lstat(state.lowerPath(key));
    pending = undefined;
    if (info === null) {
      if (last) return done(canon, none(exists, false), options);
      lowerMissing = true;
      exists = false;
      continue;
    }
    if (info.isSymlink && (!last || options.followFinal)) {
      if (++hops > MAX_SYMLINK_HOPS) {
        throw invalidPathError(
          original,
          `goes through more than ${MAX_SYMLINK_HOPS} symlinks`,
        );
      }
      const target = await readLinkOrNull(state, key);
      if (target === null) {
        // Replaced between lstat and readlink: look at this component again.
        canon.pop();
        rest.unshift(name);
        continue;
      }
      canon = [];
      rest = [...targetParts(state, key, target, original), ...rest];
      hidden = false;
      lowerMissing = false;
      exists = true;
      continue;
    }
    if (last) return done(canon, { where: "lower", info }, options);
    if (!info.isDirectory) throw notDir(original, key);
  }
  return done(canon, { where: "lower", info: ROOT_INFO }, options);
}

const ROOT_INFO: FileInfo = {
  isFile: false,
  isDirectory: true,
  isSymlink: false,
  size: 0,
  mode: null,
  mtimeMs: null,
};

function none(parentExists: boolean, hidden: boolean): ResolvedNode {
  return { where: "none", parentExists, hidden };
}

/**
 * The common case in one call: no overlay entry hides or replaces a parent,
 * and `realPath` of the parent in the workspace is the parent itself — so no
 * parent component is a symlink and all but the last are directories (the
 * last may still be a file: the walk's `lstat` below it then fails, and the
 * caller falls back to the full walk).
 */
async function plainLowerParent(
  state: OverlayState,
  parts: readonly string[],
): Promise<boolean> {
  if (state.entries.size > 0) {
    let key = "";
    for (let i = 0; i < parts.length - 1; i++) {
      key = i === 0 ? parts[0]! : `${key}/${parts[i]}`;
      const e = state.entries.get(key);
      if (e !== undefined && (e.kind !== "dir" || e.opaque)) return false;
    }
  }
  const parent = state.lowerPath(joinKey(parts.slice(0, -1)));
  try {
    return await state.fs.realPath(parent) === parent;
  } catch (err) {
    // silent-ok: a missing or non-directory parent; the full walk will say which.
    if (KernelError.is(err, "NOT_FOUND") || KernelError.is(err, "HOST_IO")) {
      return false;
    }
    throw err;
  }
}

function done(
  parts: readonly string[],
  node: ResolvedNode,
  options: ResolveOptions,
): Resolved {
  const key = joinKey(parts);
  if (!keyWithin(key, options.within)) {
    throw escapeError(
      options.original,
      "resolves outside its directory handle",
    );
  }
  return { key, parts, node };
}

/** The link's target, or `null` when it is no longer a symlink. */
async function readLinkOrNull(
  state: OverlayState,
  key: string,
): Promise<string | null> {
  const path = state.lowerPath(key);
  try {
    return await state.fs.readLink(path);
  } catch (err) {
    // silent-ok: EINVAL = replaced by a non-link meanwhile; the caller looks again (bounded by the hop limit).
    if (KernelError.is(err, "HOST_IO") || KernelError.is(err, "NOT_FOUND")) {
      return null;
    }
    throw err;
  }
}

/** The components, from the workspace root, a symlink's target names. */
function targetParts(
  state: OverlayState,
  linkKey: string,
  target: string,
  original: string,
): string[] {
  const leaves =
    `is reached through the symlink '${linkKey}' whose target leaves the workspace`;
  if (target.startsWith("/")) {
    const abs = target.split("/");
    for (const root of state.roots) {
      const rootParts = root.split("/");
      const inside = rootParts.length <= abs.length &&
        rootParts.every((p, i) => abs[i] === p);
      if (inside) {
        return escapeOnFailure(
          () => normalizeParts(abs.slice(rootParts.length), original),
          original,
          leaves,
        );
      }
    }
    throw escapeError(original, leaves);
  }
  const dir = linkKey.split("/").slice(0, -1);
  return escapeOnFailure(
    () => normalizeParts([...dir, ...target.split("/")], original),
    original,
    leaves,
  );
}

/** A target that climbs above the root (or is malformed) is an escape. */
function escapeOnFailure(
  fn: () => string[],
  original: string,
  why: string,
): string[] {
  try {
    return fn();
  } catch (err) {
    const escape = escapeError(original, why);
    throw Object.assign(escape, { cause: err });
  }
}

function notDir(original: string, key: string) {
  return invalidOpError(
    original,
    "resolve",
    `'${key}' is a file, not a directory`,
  );
}
