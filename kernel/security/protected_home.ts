/**
 * The kernel's own home (`$ASTRID_HOME`) as a hard-denied area of the
 * policy: no capsule action in any mode — file read, write or delete, an MCP
 * subprocess's permission check, a process's program or path arguments, an
 * overlay commit — touches it, whatever the manifest grants or a token says.
 *
 * What is denied, under every spelling of the root (as configured and its
 * real path; paths are canonicalised first, so `//`, `.` and a trailing `/`
 * change nothing and `..` is refused before this check):
 * - everything under `$ASTRID_HOME` — `keys/` (the runtime key), `var/`
 *   (`state.kv`, MCP scratch), `run/` (socket, bearer token), `etc/`, `log/`,
 *   `bin/`, `lib/`, `wit/`, and `home/` itself —
 * - except a principal's own home `home/<principal>/` (the `home://` view the
 *   VFS maps for capsules; another principal's home stays denied when the
 *   caller is known), of which still denied are `.local/` (installed capsules
 *   `.local/capsules`, session overlays `.local/overlay`, KV, audit, tokens,
 *   logs) with the one exception of `.local/tmp/` (the guest's `/tmp`), and
 *   `.config/` (per-capsule env, distro lock);
 * - writing or deleting an ancestor of `$ASTRID_HOME` (a recursive delete of
 *   its parent would remove it).
 *
 * The check is lexical: a path that reaches the home through a symbolic link
 * elsewhere is the path mapper's and the file-system layer's concern (they
 * resolve it before the gate judges it).
 *
 * @module
 */
import * as path from "node:path";
import { isPathWithin } from "../core/path_within.ts";

/** Where the kernel's home is. */
export interface ProtectedHomeOptions {
  /** Absolute spellings of `$ASTRID_HOME`: as configured, and its real path. */
  readonly roots: readonly string[];
}

/** Why a path is refused. */
export interface ProtectedHit {
  readonly reason: string;
  /** The spelling of `$ASTRID_HOME` that matched. */
  readonly entry: string;
}

const PRINCIPAL_DENIED = [".local", ".config"];
const PRINCIPAL_ALLOWED = [".local/tmp"];

/**
 * The lexical canonical form of an absolute path: `//`, `.` and `..` resolved
 * (`..` must be: `#principalArea` reads the path's components, so a detour
 * like `home/<me>/x/../../../keys` would otherwise look like the caller's own
 * area), no trailing `/`.
 */
function clean(p: string): string {
  const normal = path.posix.normalize(p);
  return normal.length > 1 && normal.endsWith("/")
    ? normal.slice(0, -1)
    : normal;
}

/**
 * The hard-denied kernel home.
 *
 * @example Keys denied, the principal's files reachable
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtectedHome } from "./protected_home.ts";
 * const home = new ProtectedHome({ roots: ["/srv/astrid"] });
 * assert.notEqual(home.check("/srv/astrid/keys/runtime.key"), null);
 * assert.equal(home.check("/srv/astrid/home/ada/notes.md", { principal: "ada" }), null);
 * assert.equal(home.check("/srv/astrid/home/ada/.local/tmp/x", { principal: "ada" }), null);
 * assert.notEqual(home.check("/srv/astrid/home/ada/.local/capsules/x/Capsule.toml"), null);
 * assert.notEqual(home.check("/srv", { destructive: true }), null);
 * ```
 */
export class ProtectedHome {
  #roots: readonly string[];

  /**
   * @param options The spellings of `$ASTRID_HOME`.
   * @throws {TypeError} When a root is not absolute or is `/`.
   */
  constructor(options: ProtectedHomeOptions) {
    this.#roots = [
      ...new Set(options.roots.map((r) => {
        if (typeof r !== "string" || !r.startsWith("/") || clean(r) === "/") {
          throw new TypeError(
            `Cannot protect ${
              JSON.stringify(r)
            } as ASTRID_HOME: expected an absolute path other than /`,
          );
        }
        return clean(r);
      })),
    ];
  }

  /**
   * Checks one canonical absolute path.
   *
   * @param p The canonical path (see `canonicalizePath()`).
   * @param options `destructive`: the action writes or deletes (ancestors of
   *   the home are denied too); `principal`: the caller, whose own home is reachable.
   * @returns `null` when the path may be touched, else why not.
   */
  check(
    p: string,
    options: { destructive?: boolean; principal?: string } = {},
  ): ProtectedHit | null {
    for (const root of this.#roots) {
      if (isPathWithin(root, p)) {
        if (this.#principalArea(root, p, options.principal)) continue;
        return {
          reason:
            `Path '${p}' lies in the kernel's home ${root} (ASTRID_HOME), which no capsule may touch`,
          entry: root,
        };
      }
      if (options.destructive && isPathWithin(p, root)) {
        return {
          reason:
            `Path '${p}' contains the kernel's home ${root} (ASTRID_HOME), so it may not be written or deleted`,
          entry: root,
        };
      }
    }
    return null;
  }

  /**
   * Checks a directory granted wholesale (a Deno `--allow-read`/`--allow-write`
   * root, which cannot carve anything out): refused when it lies in a denied
   * area, is an ancestor of `$ASTRID_HOME`, or contains a principal home's
   * `.local/` or `.config/` (e.g. `home://` itself).
   *
   * @param p The canonical directory.
   * @param options `principal`: the caller.
   * @returns `null`, or why it is refused.
   */
  checkRoot(
    p: string,
    options: { principal?: string } = {},
  ): ProtectedHit | null {
    const hit = this.check(p, { ...options, destructive: true });
    if (hit !== null) return hit;
    for (const root of this.#roots) {
      if (!isPathWithin(root, p)) continue;
      const rest = p.slice(root.length + 1).split("/");
      const who = rest[1];
      if (rest[0] !== "home" || who === undefined) continue;
      for (const d of PRINCIPAL_DENIED) {
        if (isPathWithin(p, `${root}/home/${who}/${d}`)) {
          return {
            reason:
              `Directory '${p}' contains ${root}/home/${who}/${d}, part of the kernel's home (ASTRID_HOME) that no capsule may touch`,
            entry: root,
          };
        }
      }
    }
    return null;
  }

  /**
   * Checks a command line: the program and every argument that is an
   * absolute path (also the value of `--opt=/path`).
   *
   * @param command The program.
   * @param args Its arguments.
   * @returns `null`, or why it is refused.
   */
  checkCommand(command: string, args: readonly string[]): ProtectedHit | null {
    for (const word of [command, ...args]) {
      const value = word.startsWith("/") ? word : word.replace(/^[^=]*=/, "");
      if (!value.startsWith("/")) continue;
      const hit = this.check(clean(value), { destructive: false });
      if (hit !== null) return hit;
    }
    return null;
  }

  #principalArea(
    root: string,
    p: string,
    principal: string | undefined,
  ): boolean {
    const rest = p.slice(root.length + 1).split("/");
    if (rest[0] !== "home" || rest.length < 2) return false;
    const who = rest[1]!;
    if (principal !== undefined && who !== principal) return false;
    const inner = rest.slice(2).join("/");
    const under = (d: string) => inner === d || inner.startsWith(`${d}/`);
    if (PRINCIPAL_ALLOWED.some(under)) return true;
    return !PRINCIPAL_DENIED.some(under);
  }
}
