/**
 * Opens the Deno KV database behind the store. The only caller of
 * `Deno.openKv` in the project.
 *
 * Security model: the store holds capability tokens, budgets, deferred
 * approvals and the audit chain, so only the daemon may open it, and only its
 * user may read it. A file-backed database is guarded by an exclusive advisory
 * lock on `<path>.lock`, held until `close()`: a second opener — another
 * daemon, or a CLI that tried to bypass the daemon — fails at once with
 * `STORE_UNAVAILABLE` instead of racing the daemon's writes (SQLite alone
 * would let it in and fail only under contention with "database is locked").
 * The database file is created with mode 0600 and tightened to 0600 if it
 * already exists, as are leftover `-wal`/`-shm` files (SQLite gives new ones the
 * database file's mode).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { KvLike } from "../store/kv_like.ts";
import { hostError } from "./_host_error.ts";

/**
 * The path that opens a fresh, private, in-memory database (no lock, no file).
 *
 * @example Open a throw-away database
 * ```ts
 * import { MEMORY_KV, openKv } from "./open_kv.ts";
 * const kv = await openKv(MEMORY_KV);
 * kv.close();
 * ```
 */
export const MEMORY_KV = ":memory:";

/**
 * Opens a Deno KV database: a file (locked for this process until closed) or
 * {@linkcode MEMORY_KV}. The parent directory must exist.
 *
 * @param path The database file, or `":memory:"`.
 * @returns The open database; `close()` also releases the lock.
 * @throws {KernelError} `STORE_UNAVAILABLE` when another opener holds the
 * store, the directory is missing or the database cannot be opened;
 * `HOST_PERMISSION_DENIED` without read/write permission on the path.
 *
 * @example Open an in-memory database for a KvStore
 * ```ts
 * import { openKv } from "./open_kv.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * const store = new KvStore(await openKv(":memory:"));
 * await store.set(["demo", "k"], 1);
 * await store.close();
 * ```
 */
export async function openKv(path: string): Promise<KvLike> {
  if (path === MEMORY_KV) return await open(path);
  if (path.length === 0) {
    throw new TypeError("Cannot open a store at an empty path");
  }
  const lock = await acquireLock(path);
  try {
    await createPrivate(path);
    const kv = await open(path);
    return lockedKv(kv, lock);
  } catch (err) {
    lock.close();
    throw err;
  }
}

async function open(path: string): Promise<Deno.Kv> {
  try {
    return await Deno.openKv(path);
  } catch (err) {
    throw mapOpenError(err, path);
  }
}

async function acquireLock(path: string): Promise<Deno.FsFile> {
  const lockPath = `${path}.lock`;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(lockPath, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (err) {
    throw mapOpenError(err, path);
  }
  let locked: boolean;
  try {
    locked = await file.tryLock(true);
  } catch (err) {
    file.close();
    throw mapOpenError(err, path);
  }
  if (!locked) {
    file.close();
    throw new KernelError(
      "STORE_UNAVAILABLE",
      `Cannot open the store at ${path} as another process holds it; only the daemon may open it`,
      { data: { reason: "locked" } },
    );
  }
  return file;
}

async function createPrivate(path: string): Promise<void> {
  try {
    const file = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    file.close();
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw mapOpenError(err, path);
    }
  }
  if (Deno.build.os === "windows") return; // silent-ok: no POSIX modes on Windows
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      const info = await Deno.stat(file);
      if (info.mode !== null && (info.mode & 0o077) !== 0) {
        await Deno.chmod(file, 0o600);
      }
    } catch (err) {
      if (file !== path && err instanceof Deno.errors.NotFound) continue; // silent-ok: no journal yet
      throw mapOpenError(err, path);
    }
  }
}

function lockedKv(kv: Deno.Kv, lock: Deno.FsFile): KvLike {
  let closed = false;
  return {
    get: (key) => kv.get(key),
    getMany: (keys) => kv.getMany(keys),
    list: (selector, options) => kv.list(selector, options),
    atomic: () => kv.atomic(),
    close(): void {
      if (closed) return;
      closed = true;
      try {
        kv.close();
      } finally {
        lock.close();
      }
    },
  };
}

function mapOpenError(err: unknown, path: string): KernelError {
  if (err instanceof KernelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (
    err instanceof Deno.errors.NotCapable ||
    err instanceof Deno.errors.PermissionDenied
  ) {
    return hostError(err, `open the store at ${path}`);
  }
  if (/database is locked/i.test(message)) {
    return new KernelError(
      "STORE_UNAVAILABLE",
      `Cannot open the store at ${path} as another process holds it; only the daemon may open it`,
      { cause: err, data: { reason: "locked" } },
    );
  }
  if (
    err instanceof Deno.errors.NotFound ||
    /unable to open database file/i.test(message)
  ) {
    return new KernelError(
      "STORE_UNAVAILABLE",
      `Cannot open the store at ${path} as its directory does not exist or is not accessible`,
      { cause: err, data: { reason: "missing" } },
    );
  }
  return new KernelError(
    "STORE_UNAVAILABLE",
    `Cannot open the store at ${path}: ${message}`,
    { cause: err },
  );
}
