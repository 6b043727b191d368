/**
 * Reads one regular file of a capsule directory with a size cap, refusing
 * symlinks and special files (a FIFO would block the read forever).
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";

/** Why a capped read produced nothing. */
export type CappedRead =
  | { readonly kind: "ok"; readonly bytes: Uint8Array }
  | { readonly kind: "missing" }
  | { readonly kind: "refused"; readonly why: string };

/** Reads `path` if it is a regular file (not a symlink) of at most `max` bytes. */
export async function readCapped(
  fs: FileSystem,
  path: string,
  options: { max: number; signal?: AbortSignal | undefined },
): Promise<CappedRead> {
  const info = await fs.lstat(path);
  if (info === null) return { kind: "missing" };
  if (info.isSymlink) return { kind: "refused", why: "is a symbolic link" };
  if (!info.isFile) return { kind: "refused", why: "is not a regular file" };
  if (info.size > options.max) {
    return {
      kind: "refused",
      why: `is ${info.size} bytes, more than the limit of ${options.max}`,
    };
  }
  try {
    const bytes = await fs.readFile(
      path,
      options.signal === undefined ? {} : { signal: options.signal },
    );
    if (bytes.length > options.max) {
      return { kind: "refused", why: `grew past the limit of ${options.max}` };
    }
    return { kind: "ok", bytes };
  } catch (err) {
    // silent-ok: removed between lstat and read; reported as missing by the caller.
    if (KernelError.is(err, "NOT_FOUND")) return { kind: "missing" };
    throw err;
  }
}

/** Shortens a hex hash for messages: `ab12cd34ef56…`. */
export function shortHash(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
}
