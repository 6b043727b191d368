/**
 * Directory handles: capabilities over one directory of a mount.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { joinKey, splitRelPath } from "./rel_path.ts";
import type {
  Mount,
  Vfs,
  VfsCallOptions,
  VfsDirEntry,
  VfsStat,
} from "./vfs.ts";

/**
 * A capability over one directory: its paths are relative to that directory,
 * which acts as the root. Absolute paths, `..` above it and symlinks that
 * resolve outside it are `VFS_PATH_ESCAPE`. {@linkcode DirHandle.openDir}
 * can only narrow. Closing a handle closes the handles opened from it; a
 * closed handle refuses every call with `VFS_HANDLE_INVALID`.
 *
 * @example Narrow, then try to climb out
 * ```ts
 * import assert from "node:assert/strict";
 * import { DirectMount } from "./direct_mount.ts";
 * import { DirHandle } from "./dir_handle.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const mount = await DirectMount.open(createDenoFs(), dir);
 * await mount.writeFile("docs/a.md", "a");
 * await mount.writeFile("secret.txt", "s");
 * const root = await DirHandle.open(mount, ".");
 * const docs = await root.openDir("docs");
 * assert.deepEqual((await docs.readDir(".")).map((e) => e.name), ["a.md"]);
 * await assert.rejects(docs.readFile("../secret.txt"), { code: "VFS_PATH_ESCAPE" });
 * root.close();
 * await assert.rejects(docs.readFile("a.md"), { code: "VFS_HANDLE_INVALID" });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirHandle implements Vfs {
  #mount: Mount;
  #key: string;
  #closed = false;
  #children = new Set<DirHandle>();

  /**
   * Use {@linkcode DirHandle.open} or {@linkcode DirHandle.openDir}.
   *
   * @param mount The mount.
   * @param key The canonical mount-relative directory (`""` = the mount root).
   */
  constructor(mount: Mount, key: string) {
    this.#mount = mount;
    this.#key = key;
  }

  /**
   * Opens a handle on an existing directory of a mount.
   *
   * @param mount The mount.
   * @param path Mount-relative directory.
   * @param options Cancellation.
   * @returns The handle.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (not a directory), `VFS_PATH_*`.
   */
  static async open(
    mount: Mount,
    path: string,
    options: VfsCallOptions = {},
  ): Promise<DirHandle> {
    return new DirHandle(mount, await mount.resolveDir(path, options));
  }

  /** The handle's directory, relative to its mount (`""` = the mount root). */
  get key(): string {
    return this.#key;
  }

  /** Whether the handle (or one it was opened from) was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Opens a handle on a subdirectory (never wider than this one).
   *
   * @param path Directory relative to this handle.
   * @param options Cancellation.
   * @returns The narrower handle.
   * @throws {KernelError} `VFS_HANDLE_INVALID` (closed), `VFS_PATH_ESCAPE`, `VFS_NOT_FOUND`.
   */
  async openDir(
    path: string,
    options: VfsCallOptions = {},
  ): Promise<DirHandle> {
    const rel = this.#rel(path);
    const key = await this.#mount.resolveDir(rel, this.#opts(options));
    this.#assertOpen();
    const child = new DirHandle(this.#mount, key);
    this.#children.add(child);
    return child;
  }

  /** Closes this handle and every handle opened from it. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const child of this.#children) child.close();
    this.#children.clear();
  }

  /**
   * Reads a whole file.
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @returns The bytes.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`, `VFS_HANDLE_INVALID` (closed).
   */
  async readFile(
    path: string,
    options: VfsCallOptions = {},
  ): Promise<Uint8Array> {
    return await this.#mount.readFile(this.#rel(path), this.#opts(options));
  }

  /**
   * Creates or truncates a file; missing parents are created.
   *
   * @param path A path relative to this handle.
   * @param data Bytes or UTF-8 text.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`, `VFS_HANDLE_INVALID` (closed).
   */
  async writeFile(
    path: string,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    return await this.#mount.writeFile(
      this.#rel(path),
      data,
      this.#opts(options),
    );
  }

  /**
   * Appends to a file (created when missing).
   *
   * @param path A path relative to this handle.
   * @param data Bytes or UTF-8 text.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`, `VFS_HANDLE_INVALID` (closed).
   */
  async appendFile(
    path: string,
    data: Uint8Array | string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    return await this.#mount.appendFile(
      this.#rel(path),
      data,
      this.#opts(options),
    );
  }

  /**
   * Removes a file, a symlink or an empty directory.
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed).
   */
  async remove(path: string, options: VfsCallOptions = {}): Promise<void> {
    return await this.#mount.remove(this.#rel(path), this.#opts(options));
  }

  /**
   * Renames within one mount; an existing file at `to` is replaced.
   *
   * @param from A path relative to this handle.
   * @param to A path relative to this handle.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION` (also across mounts), `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed).
   */
  async rename(
    from: string,
    to: string,
    options: VfsCallOptions = {},
  ): Promise<void> {
    return await this.#mount.rename(
      this.#rel(from),
      this.#rel(to),
      this.#opts(options),
    );
  }

  /**
   * Creates a directory and its missing parents.
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @throws {KernelError} `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed).
   */
  async mkdir(path: string, options: VfsCallOptions = {}): Promise<void> {
    return await this.#mount.mkdir(this.#rel(path), this.#opts(options));
  }

  /**
   * Lists a directory, sorted by name.
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @returns The entries.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed).
   */
  async readDir(
    path: string,
    options: VfsCallOptions = {},
  ): Promise<VfsDirEntry[]> {
    return await this.#mount.readDir(this.#rel(path), this.#opts(options));
  }

  /**
   * Describes a path (symlinks inside the mount followed).
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @returns Type, size and mtime.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed).
   */
  async stat(path: string, options: VfsCallOptions = {}): Promise<VfsStat> {
    return await this.#mount.stat(this.#rel(path), this.#opts(options));
  }

  /**
   * Whether a path exists.
   *
   * @param path A path relative to this handle.
   * @param options Cancellation.
   * @returns `true` when it exists.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_HANDLE_INVALID` (closed) (escapes are errors, not `false`).
   */
  async exists(path: string, options: VfsCallOptions = {}): Promise<boolean> {
    return await this.#mount.exists(this.#rel(path), this.#opts(options));
  }

  /** The mount-relative path: this handle's key plus the checked relative path. */
  #rel(path: string): string {
    this.#assertOpen();
    const parts = splitRelPath(path);
    const key = joinKey([...(this.#key === "" ? [] : [this.#key]), ...parts]);
    return key === "" ? "." : key;
  }

  #opts(options: VfsCallOptions) {
    return options.signal
      ? { within: this.#key, signal: options.signal }
      : { within: this.#key };
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new KernelError(
        "VFS_HANDLE_INVALID",
        "Cannot use a directory handle as it was closed",
      );
    }
  }
}
