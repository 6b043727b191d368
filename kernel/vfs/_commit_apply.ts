/**
 * Private: deciding and applying one commit step.
 *
 * `classify` compares the workspace now with the path's base (its state when
 * the overlay took it over) and with the overlay's version:
 * - equals the overlay's version ⇒ `done` (an interrupted commit already
 *   applied it; committing again is a no-op, which makes commit resumable);
 * - equals the base ⇒ `apply`;
 * - anything else ⇒ `VFS_CONFLICT` (applied anyway with `force`);
 * - a parent that is a symlink ⇒ `VFS_PATH_ESCAPE`, even with `force`.
 *
 * `apply` writes a file as a sibling temp file (created exclusively, so never
 * through a planted symlink; flushed to disk), appends the audit entry, then
 * renames it over the target — the workspace file is always either entirely
 * old or entirely new. Deno has no `openat`/`renameat`: parents are checked
 * with `lstat` right before and with `realPath` right after the rename, which
 * detects (but cannot prevent) a parent swapped for a symlink in between.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { escapeError } from "./_errors.ts";
import type { Base, Entry } from "./_manifest.ts";
import {
  kindOf,
  type LowerState,
  type OverlayState,
} from "./_overlay_state.ts";

/** One step of a commit. */
export interface Step {
  readonly key: string;
  readonly op: "write" | "delete" | "mkdir";
}

/** The outcome of {@linkcode classify}. */
export type Verdict =
  | { readonly status: "apply" | "done" }
  | {
    readonly status: "refused";
    readonly code: "VFS_CONFLICT" | "VFS_PATH_ESCAPE";
    readonly message: string;
  };

/** The step an entry asks for. */
export function stepOf(key: string, entry: Entry): Step {
  const op = entry.kind === "file"
    ? "write"
    : entry.kind === "dir"
    ? "mkdir"
    : "delete";
  return { key, op };
}

/** Decides what to do with one entry against the workspace as it is now. */
export async function classify(
  state: OverlayState,
  key: string,
  entry: Entry,
  options: { force: boolean; signal: AbortSignal | undefined },
): Promise<Verdict> {
  const lower = await state.lowerState(key, options.signal);
  if (lower.type === "blocked") {
    return {
      status: "refused",
      code: lower.symlink ? "VFS_PATH_ESCAPE" : "VFS_CONFLICT",
      message: `Cannot commit '${key}' as ${lower.why} in the workspace`,
    };
  }
  if (await reached(state, key, entry, lower, options.signal)) {
    return { status: "done" };
  }
  if (sameState(lower, entry.base) || options.force) return { status: "apply" };
  return {
    status: "refused",
    code: "VFS_CONFLICT",
    message: `Cannot commit '${key}' as the workspace changed since the ` +
      `overlay took it over (was ${describe(entry.base)}, now ${
        describe(lower)
      })`,
  };
}

async function reached(
  state: OverlayState,
  key: string,
  entry: Entry,
  lower: Base,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (entry.kind === "whiteout") return lower.type === "absent";
  if (entry.kind === "dir") return lower.type === "dir";
  if (lower.type !== "file") return false;
  const upper = await state.readUpperFile(key, key, signal);
  return state.hasher.hashHex(upper.bytes) === lower.hash;
}

/** Whether two lower states are the same (files by content hash). */
export function sameState(a: LowerState, b: Base): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "file" && b.type === "file") return a.hash === b.hash;
  if (a.type === "symlink" && b.type === "symlink") {
    return a.target === b.target;
  }
  return true;
}

function describe(s: LowerState): string {
  switch (s.type) {
    case "file":
      return `a file of ${s.size} bytes with BLAKE3 ${s.hash.slice(0, 12)}…`;
    case "dir":
      return "a directory";
    case "symlink":
      return `a symlink to '${s.target}'`;
    case "absent":
      return "absent";
    case "blocked":
      return s.why;
  }
}

/**
 * Creates the missing directories of `parts` in the workspace, one level at
 * a time, refusing a symlink (`VFS_PATH_ESCAPE`) or a file (`VFS_CONFLICT`).
 */
export async function ensureLowerDirs(
  state: OverlayState,
  parts: readonly string[],
): Promise<void> {
  let key = "";
  for (const part of parts) {
    key = key === "" ? part : `${key}/${part}`;
    const path = state.lowerPath(key);
    const info = await state.fs.lstat(path);
    if (info === null) {
      await state.fs.mkdir(path, { mode: 0o755 });
      continue;
    }
    if (info.isDirectory) continue;
    if (info.isSymlink) {
      throw escapeError(
        key,
        "has a symlink in the workspace where a directory is needed",
      );
    }
    throw new KernelError(
      "VFS_CONFLICT",
      `Cannot commit below '${key}' as it is ${kindOf(info)} in the workspace`,
    );
  }
}

/** After a rename: the parent must still be the real directory it was. */
export async function verifyParent(
  state: OverlayState,
  parts: readonly string[],
): Promise<void> {
  const path = state.lowerPath(parts.join("/"));
  const real = await state.fs.realPath(path);
  if (real !== path) {
    state.logger?.log(
      "error",
      "A workspace directory was swapped for a symlink during commit",
      {
        expected: path,
        actual: real,
      },
    );
    throw escapeError(
      parts.join("/"),
      "was swapped for a symlink while being committed",
    );
  }
}

/** The deterministic temp name of a commit (resumable: a leftover is replaced). */
export function tempPath(
  state: OverlayState,
  key: string,
  session: string,
): string {
  const i = key.lastIndexOf("/");
  const dir = i < 0 ? "" : key.slice(0, i);
  const name = i < 0 ? key : key.slice(i + 1);
  const tag = state.hasher.hashHex(`${session}/${name}`).slice(0, 16);
  const file = `.astrid-commit-${tag}.tmp`;
  return state.lowerPath(dir === "" ? file : `${dir}/${file}`);
}

/** Removes a leftover temp file (or symlink) of an interrupted commit. */
export async function clearTemp(
  state: OverlayState,
  path: string,
): Promise<void> {
  const info = await state.fs.lstat(path);
  if (info === null) return;
  if (info.isDirectory) {
    throw new KernelError(
      "VFS_CONFLICT",
      `Cannot commit as '${path}' is a directory where a temp file goes`,
    );
  }
  await state.fs.remove(path);
}
