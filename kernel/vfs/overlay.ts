/**
 * The copy-on-write overlay of one session over its workspace.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { PrincipalId, SessionId } from "../core/ids.ts";
import { commitOverlay } from "./_commit.ts";
import { diffOverlay } from "./_diff.ts";
import { discardOverlay } from "./_discard.ts";
import {
  type OpContext,
  readDirOp,
  readFileOp,
  settledResolve,
  statOp,
} from "./_overlay_read.ts";
import { renameOp } from "./_overlay_rename.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { openOverlayState } from "./_open.ts";
import { mkdirOp, removeOp, writeFileOp } from "./_overlay_write.ts";
import { invalidOpError, notFoundError } from "./_errors.ts";
import { joinKey, splitRelPath } from "./rel_path.ts";
import type {
  CommitOptions,
  CommitResult,
  DiffOptions,
  DiscardOptions,
  OverlayChange,
  OverlayDeps,
  OverlayOptions,
} from "./overlay_types.ts";
import type { Mount, MountCallOptions, VfsDirEntry, VfsStat } from "./vfs.ts";

const UTF8 = new TextEncoder();

/**
 * A session's copy-on-write view of a workspace: reads see the overlay's
 * upper layer first, then the workspace; writes, deletions (whiteouts) and
 * renames stay in the upper layer under `ASTRID_HOME` — persisted across
 * restarts — until `commit()` (gated and audited) or `discard()`. Paths are
 * relative to the workspace root. Open with {@linkcode Overlay.open}.
 *
 * @example Write, review, discard
 * ```ts
 * import assert from "node:assert/strict";
 * import { Overlay } from "./overlay.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * import type { PrincipalId, SessionId } from "../core/ids.ts";
 * const ws = await Deno.makeTempDir();
 * const home = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${ws}/a.txt`, "old\n");
 * const refuse = { decide: () => Promise.reject(new Error("not in this example")) };
 * const overlay = await Overlay.open(
 *   { fs: createDenoFs(), gate: refuse, audit: { append: () => Promise.resolve() } },
 *   { workspace: ws, dir: `${home}/overlay`, principal: "default" as PrincipalId,
 *     session: "00000000-0000-4000-8000-000000000001" as SessionId },
 * );
 * await overlay.writeFile("a.txt", "new\n");
 * assert.equal(await Deno.readTextFile(`${ws}/a.txt`), "old\n");
 * assert.equal(new TextDecoder().decode(await overlay.readFile("a.txt")), "new\n");
 * const [change] = await overlay.diff();
 * assert.equal(change?.change, "modified");
 * await overlay.discard();
 * assert.deepEqual(overlay.dirtyPaths(), []);
 * await Deno.remove(ws, { recursive: true });
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export class Overlay implements Mount {
  #state: OverlayState;
  #deps: OverlayDeps;
  #principal: PrincipalId;
  #session: SessionId;

  /**
   * Use {@linkcode Overlay.open}.
   *
   * @param state The loaded state.
   * @param deps Dependencies.
   * @param owner Principal and session.
   */
  constructor(
    state: OverlayState,
    deps: OverlayDeps,
    owner: { principal: PrincipalId; session: SessionId },
  ) {
    this.#state = state;
    this.#deps = deps;
    this.#principal = owner.principal;
    this.#session = owner.session;
  }

  /**
   * Opens (or creates) the overlay stored in `options.dir`, repairing what an
   * interrupted run left behind.
   *
   * @param deps File system, gate, audit log.
   * @param options Workspace, overlay directory, owner.
   * @returns The overlay.
   * @throws {TypeError} When `deps.fs` has no `readFileChecked` or the workspace path is relative.
   * @throws {KernelError} `INVALID_INPUT` (the workspace is not a directory, the overlay
   *   belongs to another workspace, or one contains the other); `HOST_IO` (a corrupt manifest or journal).
   */
  static async open(
    deps: OverlayDeps,
    options: OverlayOptions,
  ): Promise<Overlay> {
    const state = await openOverlayState(deps, options);
    return new Overlay(state, deps, options);
  }

  /** The canonical workspace root (the lower layer). */
  get workspace(): string {
    return this.#state.lowerRoot;
  }

  /** The overlay directory (holds `upper/`, `manifest.json` and `journal.jsonl`). */
  get dir(): string {
    return this.#state.dir;
  }

  /** The owning principal. */
  get principal(): PrincipalId {
    return this.#principal;
  }

  /** The session. */
  get session(): SessionId {
    return this.#session;
  }

  /**
   * Reads a file: the overlay's copy, else the workspace's.
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @returns The bytes.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async readFile(
    path: string,
    options: MountCallOptions = {},
  ): Promise<Uint8Array> {
    const [parts, ctx] = this.#op(path, options);
    return await readFileOp(this.#state, parts, ctx);
  }

  /**
   * Creates or truncates a file in the upper layer (parents are created).
   *
   * @param path Workspace-relative path.
   * @param data Bytes or UTF-8 text.
   * @param options Scope and cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION` (a directory).
   */
  async writeFile(
    path: string,
    data: Uint8Array | string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const [parts, ctx] = this.#op(path, options);
    await writeFileOp(this.#state, parts, bytes(data), {
      ...ctx,
      append: false,
    });
  }

  /**
   * Appends to a file; a workspace file is copied up first (serialised per path).
   *
   * @param path Workspace-relative path.
   * @param data Bytes or UTF-8 text.
   * @param options Scope and cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async appendFile(
    path: string,
    data: Uint8Array | string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const [parts, ctx] = this.#op(path, options);
    await writeFileOp(this.#state, parts, bytes(data), {
      ...ctx,
      append: true,
    });
  }

  /**
   * Removes a file, a symlink or an empty directory (a whiteout for workspace paths).
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (not empty), `VFS_PATH_*`.
   */
  async remove(path: string, options: MountCallOptions = {}): Promise<void> {
    const [parts, ctx] = this.#op(path, options);
    await removeOp(this.#state, parts, ctx);
  }

  /**
   * Renames a file or directory in the overlay view.
   *
   * @param from Workspace-relative source.
   * @param to Workspace-relative target (an existing file is replaced).
   * @param options Scope and cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async rename(
    from: string,
    to: string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const [fromParts, ctx] = this.#op(from, options);
    const toParts = splitRelPath(to);
    await renameOp(this.#state, fromParts, toParts, { ...ctx, originalTo: to });
  }

  /**
   * Creates a directory and its missing parents.
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @throws {KernelError} `VFS_INVALID_OPERATION` (a file is there), `VFS_PATH_*`.
   */
  async mkdir(path: string, options: MountCallOptions = {}): Promise<void> {
    const [parts, ctx] = this.#op(path, options);
    await mkdirOp(this.#state, parts, ctx);
  }

  /**
   * Lists a directory: both layers, minus whiteouts, sorted by name.
   *
   * @param path Workspace-relative path (`.` = the root).
   * @param options Scope and cancellation.
   * @returns The entries.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (not a directory), `VFS_PATH_*`.
   */
  async readDir(
    path: string,
    options: MountCallOptions = {},
  ): Promise<VfsDirEntry[]> {
    const [parts, ctx] = this.#op(path, options);
    return await readDirOp(this.#state, parts, ctx);
  }

  /**
   * Describes a path (symlinks inside the workspace followed).
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @returns Type, size and mtime.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_*`.
   */
  async stat(path: string, options: MountCallOptions = {}): Promise<VfsStat> {
    const [parts, ctx] = this.#op(path, options);
    return await statOp(this.#state, parts, ctx);
  }

  /**
   * Whether a path exists in the overlay view.
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @returns `true` when it exists.
   * @throws {KernelError} `VFS_PATH_*` (escapes are errors, not `false`).
   */
  async exists(path: string, options: MountCallOptions = {}): Promise<boolean> {
    try {
      await this.stat(path, options);
      return true;
    } catch (err) {
      if (KernelError.is(err, "VFS_NOT_FOUND")) return false;
      throw err;
    }
  }

  /**
   * The canonical key of an existing directory, for a directory handle.
   *
   * @param path Workspace-relative path.
   * @param options Scope and cancellation.
   * @returns The key (`""` = the root).
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (not a directory), `VFS_PATH_*`.
   */
  async resolveDir(
    path: string,
    options: MountCallOptions = {},
  ): Promise<string> {
    const [parts, ctx] = this.#op(path, options);
    const r = await settledResolve(this.#state, parts, ctx, true);
    if (r.node.where === "none") throw notFoundError(path, "open");
    const isDir = r.node.where === "upper"
      ? r.node.entry.kind === "dir"
      : r.node.info.isDirectory;
    if (!isDir) throw invalidOpError(path, "open", "it is not a directory");
    return r.key;
  }

  /**
   * Every path the overlay holds (files, directories, whiteouts), sorted.
   *
   * @returns Workspace-relative paths.
   */
  dirtyPaths(): string[] {
    return [...this.#state.entries.keys()].sort();
  }

  /**
   * What commit would change, with unified diffs for text files.
   *
   * @param options Paths and cancellation.
   * @returns The changes, sorted by path.
   * @throws {KernelError} `VFS_NOT_FOUND` for a chosen path the overlay does not hold.
   */
  async diff(options: DiffOptions = {}): Promise<OverlayChange[]> {
    return await diffOverlay(this.#state, options);
  }

  /**
   * Writes the overlay (or chosen paths) into the workspace — a gated,
   * audited action. Each file lands atomically (temp file + rename); a path
   * whose workspace file changed since copy-up is refused (`VFS_CONFLICT`)
   * unless `force`.
   *
   * @param options Paths, force, correlation, progress, cancellation.
   * @returns What landed and what was refused.
   * @throws {KernelError} The gate's refusal code (`APPROVAL_DENIED`, `APPROVAL_DEFERRED`,
   *   `MANIFEST_DENIED`, `POLICY_BLOCKED`, `BUDGET_EXCEEDED`, `AUDIT_FAILED`) with nothing written;
   *   `AUDIT_FAILED`, `HOST_IO`, `ABORTED` part-way (what landed stays committed).
   */
  async commit(options: CommitOptions = {}): Promise<CommitResult> {
    return await commitOverlay({
      state: this.#state,
      gate: this.#deps.gate,
      audit: this.#deps.audit,
      principal: this.#principal,
      session: this.#session,
    }, options);
  }

  /**
   * Forgets overlay changes so the workspace shows through again.
   *
   * @param options Paths (all when absent).
   * @returns The discarded paths.
   * @throws {KernelError} `VFS_NOT_FOUND` for a chosen path the overlay does not hold.
   */
  async discard(options: DiscardOptions = {}): Promise<string[]> {
    return await discardOverlay(this.#state, this.#session, options);
  }

  #op(path: string, options: MountCallOptions): [string[], OpContext] {
    const parts = splitRelPath(path);
    const within = options.within === undefined || options.within === ""
      ? ""
      : joinKey(splitRelPath(options.within));
    const ctx: OpContext = options.signal
      ? { original: path, within, signal: options.signal }
      : { original: path, within };
    return [parts, ctx];
  }
}

function bytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? UTF8.encode(data) : data;
}
