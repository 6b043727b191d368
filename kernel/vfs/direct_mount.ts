/**
 * A mount without an overlay: the principal home (`home://`) and the
 * principal's private `/tmp`. Writes land directly.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import {
  escapeError,
  invalidOpError,
  invalidPathError,
  notFoundError,
} from "./_errors.ts";
import { RootGuard } from "./_root_guard.ts";
import type { Mount, MountCallOptions, VfsDirEntry, VfsStat } from "./vfs.ts";

const MAX_FILE_BYTES = 50 * 1024 * 1024;
const UTF8 = new TextEncoder();

/**
 * A directory used directly. Every path is checked after symlinks are
 * resolved (`realPath`, of the nearest existing ancestor for a new path) to
 * stay inside the root; reads go through one descriptor whose real path is
 * checked; writes go to a temp file renamed into place, so a symlink at the
 * target is replaced, never written through.
 *
 * @example A private tmp
 * ```ts
 * import assert from "node:assert/strict";
 * import { DirectMount } from "./direct_mount.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const tmp = await DirectMount.open(createDenoFs(), `${dir}/tmp`, { create: true });
 * await tmp.writeFile("notes/a.txt", "hi");
 * assert.equal(new TextDecoder().decode(await tmp.readFile("notes/a.txt")), "hi");
 * await assert.rejects(tmp.readFile("../x"), { code: "VFS_PATH_ESCAPE" });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirectMount implements Mount {
  #fs: FileSystem;
  #root: string;
  #guard: RootGuard;
  #counter = 0;

  /**
   * Use {@linkcode DirectMount.open}.
   *
   * @param fs The file system.
   * @param root The canonical root.
   */
  constructor(fs: FileSystem, root: string) {
    this.#fs = fs;
    this.#root = root;
    this.#guard = new RootGuard(fs, root);
  }

  /**
   * Opens a directory as a mount.
   *
   * @param fs The file system (with `readFileChecked`).
   * @param root Absolute directory.
   * @param options `create` makes it (`0700`) when missing.
   * @returns The mount.
   * @throws {TypeError} When `fs` lacks `readFileChecked`.
   * @throws {KernelError} `VFS_NOT_FOUND` when missing and not created; `VFS_INVALID_OPERATION` when not a directory.
   */
  static async open(
    fs: FileSystem,
    root: string,
    options: { create?: boolean } = {},
  ): Promise<DirectMount> {
    if (typeof fs.readFileChecked !== "function") {
      throw new TypeError("A mount needs a FileSystem with readFileChecked");
    }
    if (options.create) await fs.mkdir(root, { recursive: true, mode: 0o700 });
    const info = await fs.stat(root);
    if (info === null) throw notFoundError(root, "mount");
    if (!info.isDirectory) {
      throw invalidOpError(root, "mount", "it is not a directory");
    }
    return new DirectMount(fs, await fs.realPath(root));
  }

  /** The canonical root. */
  get root(): string {
    return this.#root;
  }

  /**
   * Reads a file.
   * @param path Mount-relative path.
   * @param options Scope.
   * @returns The bytes.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_ESCAPE`, `VFS_INVALID_OPERATION`.
   */
  async readFile(
    path: string,
    options: MountCallOptions = {},
  ): Promise<Uint8Array> {
    const { abs, within } = this.#guard.target(path, options);
    const real = await this.#guard.inside(abs, path, within, "read");
    const got = await this.#fs.readFileChecked!(real, {
      maxBytes: MAX_FILE_BYTES,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (got.kind === "file" && got.realPath === real) return got.data;
    if (got.kind === "missing") throw notFoundError(path, "read");
    if (got.kind === "not_file") {
      throw invalidOpError(path, "read", "it is not a regular file");
    }
    if (got.kind === "too_large") {
      throw invalidOpError(path, "read", "it is larger than 50 MiB");
    }
    throw escapeError(path, "was swapped for a symlink while being read");
  }

  /**
   * Creates or truncates a file (temp file + rename).
   *
   * @param path Mount-relative path.
   * @param data Content.
   * @param options Scope.
   * @throws {KernelError} `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_INVALID_OPERATION`.
   */
  async writeFile(
    path: string,
    data: Uint8Array | string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const { abs, parts, within } = this.#guard.target(path, options);
    if (parts.length === 0) {
      throw invalidPathError(path, "names the mount root");
    }
    const parent = await this.#guard.parentDir(abs, path, within);
    const target = `${parent}/${parts.at(-1)}`;
    const existing = await this.#fs.lstat(target);
    if (existing?.isDirectory) {
      throw invalidOpError(path, "write", "it is a directory");
    }
    const bytes = typeof data === "string" ? UTF8.encode(data) : data;
    const tmp = await this.#writeTemp(parent, bytes);
    await this.#fs.rename(tmp, target);
  }

  /**
   * Appends to a file.
   * @param path Mount-relative path.
   * @param data Content.
   * @param options Scope.
   * @throws {KernelError} As {@linkcode DirectMount.writeFile}.
   */
  async appendFile(
    path: string,
    data: Uint8Array | string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const old = await this.readFile(path, options).catch((err) => {
      if (KernelError.is(err, "VFS_NOT_FOUND")) return new Uint8Array();
      throw err;
    });
    const add = typeof data === "string" ? UTF8.encode(data) : data;
    const both = new Uint8Array(old.length + add.length);
    both.set(old, 0);
    both.set(add, old.length);
    await this.writeFile(path, both, options);
  }

  /**
   * Removes a file, symlink or empty directory.
   * @param path Mount-relative path.
   * @param options Scope.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async remove(path: string, options: MountCallOptions = {}): Promise<void> {
    const { abs, parts, within } = this.#guard.target(path, options);
    if (parts.length === 0) {
      throw invalidPathError(path, "names the mount root");
    }
    const target = `${await this.#guard.parentDir(abs, path, within, false)}/${
      parts.at(-1)
    }`;
    const info = await this.#fs.lstat(target);
    if (info === null) throw notFoundError(path, "remove");
    try {
      await this.#fs.remove(target);
    } catch (err) {
      if (info.isDirectory && KernelError.is(err, "HOST_IO")) {
        throw invalidOpError(path, "remove", "the directory is not empty");
      }
      throw err;
    }
  }

  /**
   * Renames inside the mount.
   * @param from Source.
   * @param to Target.
   * @param options Scope.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async rename(
    from: string,
    to: string,
    options: MountCallOptions = {},
  ): Promise<void> {
    const f = this.#guard.target(from, options);
    const t = this.#guard.target(to, options);
    if (f.parts.length === 0 || t.parts.length === 0) {
      throw invalidPathError(from, "renames the mount root");
    }
    const src = `${await this.#guard.parentDir(f.abs, from, f.within, false)}/${
      f.parts.at(-1)
    }`;
    if ((await this.#fs.lstat(src)) === null) {
      throw notFoundError(from, "rename");
    }
    const dst = `${await this.#guard.parentDir(t.abs, to, t.within)}/${
      t.parts.at(-1)
    }`;
    if ((await this.#fs.lstat(dst))?.isDirectory) {
      throw invalidOpError(
        to,
        "rename onto",
        "a directory already exists there",
      );
    }
    await this.#fs.rename(src, dst);
  }

  /**
   * Creates a directory and its parents.
   * @param path Mount-relative path.
   * @param options Scope.
   * @throws {KernelError} `VFS_PATH_*`, `VFS_INVALID_OPERATION`.
   */
  async mkdir(path: string, options: MountCallOptions = {}): Promise<void> {
    const { abs, parts, within } = this.#guard.target(path, options);
    if (parts.length === 0) {
      throw invalidPathError(path, "names the mount root");
    }
    await this.#guard.parentDir(abs, path, within);
    const info = await this.#fs.stat(abs);
    if (info?.isDirectory) return;
    if (info !== null) {
      throw invalidOpError(path, "create directory", "a file exists there");
    }
    await this.#fs.mkdir(abs, { recursive: true, mode: 0o700 });
  }

  /**
   * Lists a directory.
   * @param path Mount-relative path.
   * @param options Scope.
   * @returns Sorted entries.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async readDir(
    path: string,
    options: MountCallOptions = {},
  ): Promise<VfsDirEntry[]> {
    const { abs, within } = this.#guard.target(path, options);
    const real = await this.#guard.inside(abs, path, within, "list");
    if (!(await this.#fs.stat(real))?.isDirectory) {
      throw invalidOpError(path, "list", "it is not a directory");
    }
    const entries = await this.#fs.readDir(real);
    return entries.map((e) => ({ ...e })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /**
   * Describes a path.
   * @param path Mount-relative path.
   * @param options Scope.
   * @returns Type, size, mtime.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_PATH_*`.
   */
  async stat(path: string, options: MountCallOptions = {}): Promise<VfsStat> {
    const { abs, within } = this.#guard.target(path, options);
    const real = await this.#guard.inside(abs, path, within, "stat");
    const info = await this.#fs.stat(real);
    if (info === null) throw notFoundError(path, "stat");
    return {
      isFile: info.isFile,
      isDirectory: info.isDirectory,
      size: info.isDirectory ? 0 : info.size,
      mtimeMs: info.mtimeMs,
    };
  }

  /**
   * Whether a path exists.
   * @param path Mount-relative path.
   * @param options Scope.
   * @returns `true` when it exists.
   * @throws {KernelError} `VFS_PATH_*`.
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
   * The mount-relative key of an existing directory.
   * @param path Path.
   * @param options Scope.
   * @returns The key.
   * @throws {KernelError} `VFS_NOT_FOUND`, `VFS_INVALID_OPERATION`, `VFS_PATH_*`.
   */
  async resolveDir(
    path: string,
    options: MountCallOptions = {},
  ): Promise<string> {
    const { abs, within } = this.#guard.target(path, options);
    const real = await this.#guard.inside(abs, path, within, "open");
    if (!(await this.#fs.stat(real))?.isDirectory) {
      throw invalidOpError(path, "open", "it is not a directory");
    }
    return real === this.#root ? "" : real.slice(this.#root.length + 1);
  }

  /** Writes a fresh temp file (created exclusively) beside the target. */
  async #writeTemp(dir: string, bytes: Uint8Array): Promise<string> {
    for (let attempt = 0;; attempt++) {
      const tmp = `${dir}/.astrid-write-${++this.#counter}.tmp`;
      try {
        await this.#fs.writeFile(tmp, bytes, { createNew: true, mode: 0o600 });
        return tmp;
      } catch (err) {
        // silent-ok: a leftover of an earlier run holds this name; try the next one.
        if (attempt >= 16 || !KernelError.is(err, "HOST_IO")) throw err;
      }
    }
  }
}
