/**
 * The few POSIX path operations the CLI's client path needs, without
 * `node:path`: the first `node:` import costs a Deno process ~25 ms of start-up
 * (measured), and `astrid -p` / `astrid status` start a process per command.
 * Everything else in the kernel uses `node:path`; these agree with its
 * `posix` functions (tested side by side).
 *
 * @module
 */

/**
 * Whether a path is absolute.
 *
 * @param p The path.
 * @returns `true` when it starts with `/`.
 */
export function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/**
 * Normalizes a path: collapses `//` and `.`, resolves `..` (never above `/`
 * for an absolute path), drops a trailing `/`.
 *
 * @param p The path.
 * @returns The normal form (`.` for an empty relative path).
 *
 * @example
 * ```ts
 * import { normalize } from "./posix_path.ts";
 * console.assert(normalize("/a//b/./c/../d/") === "/a/b/d");
 * console.assert(normalize("a/../../b") === "../b");
 * ```
 */
export function normalize(p: string): string {
  const abs = isAbsolute(p);
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(part);
  }
  const body = out.join("/");
  return abs ? `/${body}` : body === "" ? "." : body;
}

/**
 * Joins path segments and normalizes the result.
 *
 * @param parts The segments.
 * @returns The joined path.
 */
export function join(...parts: readonly string[]): string {
  return normalize(parts.filter((x) => x !== "").join("/"));
}

/**
 * Resolves `p` against the absolute directory `base` (an absolute `p` wins).
 *
 * @param base An absolute directory.
 * @param p The path.
 * @returns The absolute, normalized path.
 */
export function resolve(base: string, p: string): string {
  return normalize(isAbsolute(p) ? p : `${base}/${p}`);
}
