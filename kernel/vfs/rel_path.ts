/**
 * Lexical checks and normalisation of paths relative to a mount root.
 *
 * @module
 */
import { escapeError, invalidPathError } from "./_errors.ts";

/**
 * Longest accepted path, in UTF-8 bytes (like Linux `PATH_MAX`).
 *
 * @example One byte too many
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPathText, MAX_PATH_BYTES } from "./rel_path.ts";
 * assert.throws(() => checkPathText("a".repeat(MAX_PATH_BYTES + 1)), { code: "VFS_PATH_INVALID" });
 * ```
 */
export const MAX_PATH_BYTES = 4096;
/**
 * Longest accepted path component, in UTF-8 bytes (like Linux `NAME_MAX`).
 *
 * @example A 255-byte name is fine, 256 is not
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_NAME_BYTES, splitRelPath } from "./rel_path.ts";
 * splitRelPath("n".repeat(MAX_NAME_BYTES));
 * assert.throws(() => splitRelPath("n".repeat(MAX_NAME_BYTES + 1)), { code: "VFS_PATH_INVALID" });
 * ```
 */
export const MAX_NAME_BYTES = 255;

const UTF8 = new TextEncoder();

/**
 * Checks the things every path must satisfy, whatever its mount: a string,
 * non-empty, no NUL byte, at most {@linkcode MAX_PATH_BYTES} bytes.
 *
 * @param path The raw path.
 * @throws {TypeError} When `path` is not a string.
 * @throws {KernelError} `VFS_PATH_INVALID` for an empty path, a NUL byte or an over-long path.
 *
 * @example Refuse a NUL byte
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPathText } from "./rel_path.ts";
 * assert.throws(() => checkPathText("a\0b"), { code: "VFS_PATH_INVALID" });
 * checkPathText("src/main.ts");
 * ```
 */
export function checkPathText(path: string): void {
  if (typeof path !== "string") {
    throw new TypeError(`A VFS path must be a string, got ${typeof path}`);
  }
  if (path.length === 0) throw invalidPathError(path, "is empty");
  if (path.includes("\0")) throw invalidPathError(path, "contains a NUL byte");
  if (tooLong(path, MAX_PATH_BYTES)) {
    throw invalidPathError(
      path,
      `is longer than ${MAX_PATH_BYTES} bytes`,
    );
  }
}

/**
 * Splits a mount-relative path into normalised components: empty and `.`
 * components are dropped and `..` is applied lexically, before any symlink
 * is looked at. `"."` is the mount root (`[]`).
 *
 * @param path The path, relative to the mount root.
 * @param original The path to name in errors (default `path`).
 * @returns The components, never containing `""`, `.` or `..`.
 * @throws {TypeError} When `path` is not a string.
 * @throws {KernelError} `VFS_PATH_INVALID` (empty, NUL, over 4096 bytes, a component over
 *   255 bytes); `VFS_PATH_ESCAPE` (absolute, or a `..` that climbs above the root).
 *
 * @example Normalise and refuse an escape
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitRelPath } from "./rel_path.ts";
 * assert.deepEqual(splitRelPath("a/./b/../c/"), ["a", "c"]);
 * assert.throws(() => splitRelPath("a/../../etc"), { code: "VFS_PATH_ESCAPE" });
 * ```
 */
export function splitRelPath(path: string, original: string = path): string[] {
  checkPathText(path);
  if (path.startsWith("/")) {
    throw escapeError(original, "is absolute and outside the mount");
  }
  return normalizeParts(path.split("/"), original);
}

/**
 * Applies `.` and `..` to already split components; `..` above the root is
 * an escape.
 *
 * @param raw Components, possibly with `""`, `.` and `..`.
 * @param original The path to name in errors.
 * @returns Normalised components.
 * @throws {KernelError} `VFS_PATH_INVALID` for a component over 255 bytes;
 *   `VFS_PATH_ESCAPE` for a `..` above the root.
 *
 * @example Apply `..`
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeParts } from "./rel_path.ts";
 * assert.deepEqual(normalizeParts(["a", "..", "b"], "a/../b"), ["b"]);
 * ```
 */
export function normalizeParts(
  raw: readonly string[],
  original: string,
): string[] {
  const out: string[] = [];
  for (const part of raw) {
    if (part === "" || part === ".") continue;
    if (tooLong(part, MAX_NAME_BYTES)) {
      throw invalidPathError(
        original,
        `has a component longer than ${MAX_NAME_BYTES} bytes`,
      );
    }
    if (part === "..") {
      if (out.length === 0) {
        throw escapeError(original, "climbs above its root with '..'");
      }
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

/**
 * Joins components into a key (`""` is the root).
 *
 * @param parts Normalised components.
 * @returns `a/b/c`.
 *
 * @example Join
 * ```ts
 * import { joinKey } from "./rel_path.ts";
 * console.assert(joinKey(["a", "b"]) === "a/b");
 * ```
 */
export function joinKey(parts: readonly string[]): string {
  return parts.join("/");
}

/**
 * Whether `key` is `scope` or inside it.
 *
 * @param key A normalised key.
 * @param scope A normalised key (`""` is the root and contains everything).
 * @returns `true` when inside.
 *
 * @example Scopes are component-wise
 * ```ts
 * import { keyWithin } from "./rel_path.ts";
 * console.assert(keyWithin("src/a.ts", "src"));
 * console.assert(!keyWithin("srcx/a.ts", "src"));
 * ```
 */
export function keyWithin(key: string, scope: string): boolean {
  return scope === "" || key === scope || key.startsWith(`${scope}/`);
}

/** A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings skip encoding. */
function tooLong(s: string, maxBytes: number): boolean {
  if (s.length > maxBytes) return true;
  return s.length * 3 > maxBytes && UTF8.encode(s).length > maxBytes;
}
