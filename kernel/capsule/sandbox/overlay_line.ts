/**
 * The command line that gives a sandboxed process a copy-on-write view of its
 * workspace: `unshare -Urm` (a user namespace in which the kernel's user is
 * root, and a mount namespace) mounts overlayfs — the workspace (and the
 * session overlay's view layer above it) read-only below, a per-spawn upper
 * dir on top — and then `exec`s bubblewrap, which binds the merged view over
 * the workspace path (Debian 12's bubblewrap 0.8 has no overlay option).
 *
 * Security model: the mount exists only inside the new mount namespace and
 * dies with it; the process writes only to the upper dir, which the kernel
 * imports afterwards as gated, audited overlay writes. Paths go to `sh` as
 * positional arguments, never spliced into the script; paths overlayfs
 * cannot name in its mount options (`,` `:` `\` or a newline) are refused.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";

/** The script run by `sh` inside the namespace; its arguments follow it. */
const SCRIPT = "up=$1 work=$2 merged=$3 lower=$4; shift 4; " +
  'mount -t overlay astrid-overlay -o "lowerdir=$lower,upperdir=$up,workdir=$work" "$merged" || exit 125; ' +
  'exec "$@"';

/** The dirs of one overlay mount (absolute; upper and work on one file system). */
export interface OverlayDirs {
  /** Lower layers, top first: the view layer (if any), then the workspace. */
  readonly lower: readonly string[];
  /** Receives every change the process makes. */
  readonly upper: string;
  /** overlayfs's scratch dir. */
  readonly work: string;
  /** Where the merged view is mounted (inside the namespace only). */
  readonly merged: string;
}

/** Exit code of the line when the overlay could not be mounted. */
export const OVERLAY_MOUNT_FAILED = 125;

function checked(p: string): string {
  if (!p.startsWith("/") || /[,:\\\n\0]/.test(p)) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot use '${p}' in an overlay mount: the path must be absolute and contain no ',', ':', '\\' or newline`,
      { data: { path: p } },
    );
  }
  return p;
}

/**
 * Wraps a sandbox command line (usually `bwrap …`) so that it runs after
 * overlayfs is mounted at `dirs.merged` in a fresh user and mount namespace.
 * The line exits with {@linkcode OVERLAY_MOUNT_FAILED} when the mount fails.
 *
 * @param unshare The `unshare` executable (util-linux).
 * @param dirs Lower, upper, work and merged dirs.
 * @param inner The command to `exec` once mounted, and its arguments.
 * @returns The program and arguments to spawn.
 * @throws {KernelError} `INVALID_INPUT` for a dir overlayfs cannot name.
 *
 * @example Mount, then run bwrap
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlayLine } from "./overlay_line.ts";
 * const line = overlayLine("/usr/bin/unshare", {
 *   lower: ["/ws"], upper: "/s/up", work: "/s/work", merged: "/s/merged",
 * }, { command: "/usr/bin/bwrap", args: ["--", "true"] });
 * assert.equal(line.command, "/usr/bin/unshare");
 * assert.deepEqual(line.args.slice(0, 2), ["-Urm", "/bin/sh"]);
 * assert.deepEqual(line.args.slice(-7), ["/s/up", "/s/work", "/s/merged", "/ws", "/usr/bin/bwrap", "--", "true"]);
 * ```
 */
export function overlayLine(
  unshare: string,
  dirs: OverlayDirs,
  inner: { readonly command: string; readonly args: readonly string[] },
): { command: string; args: string[] } {
  if (dirs.lower.length === 0) {
    throw new TypeError("An overlay needs at least one lower dir");
  }
  return {
    command: unshare,
    args: [
      "-Urm",
      "/bin/sh",
      "-c",
      SCRIPT,
      "astrid-sandbox",
      checked(dirs.upper),
      checked(dirs.work),
      checked(dirs.merged),
      dirs.lower.map(checked).join(":"),
      inner.command,
      ...inner.args,
    ],
  };
}
