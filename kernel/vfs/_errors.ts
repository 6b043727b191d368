/**
 * Private: the VFS's error constructors, so every message names the path and
 * the reason in the same words.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * `VFS_PATH_ESCAPE`: the path leaves its mount.
 *
 * @param path The path as the caller gave it.
 * @param why Why it escapes.
 * @returns The error to throw.
 */
export function escapeError(path: string, why: string): KernelError {
  return new KernelError(
    "VFS_PATH_ESCAPE",
    `Cannot use path '${shown(path)}' as it ${why}`,
    { data: { path: shown(path) } },
  );
}

/**
 * `VFS_PATH_INVALID`: the path is malformed.
 *
 * @param path The path as the caller gave it.
 * @param why What is wrong with it.
 * @returns The error to throw.
 */
export function invalidPathError(path: string, why: string): KernelError {
  return new KernelError(
    "VFS_PATH_INVALID",
    `Cannot use path '${shown(path)}' as it ${why}`,
    { data: { path: shown(path) } },
  );
}

/**
 * `VFS_NOT_FOUND`.
 *
 * @param path The path.
 * @param what What was being done, e.g. "read".
 * @returns The error to throw.
 */
export function notFoundError(path: string, what: string): KernelError {
  return new KernelError(
    "VFS_NOT_FOUND",
    `Cannot ${what} '${shown(path)}' as it does not exist in the overlay`,
    { data: { path: shown(path) } },
  );
}

/**
 * `VFS_INVALID_OPERATION`.
 *
 * @param path The path.
 * @param what What was being done.
 * @param why Why it does not fit.
 * @returns The error to throw.
 */
export function invalidOpError(
  path: string,
  what: string,
  why: string,
): KernelError {
  return new KernelError(
    "VFS_INVALID_OPERATION",
    `Cannot ${what} '${shown(path)}' as ${why}`,
    { data: { path: shown(path) } },
  );
}

/** Paths in messages: NUL shown as `\0`, cut at 200 characters. */
function shown(path: string): string {
  const clean = path.replaceAll("\0", "\\0");
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
