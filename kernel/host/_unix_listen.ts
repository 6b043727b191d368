/**
 * Private: listens on a Unix socket path, taking over a stale socket (one
 * nothing answers on, left by a crashed process) and reporting a live one as
 * in use. Anything that is not a socket (a file, a symlink) is never
 * removed: the original error is thrown.
 *
 * @module
 */

/**
 * Listens on `path`.
 *
 * @param path The socket path.
 * @returns The listener, or `null` when another process listens there.
 * @throws {Deno.errors.AddrInUse} when a non-socket occupies the path, and
 *   the other errors of `Deno.listen` (e.g. `NotCapable`).
 */
export async function listenUnixReclaiming(
  path: string,
): Promise<Deno.UnixListener | null> {
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    const info = await Deno.lstat(path).catch(() => null);
    if (info === null || info.isSocket !== true) throw err;
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return null;
  } catch (err) {
    if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
  }
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return null;
    throw err;
  }
}
