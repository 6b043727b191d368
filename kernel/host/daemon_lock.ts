/**
 * The one-daemon-per-home lock: an exclusive `flock` on `run/system.lock`.
 * The operating system releases it when the holder dies (even `kill -9`),
 * so a lock left by a killed daemon never blocks the next one, and the
 * files of a dead daemon can be recognised as stale by whoever takes it.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { hostError } from "./_host_error.ts";

/** A held daemon lock. */
export interface DaemonLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file and releases the lock (idempotent). */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of a home's daemon, without waiting.
 *
 * The file is opened (created with mode 0600 when missing) and locked; when
 * the path no longer names the locked file afterwards (a releasing daemon
 * removed it in between), the attempt is repeated on the new file, so two
 * daemons can never both hold "the" lock.
 *
 * @param path The lock file, `run/system.lock`.
 * @returns The held lock.
 * @throws {KernelError} `DAEMON_RUNNING` when another process holds it; `HOST_IO` otherwise.
 */
export async function acquireDaemonLock(path: string): Promise<DaemonLock> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
    } catch (err) {
      throw hostError(err, "open the daemon lock file");
    }
    let locked = false;
    try {
      locked = await file.tryLock(true);
      if (!locked) {
        throw new KernelError(
          "DAEMON_RUNNING",
          "A daemon already serves this home (stop it with 'astrid stop')",
        );
      }
      const held = await file.stat();
      const now = await Deno.stat(path).catch(() => null);
      if (now === null || now.ino !== held.ino || now.dev !== held.dev) {
        file.close();
        continue; // removed by a releasing daemon: lock the new file
      }
      await file.truncate(0);
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    } catch (err) {
      file.close();
      throw hostError(err, "lock the daemon lock file");
    }
    let released = false;
    return {
      path,
      async release(): Promise<void> {
        if (released) return;
        released = true;
        // Remove while still holding the lock: a waiter that opened the old
        // file sees it is gone (inode check above) and retries.
        await Deno.remove(path).catch(() => {});
        file.close();
      },
    };
  }
  throw new KernelError(
    "DAEMON_RUNNING",
    "The daemon lock file keeps changing; another daemon is starting",
  );
}
