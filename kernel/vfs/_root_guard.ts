/**
 * Private: containment checks of a direct mount — every path must resolve
 * (after symlinks, through `realPath`) inside the mount root and the scope.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import { escapeError, notFoundError } from "./_errors.ts";
import { joinKey, keyWithin, splitRelPath } from "./rel_path.ts";
import type { MountCallOptions } from "./vfs.ts";

/** Checks paths against one canonical root. */
export class RootGuard {
  #fs: FileSystem;
  #root: string;

  constructor(fs: FileSystem, root: string) {
    this.#fs = fs;
    this.#root = root;
  }

  /** Normalised components, absolute path and scope of a mount-relative path. */
  target(path: string, options: MountCallOptions) {
    const parts = splitRelPath(path);
    const within = options.within ? joinKey(splitRelPath(options.within)) : "";
    const abs = parts.length === 0
      ? this.#root
      : `${this.#root}/${joinKey(parts)}`;
    return { parts, abs, within };
  }

  /** The real path of an existing `abs`, refused unless inside the root and scope. */
  async inside(
    abs: string,
    path: string,
    within: string,
    what: string,
  ): Promise<string> {
    let real: string;
    try {
      real = await this.#fs.realPath(abs);
    } catch (err) {
      if (KernelError.is(err, "NOT_FOUND")) throw notFoundError(path, what);
      throw err;
    }
    this.check(real, path, within);
    return real;
  }

  /**
   * The real parent directory of `abs`: the nearest existing ancestor must be
   * inside the root; missing directories are created when `create`.
   */
  async parentDir(
    abs: string,
    path: string,
    within: string,
    create = true,
  ): Promise<string> {
    const parent = abs.slice(0, abs.lastIndexOf("/"));
    let probe = parent;
    for (;;) {
      try {
        const real = await this.#fs.realPath(probe);
        this.check(real, path, within, probe !== parent);
        break;
      } catch (err) {
        if (!KernelError.is(err, "NOT_FOUND") || probe === this.#root) {
          throw err;
        }
        probe = probe.slice(0, probe.lastIndexOf("/"));
      }
    }
    if (probe !== parent) {
      if (!create) throw notFoundError(path, "find");
      await this.#fs.mkdir(parent, { recursive: true, mode: 0o700 });
    }
    const real = await this.#fs.realPath(parent);
    this.check(real, path, within);
    return real;
  }

  check(real: string, path: string, within: string, ancestor = false): void {
    const inRoot = real === this.#root || real.startsWith(`${this.#root}/`);
    const key = real === this.#root ? "" : real.slice(this.#root.length + 1);
    if (!inRoot) {
      throw escapeError(path, "resolves outside its mount through a symlink");
    }
    if (!keyWithin(key, within) && !(ancestor && keyWithin(within, key))) {
      throw escapeError(path, "resolves outside its directory handle");
    }
  }
}
