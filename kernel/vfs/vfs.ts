/**
 * The `Vfs` interface the runtime's file host calls use, and its value types.
 *
 * @module
 */

/** Options of every VFS call. */
export interface VfsCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** What `stat` reports (symlinks inside the mount are followed). */
export interface VfsStat {
  /** A regular file. */
  readonly isFile: boolean;
  /** A directory. */
  readonly isDirectory: boolean;
  /** Size in bytes (0 for directories). */
  readonly size: number;
  /** Modification time in ms since the epoch, or `null` when unknown. */
  readonly mtimeMs: number | null;
}

/** One entry of a directory listing. */
export interface VfsDirEntry {
  /** The entry's name. */
  readonly name: string;
  /** A regular file. */
  readonly isFile: boolean;
  /** A directory. */
  readonly isDirectory: boolean;
  /** A symlink of the workspace (never in the overlay's own layer); `stat` follows it. */
  readonly isSymlink: boolean;
}

/**
 * File access for one capsule call, over guest paths (`SessionVfs`) or paths
 * relative to a directory handle (`DirHandle`). Every method throws
 * `KernelError`: `VFS_PATH_ESCAPE`, `VFS_PATH_INVALID`, `VFS_NOT_FOUND`,
 * `VFS_INVALID_OPERATION`, `VFS_HANDLE_INVALID` (closed handle), `ABORTED`,
 * and `HOST_IO` / `HOST_PERMISSION_DENIED` from the host.
 */
export interface Vfs {
  /** Reads a whole file. */
  readFile(path: string, options?: VfsCallOptions): Promise<Uint8Array>;
  /** Creates or truncates a file; missing parent directories are created. */
  writeFile(
    path: string,
    data: Uint8Array | string,
    options?: VfsCallOptions,
  ): Promise<void>;
  /** Appends to a file (created when missing). */
  appendFile(
    path: string,
    data: Uint8Array | string,
    options?: VfsCallOptions,
  ): Promise<void>;
  /** Removes a file, a symlink or an empty directory. */
  remove(path: string, options?: VfsCallOptions): Promise<void>;
  /** Renames within one mount; replaces an existing file at `to`. */
  rename(from: string, to: string, options?: VfsCallOptions): Promise<void>;
  /** Creates a directory and its missing parents; an existing directory is fine. */
  mkdir(path: string, options?: VfsCallOptions): Promise<void>;
  /** Lists a directory, sorted by name. */
  readDir(path: string, options?: VfsCallOptions): Promise<VfsDirEntry[]>;
  /** Describes a path; `VFS_NOT_FOUND` when missing. */
  stat(path: string, options?: VfsCallOptions): Promise<VfsStat>;
  /** Whether a path exists (escapes and invalid paths still throw). */
  exists(path: string, options?: VfsCallOptions): Promise<boolean>;
}

/** Options of a mount operation: the mount-relative directory results must stay in. */
export interface MountCallOptions extends VfsCallOptions {
  /**
   * A mount-relative directory (`""` = the whole mount) that the resolved
   * target, after following symlinks, must stay inside; else `VFS_PATH_ESCAPE`.
   * Directory handles use it to narrow.
   */
  within?: string;
}

/**
 * One mount (the session overlay, the principal home, the private `/tmp`):
 * the same operations over mount-relative paths.
 */
export interface Mount {
  /** Reads a whole file. */
  readFile(path: string, options?: MountCallOptions): Promise<Uint8Array>;
  /** Creates or truncates a file. */
  writeFile(
    path: string,
    data: Uint8Array | string,
    options?: MountCallOptions,
  ): Promise<void>;
  /** Appends to a file. */
  appendFile(
    path: string,
    data: Uint8Array | string,
    options?: MountCallOptions,
  ): Promise<void>;
  /** Removes a file, symlink or empty directory. */
  remove(path: string, options?: MountCallOptions): Promise<void>;
  /** Renames inside the mount. */
  rename(from: string, to: string, options?: MountCallOptions): Promise<void>;
  /** Creates a directory and its parents. */
  mkdir(path: string, options?: MountCallOptions): Promise<void>;
  /** Lists a directory. */
  readDir(path: string, options?: MountCallOptions): Promise<VfsDirEntry[]>;
  /** Describes a path. */
  stat(path: string, options?: MountCallOptions): Promise<VfsStat>;
  /** Whether a path exists. */
  exists(path: string, options?: MountCallOptions): Promise<boolean>;
  /**
   * The canonical mount-relative key of an existing directory (symlinks
   * followed), for opening a handle on it.
   */
  resolveDir(path: string, options?: MountCallOptions): Promise<string>;
}
