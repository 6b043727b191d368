/**
 * Maps a guest path to the absolute host path the gate judges (reference §8.2):
 * `home://p` ⇒ the principal home, `/tmp` and `/tmp/p` ⇒ the principal's private
 * tmp, `cwd://p` and relative paths ⇒ the workspace, other absolute paths as given.
 *
 * Security model: the mapping is purely lexical and never resolves `..` — a
 * traversal stays visible so that the policy refuses it (a `..` component is a
 * policy block, never silently normalised away). Symlinks are the VFS's job.
 *
 * @module
 */
import type { CallerIdentity } from "./ports.ts";

function under(root: string, rest: string): string {
  const tail = rest.replace(/^\/+/, "");
  return tail === ""
    ? root
    : `${root.replace(/\/+$/, "")}/${tail}`.replace(/\/{2,}/g, "/");
}

/**
 * The absolute host path a guest path refers to.
 *
 * @param guest The path the capsule passed.
 * @param caller The caller's workspace and home.
 * @returns The absolute path, with any `..` left in place.
 *
 * @example Map guest paths
 * ```ts
 * import { hostPathOf } from "./guest_path.ts";
 * const c = { workspace: "/ws", principalHome: "/h/default" } as never;
 * console.assert(hostPathOf("src/a.ts", c) === "/ws/src/a.ts");
 * console.assert(hostPathOf("home://notes.md", c) === "/h/default/notes.md");
 * console.assert(hostPathOf("/tmp/x", c) === "/h/default/.local/tmp/x");
 * console.assert(hostPathOf("../etc/passwd", c) === "/ws/../etc/passwd");
 * ```
 */
export function hostPathOf(
  guest: string,
  caller: Pick<CallerIdentity, "workspace" | "principalHome">,
): string {
  if (guest.startsWith("home://")) {
    return under(caller.principalHome, guest.slice(7));
  }
  if (guest.startsWith("cwd://")) {
    return under(caller.workspace, guest.slice(6));
  }
  // Same precedence as the VFS (kernel/vfs/guest_path.ts): an absolute path inside the
  // workspace is the workspace even when the workspace itself lives under /tmp, so the
  // gate judges exactly the file the VFS will open.
  const ws = caller.workspace.replace(/\/+$/, "");
  if (guest === ws || guest.startsWith(`${ws}/`)) {
    return guest.replace(/\/{2,}/g, "/");
  }
  if (guest === "/tmp" || guest.startsWith("/tmp/")) {
    return under(`${caller.principalHome}/.local/tmp`, guest.slice(4));
  }
  if (guest.startsWith("/")) return guest.replace(/\/{2,}/g, "/");
  return under(caller.workspace, guest);
}
