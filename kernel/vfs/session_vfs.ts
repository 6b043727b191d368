/**
 * The file view of one (principal, session, workspace): guest paths mapped
 * to the session overlay, the principal home and the private `/tmp`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { invalidOpError } from "./_errors.ts";
import { DirHandle } from "./dir_handle.ts";
import {
  type MountName,
  type MountRoots,
  type ResolvedGuestPath,
  resolveGuestPath,
} from "./guest_path.ts";
import { joinKey } from "./rel_path.ts";
import type {
  Mount,
  Vfs,
  VfsCallOptions,
  VfsDirEntry,
  VfsStat,
} from "./vfs.ts";

/** The mounts of a session. */
export interface SessionMounts {
  /** The session overlay (lower = the workspace). */
  readonly workspace: Mount;
  /** The canonical workspace root and its configured alias, for absolute guest paths. */
  readonly workspaceRoots: readonly string[];
  /** The absolute host roots of the mounts (what resolved paths name). */
  readonly roots: MountRoots;
  /** The principal home, or `null` when it does not exist (`home://` then fails). */
  readonly home: Mount | null;
  /** Opens the private `/tmp` (created on first use). */
  tmp(): Promise<Mount>;
}

/**
 * A {@linkcode Vfs} over guest paths (reference §8.2): `home://p` → the
 * principal home (direct), `/tmp[/p]` → `home/<principal>/.local/tmp/`
 * (direct), `cwd://p`, relative paths and absolute paths inside the
 * workspace → the session overlay (copy-on-write). Everything else is
 * `VFS_PATH_ESCAPE`.
 *
 * @example Guest paths land on three mounts
 * ```ts
 * import assert from "node:assert/strict";
 * import { OverlayManager } from "./overlay_manager.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * import type { PrincipalId, SessionId } from "../core/ids.ts";
 * const ws = await Deno.makeTempDir();
 * const astrid = await Deno.makeTempDir();
 * await Deno.mkdir(`${astrid}/home/default`, { recursive: true });
 * const unused = () => Promise.reject(new Error("no commit here"));
 * const manager = new OverlayManager(
 *   { fs: createDenoFs(), gate: { decide: unused }, audit: { append: unused } },
 *   { homes: `${astrid}/home` },
 * );
 * const vfs = await manager.vfs(
 *   "default" as PrincipalId,
 *   "00000000-0000-4000-8000-000000000001" as SessionId,
 *   { workspace: ws },
 * );
 * await vfs.writeFile("notes.md", "overlay");       // the session overlay
 * await vfs.writeFile("home://profile.md", "home"); // the principal home, directly
 * await vfs.writeFile("/tmp/scratch.txt", "tmp");   // home/default/.local/tmp
 * assert.equal(await Deno.stat(`${ws}/notes.md`).catch(() => null), null);
 * assert.equal(await Deno.readTextFile(`${astrid}/home/default/profile.md`), "home");
 * assert.equal(await Deno.readTextFile(`${astrid}/home/default/.local/tmp/scratch.txt`), "tmp");
 * await Deno.remove(ws, { recursive: true });
 * await Deno.remove(astrid, { recursive: true });
 * ```
 */
export class SessionVfs implements Vfs {
  #mounts: SessionMounts;
  #tmp: Promise<Mount> | null = null;
  #issued = new WeakSet<ResolvedGuestPath>();

  /**
   * Usually made by `OverlayManager.vfs()`.
   *
   * @param mounts The session's mounts.
   */
  constructor(mounts: SessionMounts) {
    this.#mounts = mounts;
  }

  /**
   * Reads a whole file.
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @returns The bytes.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async readFile(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<Uint8Array> {
    const [mount, rel] = await this.#target(path);
    return await mount.readFile(rel, options);
  }

  /**
   * Creates or truncates a file; missing parents are created.
   *
   * @param path A guest path.
   * @param data Bytes or UTF-8 text.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async writeFile(
    path: string | ResolvedGuestPath,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.writeFile(rel, data, options);
  }

  /**
   * Appends to a file (created when missing).
   *
   * @param path A guest path.
   * @param data Bytes or UTF-8 text.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async appendFile(
    path: string | ResolvedGuestPath,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.appendFile(rel, data, options);
  }

  /**
   * Removes a file, a symlink or an empty directory.
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  async remove(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.remove(rel, options);
  }

  /**
   * Renames within one mount; an existing file at `to` is replaced.
   *
   * @param from A guest path.
   * @param to A guest path.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (also across mounts), `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  async rename(
    from: string,
    to: string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, relFrom, name] = await this.#target(from);
    const [, relTo, nameTo] = await this.#target(to);
    if (name !== nameTo) {
      throw invalidOpError(from, "rename", `'${to}' is on another mount`);
    }
    await mount.rename(relFrom, relTo, options);
  }

  /**
   * Creates a directory and its missing parents.
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  async mkdir(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.mkdir(rel, options);
  }

  /**
   * Lists a directory, sorted by name.
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @returns The entries.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  async readDir(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<VfsDirEntry[]> {
    const [mount, rel] = await this.#target(path);
    return await mount.readDir(rel, options);
  }

  /**
   * Describes a path (symlinks inside the mount followed).
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @returns Type, size and mtime.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  async stat(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<VfsStat> {
    const [mount, rel] = await this.#target(path);
    return await mount.stat(rel, options);
  }

  /**
   * Whether a path exists.
   *
   * @param path A guest path.
   * @param options Cancellation.
   * @returns `true` when it exists.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID` (escapes are errors, not `false`).
   */
  async exists(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<boolean> {
    const [mount, rel] = await this.#target(path);
    return await mount.exists(rel, options);
  }

  /**
   * Opens a directory handle (a capability rooted at that directory).
   *
   * @param path A guest directory path.
   * @param options Cancellation.
   * @returns The handle.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async openDir(
    path: string | ResolvedGuestPath,
    options: VfsCallOptions = {},
  ): Promise<DirHandle> {
    const [mount, rel] = await this.#target(path);
    return await DirHandle.open(mount, rel, options);
  }

  /**
   * Resolves a guest path once, into the exact host location it names (the
   * one mapper, `resolveGuestPath`). Every method of this view accepts the
   * result in place of a path and then uses it as is — never re-mapped.
   *
   * @param path A guest path.
   * @returns The resolved path (`hostPath` is what the gate judges).
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`.
   */
  resolve(path: string): ResolvedGuestPath {
    const resolved = resolveGuestPath(path, {
      workspaceRoots: this.#mounts.workspaceRoots,
      roots: this.#mounts.roots,
    });
    this.#issued.add(resolved);
    return resolved;
  }

  async #target(
    path: string | ResolvedGuestPath,
  ): Promise<[Mount, string, MountName]> {
    if (typeof path !== "string" && !this.#issued.has(path)) {
      throw new TypeError(
        "A resolved guest path must come from this view's resolve()",
      );
    }
    const t = typeof path === "string" ? this.resolve(path) : path;
    const rel = t.parts.length === 0 ? "." : joinKey(t.parts);
    if (t.mount === "workspace") return [this.#mounts.workspace, rel, t.mount];
    if (t.mount === "tmp") {
      this.#tmp ??= this.#mounts.tmp();
      return [await this.#tmp, rel, t.mount];
    }
    if (this.#mounts.home === null) {
      throw new KernelError(
        "VFS_NOT_FOUND",
        `Cannot use '${t.guest}' as home:// is not mounted (the principal home does not exist)`,
      );
    }
    return [this.#mounts.home, rel, t.mount];
  }
}
