/**
 * The `GuestFs` port over a session VFS: `resolve` is the VFS's one mapper,
 * and every effect passes the resolved value straight back to the VFS (which
 * accepts only values it resolved itself).
 *
 * @module
 */
import type { SessionVfs } from "../vfs/session_vfs.ts";
import type { GuestFs } from "./ports.ts";

/**
 * Adapts a session VFS (opened lazily) to the ABI's file port.
 *
 * @param vfs Opens (once) the session's VFS.
 * @returns The port.
 */
export function guestFsOf(vfs: () => Promise<SessionVfs>): GuestFs {
  return {
    resolve: async (p) => (await vfs()).resolve(p),
    read: async (p, o) => await (await vfs()).readFile(p, o),
    write: async (p, data, o) => await (await vfs()).writeFile(p, data, o),
    exists: async (p) => await (await vfs()).exists(p),
    readDir: async (p) =>
      (await (await vfs()).readDir(p)).map((e) => ({
        name: e.name,
        is_dir: e.isDirectory,
      })),
    stat: async (p) => {
      const s = await (await vfs()).stat(p);
      return { size: s.size, is_dir: s.isDirectory, mtime_ms: s.mtimeMs };
    },
    mkdir: async (p) => await (await vfs()).mkdir(p),
    remove: async (p) => await (await vfs()).remove(p),
  };
}
