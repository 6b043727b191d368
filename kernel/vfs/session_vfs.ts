/**
 * The file view of one (principal, session, workspace): guest paths mapped
 * to the session overlay, the principal home and the private `/tmp`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { invalidOpError } from "./_errors.ts";
import { DirHandle } from "./dir_handle.ts";
import { mapGuestPath, type MountName } from "./guest_path.ts";
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
 * @example Through an overlay manager
 * ```ts ignore
 * const vfs = await manager.vfs(principal, session, { workspace: "/work/project" });
 * await vfs.writeFile("src/a.ts", "export {};\n"); // lands in the overlay
 * await vfs.writeFile("/tmp/scratch.txt", "x");    // lands in the private tmp
 * ```
 */
export class SessionVfs implements Vfs {
  #mounts: SessionMounts;
  #tmp: Promise<Mount> | null = null;

  /** @param mounts The session's mounts. */
  constructor(mounts: SessionMounts) {
    this.#mounts = mounts;
  }

  /** @inheritdoc */
  async readFile(
    path: string,
    options: VfsCallOptions = {},
  ): Promise<Uint8Array> {
    const [mount, rel] = await this.#target(path);
    return await mount.readFile(rel, options);
  }

  /** @inheritdoc */
  async writeFile(
    path: string,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.writeFile(rel, data, options);
  }

  /** @inheritdoc */
  async appendFile(
    path: string,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.appendFile(rel, data, options);
  }

  /** @inheritdoc */
  async remove(path: string, options: VfsCallOptions = {}): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.remove(rel, options);
  }

  /** @inheritdoc */
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

  /** @inheritdoc */
  async mkdir(path: string, options: VfsCallOptions = {}): Promise<void> {
    const [mount, rel] = await this.#target(path);
    await mount.mkdir(rel, options);
  }

  /** @inheritdoc */
  async readDir(
    path: string,
    options: VfsCallOptions = {},
  ): Promise<VfsDirEntry[]> {
    const [mount, rel] = await this.#target(path);
    return await mount.readDir(rel, options);
  }

  /** @inheritdoc */
  async stat(path: string, options: VfsCallOptions = {}): Promise<VfsStat> {
    const [mount, rel] = await this.#target(path);
    return await mount.stat(rel, options);
  }

  /** @inheritdoc */
  async exists(path: string, options: VfsCallOptions = {}): Promise<boolean> {
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
    path: string,
    options: VfsCallOptions = {},
  ): Promise<DirHandle> {
    const [mount, rel] = await this.#target(path);
    return await DirHandle.open(mount, rel, options);
  }

  async #target(path: string): Promise<[Mount, string, MountName]> {
    const t = mapGuestPath(path, {
      workspaceRoots: this.#mounts.workspaceRoots,
    });
    const rel = t.parts.length === 0 ? "." : joinKey(t.parts);
    if (t.mount === "workspace") return [this.#mounts.workspace, rel, t.mount];
    if (t.mount === "tmp") {
      this.#tmp ??= this.#mounts.tmp();
      return [await this.#tmp, rel, t.mount];
    }
    if (this.#mounts.home === null) {
      throw new KernelError(
        "VFS_NOT_FOUND",
        `Cannot use '${path}' as home:// is not mounted (the principal home does not exist)`,
      );
    }
    return [this.#mounts.home, rel, t.mount];
  }
}
