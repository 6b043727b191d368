/**
 * The virtual file system: a copy-on-write overlay per session over the
 * workspace, guest path mapping, and directory handles.
 *
 * - {@linkcode Overlay}: lower = the workspace (never written until commit),
 *   upper = `<ASTRID_HOME>/home/<principal>/.local/overlay/<session>/upper`,
 *   which persists across daemon restarts with its `manifest.json` (the dirty
 *   set: whiteouts, directories, files, each with its copy-up base — the
 *   workspace file's BLAKE3, size and mtime when the overlay took it over, or
 *   `absent`; each change appended as one line to `journal.jsonl`, compacted
 *   into the manifest on open, at commit and when it outgrows the manifest).
 *   Reads see upper, then lower; writes go to upper; deleting a
 *   workspace file records a whiteout; `rename`, `mkdir`, `readDir` (the
 *   union, minus whiteouts) and `stat` work on the merged view. `diff()`
 *   shows added / modified / deleted paths with unified text diffs (binary:
 *   a NUL in the first 8 KiB or invalid UTF-8); `commit()` and `discard()`
 *   take all paths or chosen ones.
 * - {@linkcode OverlayManager}: one shared overlay per (principal, session),
 *   so two capsules of a session see each other's writes; sessions are
 *   isolated. {@linkcode OverlayManager.vfs} gives a {@linkcode SessionVfs}.
 * - {@linkcode SessionVfs}: the {@linkcode Vfs} the runtime's fs host calls
 *   use, over guest paths (reference §8.2): `home://p` → the principal home
 *   (direct), `/tmp[/p]` → `home/<principal>/.local/tmp/` (direct), `cwd://p`,
 *   relative paths and absolute paths inside the workspace → the overlay.
 * - {@linkcode DirHandle}: a capability rooted at one directory; sub-handles
 *   only narrow; closing cascades.
 * - {@linkcode unifiedDiff}, {@linkcode isBinary}: the diff primitives.
 *
 * Security model:
 * - Path resolution refuses, with distinct codes: `VFS_PATH_ESCAPE` for an
 *   absolute path outside the mount, a `..` above the root (applied
 *   lexically, before symlinks), and a symlink whose target leaves the
 *   workspace (or the directory handle); `VFS_PATH_INVALID` for a NUL byte,
 *   more than 4096 bytes, a component over 255 bytes, an empty path or a
 *   nameless target (the mount root), and more than 40 symlinks.
 * - Every component is checked with `lstat`, in the lower layer too (Deno's
 *   permission flags do not stop symlink escapes, feasibility §8). A symlink
 *   of the workspace whose target stays inside is followed and the overlay
 *   works on the canonical path (one file, whichever alias reached it); the
 *   overlay never creates a symlink — its upper layer holds real files and
 *   renaming a symlink is refused.
 * - Check-then-use races: a read opens the file once and accepts the bytes
 *   only when the open descriptor's real path is exactly the resolved path
 *   (`FileSystem.readFileChecked`: `/proc/self/fd` where the sandbox allows,
 *   else `realpath` plus device/inode equality with the descriptor). A file
 *   swapped for a symlink to `/etc/passwd` between resolution and read is
 *   refused, never read. What Deno cannot do: `O_NOFOLLOW` is ignored under
 *   scoped permissions (Deno resolves symlinks before opening), and there is
 *   no `openat`/`renameat`, so commit checks parent directories with `lstat`
 *   just before and `realPath` just after each rename — a parent swapped for
 *   a symlink in that window (microseconds, and only by a process that can
 *   write the workspace directly; capsules cannot) is detected and reported,
 *   not prevented. Hard links are not detected.
 * - Commit is a gated action: the gate decides `{type: "overlay_commit",
 *   session_id, paths}` before anything is written (capsules are refused by
 *   the manifest layer; safe/guided modes ask a human; yolo allows), and a
 *   refusal throws its code. Each path then gets an `overlay_commit_path`
 *   audit entry with its BLAKE3 before it lands. Files land by temp file
 *   (created exclusively, flushed) + rename, so each workspace file is
 *   entirely old or entirely new even if the process is killed; a path whose
 *   workspace version changed since copy-up is refused with `VFS_CONFLICT`
 *   unless forced; a symlink on the way is refused even when forced.
 *   Commit is resumable: a path whose rename landed before a crash is
 *   recognised as done.
 * - The manifest and journal are validated on load (keys must be normalised
 *   relative paths), so an edited one cannot aim a commit outside the
 *   workspace; a torn last journal line (a process killed mid-append) is
 *   ignored, a corrupt complete line refused.
 *
 * @example Write through the overlay, review, commit (gated and audited)
 * ```ts
 * import assert from "node:assert/strict";
 * import { OverlayManager } from "./mod.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * import { makeGate } from "../security/_gate_fixture_test.ts";
 * import type { PrincipalId, SessionId } from "../core/ids.ts";
 *
 * const ws = await Deno.makeTempDir();
 * const home = await Deno.makeTempDir();
 * const gate = await makeGate({ mode: { mode: "yolo" } }); // yolo: commits need no human
 * const manager = new OverlayManager(
 *   { fs: createDenoFs(), gate: gate.gate, audit: gate.audit },
 *   { homes: `${home}/home` },
 * );
 * const principal = "default" as PrincipalId;
 * const session = "00000000-0000-4000-8000-000000000001" as SessionId;
 * const vfs = await manager.vfs(principal, session, { workspace: ws });
 * await vfs.writeFile("src/a.ts", "export const a = 1;\n");
 * await assert.rejects(vfs.readFile("/etc/passwd"), { code: "VFS_PATH_ESCAPE" });
 *
 * const overlay = await manager.forSession(principal, session, { workspace: ws });
 * const [change] = await overlay.diff({ paths: ["src/a.ts"] });
 * assert.equal(change?.change, "added");
 * const result = await overlay.commit({ callId: "review-1" });
 * assert.equal(result.committed.length, 2); // the new directory, then the file
 * assert.equal(await Deno.readTextFile(`${ws}/src/a.ts`), "export const a = 1;\n");
 * await gate.close();
 * await Deno.remove(ws, { recursive: true });
 * await Deno.remove(home, { recursive: true });
 * ```
 *
 * @module
 */
export { Overlay } from "./overlay.ts";
export type {
  CommitAudit,
  CommitGate,
  CommitOptions,
  CommitRefusal,
  CommitResult,
  CommittedPath,
  DiffOptions,
  DiscardOptions,
  OverlayChange,
  OverlayDeps,
  OverlayOptions,
} from "./overlay_types.ts";
export { OverlayManager } from "./overlay_manager.ts";
export type {
  ForSessionOptions,
  OverlayManagerOptions,
} from "./overlay_manager.ts";
export { SessionVfs } from "./session_vfs.ts";
export type { SessionMounts } from "./session_vfs.ts";
export { DirHandle } from "./dir_handle.ts";
export { DirectMount } from "./direct_mount.ts";
export type {
  Mount,
  MountCallOptions,
  Vfs,
  VfsCallOptions,
  VfsDirEntry,
  VfsStat,
} from "./vfs.ts";
export { mapGuestPath, resolveGuestPath } from "./guest_path.ts";
export type {
  GuestTarget,
  MapGuestPathOptions,
  MountName,
  MountRoots,
  ResolvedGuestPath,
} from "./guest_path.ts";
export {
  checkPathText,
  joinKey,
  keyWithin,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  normalizeParts,
  splitRelPath,
} from "./rel_path.ts";
export {
  BINARY_SNIFF_BYTES,
  isBinary,
  MAX_DIFF_LINES,
  unifiedDiff,
} from "./line_diff.ts";
export type { UnifiedDiffOptions } from "./line_diff.ts";
