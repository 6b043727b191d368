/**
 * Private: the descriptor-based read behind `FileSystem.readFileChecked`.
 *
 * Deno's own file API cannot open without following symlinks and does not
 * expose descriptor numbers, so this goes through `node:fs`, whose Deno
 * implementation returns real OS descriptors:
 *
 * 1. `open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)`: a FIFO cannot block
 *    the open. `O_NOFOLLOW` only works in a process with `--allow-all`
 *    (measured on Deno 2.9.6): under scoped permissions Deno resolves the
 *    path's symlinks itself before opening, so a final symlink is followed;
 * 2. `fstat` on the descriptor: only a regular file within `maxBytes` is read;
 * 3. the real path of the descriptor: `readlink /proc/self/fd/N` where the
 *    sandbox allows it (Linux, `--allow-all`), which names the file actually
 *    opened whatever happened to the path meanwhile; otherwise `realpath(path)`
 *    afterwards, accepted only when it names the same device and inode as the
 *    descriptor (else `replaced`). That fallback narrows the window to the
 *    microseconds between `open` and `realpath`, and an attacker must swap a
 *    component, then swap it back, then again, in order, to defeat it;
 * 4. the bytes, read through the same descriptor.
 *
 * The metadata calls are synchronous (microseconds each; an async call costs
 * a thread-pool round trip of ~20 µs, which would dominate small reads).
 * Files above 1 MiB are read asynchronously in chunks.
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

/**
 * Reads `path` through one descriptor; see the module doc.
 *
 * @param path The file.
 * @param options Size limit and cancellation.
 * @returns What was found.
 * @throws {KernelError} `HOST_PERMISSION_DENIED`, `HOST_IO` (also when the file grew while it
 *   was being read), `ABORTED`.
 */
export async function readFileChecked(
  path: string,
  options: CheckedReadOptions = {},
): Promise<CheckedRead> {
  const what = `read '${path}'`;
  throwIfAborted(options.signal, what);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const opened = openNoFollow(path, what);
  if (typeof opened !== "number") return opened;
  const fd = opened;
  try {
    const st = fstat(fd, what);
    const info = toInfo(st);
    if (!st.isFile()) return { kind: "not_file", info };
    if (st.size > maxBytes) return { kind: "too_large", info };
    const realPath = descriptorPath(fd, path, st, what);
    if (realPath === null) return { kind: "replaced" };
    const data = st.size <= SYNC_READ_LIMIT
      ? readSync(fd, st.size, maxBytes, what)
      : await readAsync(fd, st.size, maxBytes, what, options.signal);
    return { kind: "file", data, info, realPath };
  } finally {
    nodeFs.closeSync(fd);
  }
}

function openNoFollow(path: string, what: string): number | CheckedRead {
  try {
    return nodeFs.openSync(path, FLAGS);
  } catch (err) {
    const code = errno(err);
    if (code === "ELOOP") return { kind: "symlink" };
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    throw nodeError(err, what);
  }
}

function fstat(fd: number, what: string): nodeFs.Stats {
  try {
    return nodeFs.fstatSync(fd);
  } catch (err) {
    throw nodeError(err, what);
  }
}

function descriptorPath(
  fd: number,
  path: string,
  st: nodeFs.Stats,
  what: string,
): string | null {
  try {
    return nodeFs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // silent-ok: no /proc (not Linux) or not readable under the sandbox; fall back below.
  }
  let real: string;
  let again: nodeFs.Stats;
  try {
    real = nodeFs.realpathSync(path);
    again = nodeFs.statSync(real);
  } catch (err) {
    const code = errno(err);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") {
      return null;
    }
    throw nodeError(err, what);
  }
  return again.dev === st.dev && again.ino === st.ino ? real : null;
}

function readSync(
  fd: number,
  size: number,
  maxBytes: number,
  what: string,
): Uint8Array {
  const buf = new Uint8Array(size + 1);
  let n = 0;
  try {
    while (n < buf.length) {
      const got = nodeFs.readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
  } catch (err) {
    throw nodeError(err, what);
  }
  return finish(buf, n, size, maxBytes, what);
}

async function readAsync(
  fd: number,
  size: number,
  maxBytes: number,
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
  return finish(buf, n, size, maxBytes, what);
}

function finish(
  buf: Uint8Array,
  n: number,
  size: number,
  maxBytes: number,
  what: string,
): Uint8Array {
  if (n > size || n > maxBytes) {
    throw new KernelError(
      "HOST_IO",
      `Cannot ${what} as it grew while being read`,
    );
  }
  return buf.subarray(0, n);
}

function toInfo(st: nodeFs.Stats): FileInfo {
  return {
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
    isSymlink: st.isSymbolicLink(),
    size: st.size,
    mode: st.mode & 0o777,
    mtimeMs: Number.isFinite(st.mtimeMs) ? Math.trunc(st.mtimeMs) : null,
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
