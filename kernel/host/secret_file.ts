/**
 * Small owner-only files of the daemon (`run/system.token`,
 * `run/system.ready`): written atomically with mode 0600, removed quietly.
 *
 * @module
 */
import { hostError } from "./_host_error.ts";

/**
 * Writes a file atomically with mode 0600: a fresh temp file beside it
 * (created exclusively, 0600 regardless of the umask), then a rename over
 * the target. A reader sees the old content or the new, never a part.
 *
 * @param path The file.
 * @param text Its content.
 * @throws {KernelError} `HOST_IO`, `HOST_PERMISSION_DENIED`.
 */
export async function writePrivateFile(
  path: string,
  text: string,
): Promise<void> {
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const tmp = `${path}.${suffix}.tmp`;
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      await Deno.chmod(tmp, 0o600);
      const bytes = new TextEncoder().encode(text);
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw hostError(err, "write a private daemon file");
  }
}

/**
 * Removes a file; a missing file is fine.
 *
 * @param path The file.
 * @returns Whether a file was removed.
 */
export async function removeQuietly(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The permission bits of a path (not following a symlink), or `null` when missing.
 *
 * @param path The path.
 * @returns `mode & 0o777` and whether it is a socket.
 */
export async function fileModeOf(
  path: string,
): Promise<{ mode: number | null; socket: boolean } | null> {
  try {
    const st = await Deno.lstat(path);
    return {
      mode: st.mode === null ? null : st.mode & 0o777,
      socket: st.isSocket === true,
    };
  } catch {
    return null;
  }
}
