/**
 * `flags` mode cannot carve `$ASTRID_HOME` out of a granted root: Deno's
 * `--allow-read=/x` allows everything below `/x`. So an MCP server in
 * `flags` mode whose granted `fs_read`/`fs_write` roots lie in the kernel's
 * home, or contain it (`/`, its parent, `home://` itself with its `.local/`),
 * is refused before launch — the same hard rule the policy applies to every
 * broker-mode permission check (see `security/protected_home.ts`). The
 * capsule's own directory stays readable (flags mode always grants it).
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import { ProtectedHome } from "../../../security/protected_home.ts";
import { grantedRoots, type LaunchGrants } from "./launch_flags.ts";

/** Options of {@linkcode refuseProtectedFlagRoots}. */
export interface FlagRootsOptions {
  /** The server id, for messages. */
  readonly server: string;
  /** Spellings of `$ASTRID_HOME`. */
  readonly kernelHome: readonly string[];
  /** The principal (its own `home://` files stay reachable). */
  readonly principal: string;
  readonly capsuleDir: string;
  readonly workspace: string;
  readonly principalHome?: string;
}

/**
 * Refuses a flags-mode launch whose granted roots touch the kernel's home.
 *
 * @param grants The manifest grants.
 * @param options Server, home spellings, principal and the capsule's dirs.
 * @throws {KernelError} `POLICY_BLOCKED` naming the server and the root.
 *
 * @example A grant of the whole file system is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseProtectedFlagRoots } from "./flags_protected_home.ts";
 * assert.throws(
 *   () => refuseProtectedFlagRoots(
 *     { fs_read: ["/"], fs_write: [], net: [], env: [] },
 *     { server: "s", kernelHome: ["/srv/astrid"], principal: "ada", capsuleDir: "/c", workspace: "/ws" },
 *   ),
 *   /flags mode/,
 * );
 * ```
 */
export function refuseProtectedFlagRoots(
  grants: LaunchGrants,
  options: FlagRootsOptions,
): void {
  if (options.kernelHome.length === 0) return;
  const home = new ProtectedHome({ roots: options.kernelHome });
  const roots = grantedRoots(grants, {
    capsuleDir: options.capsuleDir,
    workspace: options.workspace,
    ...(options.principalHome ? { principalHome: options.principalHome } : {}),
  });
  const own = path.posix.normalize(options.capsuleDir).replace(/\/+$/, "");
  const checks = [
    ...roots.read.filter((r) => r !== own).map((r) => ["read", r] as const),
    ...roots.write.map((r) => ["write", r] as const),
  ];
  for (const [kind, root] of checks) {
    const hit = home.checkRoot(root, { principal: options.principal });
    if (hit !== null) {
      throw new KernelError(
        "POLICY_BLOCKED",
        `Cannot start MCP server '${options.server}' in flags mode with ${kind} access to '${root}': ${hit.reason}; flags cannot exclude it, so grant a narrower root or use broker mode`,
        { data: { server: options.server, root, rule: "protected_home" } },
      );
    }
  }
}
