/**
 * Private: the descriptor-based read behind `FileSystem.readFileChecked`.
 *
 * 1. `stat(path)` (follows symlinks): only a regular file within `maxBytes`
 *    is opened, so a FIFO or device is never opened.
 * 2. `open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)` through `node:fs`, whose
 *    Deno implementation returns real OS descriptors (Deno's own API cannot
 *    open without following and hides descriptors). `O_NONBLOCK` keeps a FIFO
 *    swapped in after the `stat` from blocking. `O_NOFOLLOW` only works in a
 *    process with `--allow-all` (measured on Deno 2.9.6): under scoped
 *    permissions Deno resolves the path's symlinks itself before opening.
 * 3. The descriptor's real path: `readlink /proc/self/fd/N` where the sandbox
 *    allows it (Linux with `--allow-all`) — this names the file actually
 *    opened whatever happened to the path meanwhile, race-free. Otherwise
 *    `realpath(path)` after the open, accepted only when it names the same
 *    device and inode as the `stat` before the open (else `replaced`). That
 *    fallback is what a daemon with scoped permissions gets: to defeat it an
 *    attacker must swap a path component twice, in order, within the few
 *    microseconds between those calls.
 * 4. The bytes, read through the same descriptor (one byte more than `stat`
 *    saw is asked for, so a file that grew is noticed).
 *
 * The calls are synchronous (microseconds each; an async call costs a
 * thread-pool round trip of ~20 µs, which would dominate small reads). Files
 * above 1 MiB are read asynchronously in chunks.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type {
  CheckedRead,
  CheckedReadOptions,
  FileInfo,
} from "../core/ports.ts";
import { hostError } from "./_host_error.ts";

const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
const SYNC_READ_LIMIT = 1024 * 1024;
const CHUNK = 1024 * 1024;
const FLAGS = nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW |
  nodeFs.constants.O_NONBLOCK;

type Opened = { fd: number; info: FileInfo; size: number; realPath: string };

/** Reads files through one descriptor; remembers whether `/proc/self/fd` is readable. */
export class CheckedReader {
  #proc: boolean | undefined;

  /**
   * Reads `path`; see the module doc.
   *
   * @param path The file.
   * @param options Size limit and cancellation.
   * @returns What was found.
   * @throws {KernelError} `HOST_PERMISSION_DENIED`, `HOST_IO` (also when the file grew while it
   *   was being read), `ABORTED`.
   */
  async read(
    path: string,
    options: CheckedReadOptions = {},
  ): Promise<CheckedRead> {
    const what = `read '${path}'`;
    throwIfAborted(options.signal, what);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const opened = this.#open(path, maxBytes, what);
    if (!("fd" in opened)) return opened;
    const { fd, info, size, realPath } = opened;
    try {
      const data = size <= SYNC_READ_LIMIT
        ? readSync(fd, size, what)
        : await readAsync(fd, size, what, options.signal);
      return { kind: "file", data, info, realPath };
    } finally {
      nodeFs.closeSync(fd);
    }
  }

  /** Stat, open without following or blocking, and locate the descriptor. */
  #open(path: string, maxBytes: number, what: string): Opened | CheckedRead {
    let before: Deno.FileInfo;
    try {
      before = Deno.statSync(path);
    } catch (err) {
      if (
        err instanceof Deno.errors.NotFound ||
        err instanceof Deno.errors.NotADirectory
      ) return { kind: "missing" };
      if (err instanceof Deno.errors.FilesystemLoop) return { kind: "symlink" };
      throw hostError(err, what);
    }
    const info = toInfo(before);
    if (!before.isFile) return { kind: "not_file", info };
    if (before.size > maxBytes) return { kind: "too_large", info };
    let fd: number;
    try {
      fd = nodeFs.openSync(path, FLAGS);
    } catch (err) {
      const code = errno(err);
      if (code === "ELOOP") return { kind: "symlink" };
      if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
      throw nodeError(err, what);
    }
    let realPath: string | null;
    try {
      realPath = this.#procPath(fd) ?? samePath(path, before, what);
    } catch (err) {
      nodeFs.closeSync(fd);
      throw err;
    }
    if (realPath === null) {
      nodeFs.closeSync(fd);
      return { kind: "replaced" };
    }
    return { fd, info, size: before.size, realPath };
  }

  /** The descriptor's path from `/proc/self/fd`, or `null` where that is not allowed. */
  #procPath(fd: number): string | null {
    if (this.#proc === false) return null;
    try {
      const path = nodeFs.readlinkSync(`/proc/self/fd/${fd}`);
      this.#proc = true;
      return path;
    } catch {
      // silent-ok: no /proc (not Linux) or the sandbox refuses it; use the fallback from now on.
      this.#proc = false;
      return null;
    }
  }
}

/**
 * The fallback: `realpath(path)` after the open, accepted only when it names
 * the device and inode that `stat(path)` named before the open.
 */
function samePath(
  path: string,
  before: Deno.FileInfo,
  what: string,
): string | null {
  try {
    const real = Deno.realPathSync(path);
    const after = Deno.statSync(real);
    return after.dev === before.dev && after.ino === before.ino ? real : null;
  } catch (err) {
    if (
      err instanceof Deno.errors.NotFound ||
      err instanceof Deno.errors.NotADirectory ||
      err instanceof Deno.errors.FilesystemLoop
    ) return null;
    throw hostError(err, what);
  }
}

/**
 * Reads up to `size + 1` bytes (one more than `stat` saw, to notice growth).
 * A short read that ends exactly at `size` is the end of the file at that
 * moment, so it stops there without a second read to get the 0 that would
 * say so (one syscall less per small file); a short read before `size` is
 * retried as usual.
 */
function readSync(fd: number, size: number, what: string): Uint8Array {
  const buf = new Uint8Array(size + 1);
  let n = 0;
  try {
    while (n < buf.length) {
      const want = buf.length - n;
      const got = nodeFs.readSync(fd, buf, n, want, n);
      if (got === 0) break;
      n += got;
      if (got < want && n === size) break;
    }
  } catch (err) {
    throw nodeError(err, what);
  }
  return finish(buf, n, size, what);
}

async function readAsync(
  fd: number,
  size: number,
  what: string,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const buf = new Uint8Array(size + 1);
  let n = 0;
  while (n < buf.length) {
    throwIfAborted(signal, what);
    const want = Math.min(CHUNK, buf.length - n);
    const got = await new Promise<number>((resolve, reject) => {
      nodeFs.read(fd, buf, n, want, n, (err, bytes) => {
        if (err) reject(nodeError(err, what));
        else resolve(bytes);
      });
    });
    if (got === 0) break;
    n += got;
  }
  return finish(buf, n, size, what);
}

function finish(
  buf: Uint8Array,
  n: number,
  size: number,
  what: string,
): Uint8Array {
  if (n > size) {
    throw new KernelError(
      "HOST_IO",
      `Cannot ${what} as it grew while being read`,
    );
  }
  return buf.subarray(0, n);
}

function toInfo(st: Deno.FileInfo): FileInfo {
  return {
    isFile: st.isFile,
    isDirectory: st.isDirectory,
    isSymlink: st.isSymlink,
    size: st.size,
    mode: st.mode === null ? null : st.mode & 0o777,
    mtimeMs: st.mtime === null ? null : st.mtime.getTime(),
  };
}

function errno(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function nodeError(err: unknown, what: string): KernelError {
  const code = errno(err);
  if (code === "EACCES" || code === "EPERM") {
    return new KernelError(
      "HOST_PERMISSION_DENIED",
      `Cannot ${what} as the host denied permission (${code})`,
      { cause: err },
    );
  }
  if (code === "ENOENT") {
    return new KernelError(
      "NOT_FOUND",
      `Cannot ${what} as it does not exist`,
      { cause: err },
    );
  }
  return hostError(err, what);
}
