/**
 * Component-wise path containment, the one check used by manifest grants,
 * workspace modes and MCP pre-launch checks.
 *
 * @module
 */
import * as path from "node:path";

/**
 * Tells whether `target` is `root` or lies below it, component by component
 * (`/project-evil` is not inside `/project`). Both must be absolute POSIX
 * paths; neither is resolved against the file system (symlinks are the
 * caller's job). A relative step that starts with `..` counts as outside.
 *
 * @param root The containing directory.
 * @param target The path to test.
 * @returns `true` when `target` is `root` or inside it.
 *
 * @example Siblings with a shared prefix are outside
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPathWithin } from "./path_within.ts";
 * assert.ok(isPathWithin("/work/project", "/work/project/src/a.ts"));
 * assert.ok(isPathWithin("/work/project", "/work/project"));
 * assert.ok(!isPathWithin("/work/project", "/work/project-evil/a"));
 * assert.ok(!isPathWithin("/work/project", "/work/project/../secret"));
 * ```
 */
export function isPathWithin(root: string, target: string): boolean {
  if (isNormalAbsolute(root) && isNormalAbsolute(target)) {
    // The same answer as below without `path.relative` (asked on every gate
    // decision, several times): for normal absolute paths the relative path
    // is what follows `root/` when `target` starts with it, else it climbs.
    if (target === root) return true;
    const prefix = root === "/" ? "/" : `${root}/`;
    return target.startsWith(prefix) &&
      !target.slice(prefix.length).startsWith("..");
  }
  const rel = path.posix.relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !path.posix.isAbsolute(rel));
}

/** `//`, or a `.` or `..` segment. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)/;

/** Absolute, no empty, `.` or `..` segment, no trailing slash (but `/`). */
function isNormalAbsolute(p: string): boolean {
  return p.startsWith("/") && (p.length === 1 || !p.endsWith("/")) &&
    !NOT_NORMAL.test(p);
}
