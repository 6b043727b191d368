/**
 * Opens the kernel's store as the config says: the embedded Deno KV file by
 * default, or PostgreSQL when `store.url` is a `postgres://` URL.
 *
 * Security model: `store.url` is `forbidden` to the workspace layer (a
 * workspace cannot point the kernel at another database) and never carries a
 * password (the schema refuses one). The password comes from the daemon's
 * environment (`ASTRID_STORE_PASSWORD`) or else from
 * `ASTRID_HOME/keys/store.password` (the keys directory is the daemon
 * user's alone); it is handed to the client and appears in no log or error.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Env, FileSystem } from "../core/ports.ts";
import { MEMORY_KV, openKv, openPg } from "../host/mod.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Store } from "../store/store.ts";

/** The environment variable that holds the PostgreSQL store's password. */
export const STORE_PASSWORD_ENV = "ASTRID_STORE_PASSWORD";

/** What {@linkcode openKernelStore} needs. */
export interface OpenKernelStoreOptions {
  /** The effective `store.url` (`""` = embedded Deno KV). */
  readonly url: string;
  /** Keep state in memory (throwaway kernels); wins over `url`. */
  readonly inMemory: boolean;
  /** The Deno KV file (`var/state.kv`). */
  readonly stateKv: string;
  /** The password file (`keys/store.password`). */
  readonly passwordFile: string;
  /** The daemon's environment. */
  readonly env: Env;
  /** The file system. */
  readonly fs: FileSystem;
}

/**
 * Opens the store the config names.
 *
 * @param options The URL, the paths and the ports.
 * @returns The open store; the caller closes it.
 * @throws {KernelError} `STORE_UNAVAILABLE` when the database cannot be
 * opened or reached; `CONFIG_INVALID` for a bad URL.
 */
export async function openKernelStore(
  options: OpenKernelStoreOptions,
): Promise<Store> {
  if (options.inMemory) return new KvStore(await openKv(MEMORY_KV));
  if (options.url === "") return new KvStore(await openKv(options.stateKv));
  const password = options.env.get(STORE_PASSWORD_ENV) ??
    await readPassword(options.fs, options.passwordFile);
  return new KvStore(
    await openPg({
      url: options.url,
      ...(password === undefined ? {} : { password }),
    }),
  );
}

async function readPassword(
  fs: FileSystem,
  path: string,
): Promise<string | undefined> {
  try {
    return (await fs.readTextFile(path)).replace(/\r?\n$/, "");
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return undefined;
    throw err;
  }
}
