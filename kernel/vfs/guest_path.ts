/**
 * Guest path mapping (reference §8.2): which mount a capsule's path names.
 *
 * | Guest path | Mount | Writes |
 * |---|---|---|
 * | `home://p` | the principal home `home/<principal>/` | direct |
 * | `/tmp`, `/tmp/p` | `home/<principal>/.local/tmp/` | direct |
 * | `cwd://p`, a relative path, an absolute path inside the workspace | the session overlay | copy-on-write |
 *
 * An absolute path inside the workspace wins over `/tmp` (a workspace may
 * itself live under `/tmp`). Any other absolute path, and any other
 * `scheme://`, is refused. Schemes are case-insensitive (`HOME://` is
 * `home://`).
 *
 * Security model: this is the ONE guest-path mapper. {@linkcode resolveGuestPath}
 * turns a guest path into the exact host location it names, once; the gate
 * judges `hostPath` and the effect receives the same resolved value (the
 * session VFS accepts only values it resolved itself), so the two can never
 * read one path two ways.
 *
 * @module
 */
import { escapeError, invalidPathError } from "./_errors.ts";
import { checkPathText, normalizeParts, splitRelPath } from "./rel_path.ts";

/** The mounts a guest path can name. */
export type MountName = "workspace" | "home" | "tmp";

/** Where a guest path points. */
export interface GuestTarget {
  /** The mount. */
  readonly mount: MountName;
  /** Normalised components relative to the mount root (`[]` = the root). */
  readonly parts: readonly string[];
}

/** Options of {@linkcode mapGuestPath}. */
export interface MapGuestPathOptions {
  /**
   * The workspace root as absolute paths: the canonical one and any alias
   * (the configured path before symlinks were resolved).
   */
  readonly workspaceRoots: readonly string[];
}

/** The absolute host roots of the three mounts. */
export interface MountRoots {
  /** The canonical workspace root (the overlay's lower layer). */
  readonly workspace: string;
  /** The principal home (`home://`). */
  readonly home: string;
  /** The principal's private tmp (`/tmp`). */
  readonly tmp: string;
}

/** A guest path resolved once: its mount, components and exact host location. */
export interface ResolvedGuestPath extends GuestTarget {
  /** The path as the capsule gave it. */
  readonly guest: string;
  /** The absolute, normalised host path the effect touches (what the gate judges). */
  readonly hostPath: string;
}

/**
 * Resolves a guest path into the exact host location it names.
 *
 * @param path The path a capsule gave.
 * @param options The workspace roots (canonical first, then aliases) and the mount roots.
 * @returns A frozen {@linkcode ResolvedGuestPath}.
 * @throws {TypeError} When `path` is not a string.
 * @throws {KernelError} As {@linkcode mapGuestPath}.
 *
 * @example The gate's view of a path
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveGuestPath } from "./guest_path.ts";
 * const roots = { workspace: "/ws", home: "/h/default", tmp: "/h/default/.local/tmp" };
 * const opts = { workspaceRoots: ["/ws"], roots };
 * assert.equal(resolveGuestPath("HOME://notes.md", opts).hostPath, "/h/default/notes.md");
 * assert.equal(resolveGuestPath("src/../a.ts", opts).hostPath, "/ws/a.ts");
 * assert.equal(resolveGuestPath("/tmp/x", opts).hostPath, "/h/default/.local/tmp/x");
 * ```
 */
export function resolveGuestPath(
  path: string,
  options: MapGuestPathOptions & { readonly roots: MountRoots },
): ResolvedGuestPath {
  const target = mapGuestPath(path, options);
  const root = options.roots[target.mount].replace(/\/+$/, "");
  const hostPath = target.parts.length === 0
    ? (root === "" ? "/" : root)
    : `${root}/${target.parts.join("/")}`;
  return Object.freeze({
    guest: path,
    mount: target.mount,
    parts: Object.freeze([...target.parts]),
    hostPath,
  });
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Maps a guest path to its mount and mount-relative components.
 *
 * @param path The path a capsule gave.
 * @param options The workspace roots.
 * @returns The mount and components.
 * @throws {TypeError} When `path` is not a string.
 * @throws {KernelError} `VFS_PATH_INVALID` (empty, NUL, too long, unknown scheme);
 *   `VFS_PATH_ESCAPE` (an absolute path outside the workspace and `/tmp`, or `..` above a root).
 *
 * @example Map the three kinds of path
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapGuestPath } from "./guest_path.ts";
 * const opts = { workspaceRoots: ["/work/project"] };
 * assert.deepEqual(mapGuestPath("src/a.ts", opts), { mount: "workspace", parts: ["src", "a.ts"] });
 * assert.deepEqual(mapGuestPath("/work/project/b", opts), { mount: "workspace", parts: ["b"] });
 * assert.deepEqual(mapGuestPath("home://notes.md", opts), { mount: "home", parts: ["notes.md"] });
 * assert.deepEqual(mapGuestPath("/tmp/x", opts), { mount: "tmp", parts: ["x"] });
 * assert.throws(() => mapGuestPath("/etc/passwd", opts), { code: "VFS_PATH_ESCAPE" });
 * ```
 */
export function mapGuestPath(
  path: string,
  options: MapGuestPathOptions,
): GuestTarget {
  checkPathText(path);
  const scheme = SCHEME.exec(path);
  if (scheme) {
    const rest = path.slice(scheme[0].length);
    const name = scheme[1]?.toLowerCase();
    if (name !== "home" && name !== "cwd") {
      throw invalidPathError(path, `uses the unknown scheme '${scheme[1]}://'`);
    }
    const parts = rest === ""
      ? []
      : splitRelPath(rest.replace(/^\/+/, ""), path);
    return { mount: name === "home" ? "home" : "workspace", parts };
  }
  if (!path.startsWith("/")) {
    return { mount: "workspace", parts: splitRelPath(path) };
  }
  const absolute = absoluteParts(path);
  for (const root of options.workspaceRoots) {
    const rootParts = absoluteParts(root);
    if (startsWith(absolute, rootParts)) {
      return { mount: "workspace", parts: absolute.slice(rootParts.length) };
    }
  }
  if (absolute[0] === "tmp") {
    return { mount: "tmp", parts: absolute.slice(1) };
  }
  throw escapeError(path, "is absolute and outside the workspace and /tmp");
}

/** Normalises an absolute path; `..` at `/` stays at `/`, as POSIX does. */
function absoluteParts(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return normalizeParts(out, path);
}

function startsWith(parts: readonly string[], prefix: readonly string[]) {
  return prefix.length <= parts.length &&
    prefix.every((p, i) => parts[i] === p);
}
