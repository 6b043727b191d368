/**
 * Key files: the 32-byte Ed25519 seed, raw, in a file only its owner can
 * access (mode 0600). The runtime key lives at {@linkcode RUNTIME_KEY_FILE}
 * under the Astrid home.
 *
 * Security model: a key file is refused, with a message saying how to fix it,
 * when it is accessible by group or others (`mode & 0o077`), is not a regular
 * file (symbolic links are refused so that nobody can swap in a key file from
 * elsewhere), or is not exactly 32 bytes. Saving writes a temporary file
 * created exclusively (`O_EXCL`, so a planted symlink is never followed) with
 * mode 0600, sets 0600 again regardless of the umask, then renames it over
 * the target, so a reader never sees a half-written key. An existing key is
 * only replaced when `overwrite` is set. Two processes creating the same key
 * file at the same instant can still race between the existence check and the
 * rename (the FileSystem port has no `link`); the daemon's single-instance
 * lock rules that out. On platforms without permission bits (`mode: null`)
 * the mode check is skipped.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { FileSystem, Random } from "../core/ports.ts";
import {
  generateKeyPair,
  type KeyPair,
  keyPairFromSeedAsync,
  SEED_LENGTH,
} from "./key_pair.ts";

/** Where the runtime key lives, relative to the Astrid home. */
export const RUNTIME_KEY_FILE = "keys/runtime.key";

/** The permission bits of a key file. */
export const KEY_FILE_MODE = 0o600;

/** Options of {@linkcode loadKeyFile}. */
export interface LoadKeyFileOptions {
  /** The file system port. */
  fs: FileSystem;
  /** Cancels the load. */
  signal?: AbortSignal;
}

/** Options of {@linkcode saveKeyFile}. */
export interface SaveKeyFileOptions extends LoadKeyFileOptions {
  /** Names the temporary file. */
  random: Random;
  /** Replace an existing key file. Default `false`: an existing file is `KEY_EXISTS`. */
  overwrite?: boolean;
}

/** Options of {@linkcode loadOrCreateKeyFile}. */
export interface LoadOrCreateKeyFileOptions extends LoadKeyFileOptions {
  /** Generates the key (and names the temporary file). */
  random: Random;
}

/** What {@linkcode loadOrCreateKeyFile} found or made. */
export interface LoadOrCreateKeyFileResult {
  /** The key pair. */
  keyPair: KeyPair;
  /** `true` when the file did not exist and a new key was generated and saved. */
  created: boolean;
}

/**
 * Loads a key pair from a key file.
 *
 * @param path The key file.
 * @param options The file system port and cancellation.
 * @returns The key pair whose seed the file holds.
 * @throws {KernelError} `KEY_NOT_FOUND` when the file does not exist;
 *   `KEY_PERMISSIONS_TOO_OPEN` when group or others have any access;
 *   `KEY_INVALID` when it is not a regular file or not 32 bytes;
 *   `ABORTED`; `HOST_IO` / `HOST_PERMISSION_DENIED` from the port.
 *
 * @example Refuse a missing key file
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadKeyFile } from "./key_file.ts";
 * import { KernelError } from "../core/errors.ts";
 * import type { FileSystem } from "../core/ports.ts";
 * const fs = { lstat: () => Promise.resolve(null) } as unknown as FileSystem;
 * await assert.rejects(
 *   () => loadKeyFile("/home/me/.astrid/keys/runtime.key", { fs }),
 *   (err) => KernelError.is(err, "KEY_NOT_FOUND"),
 * );
 * ```
 */
export async function loadKeyFile(
  path: string,
  options: LoadKeyFileOptions,
): Promise<KeyPair> {
  const { fs, signal } = options;
  const name = basename(path);
  throwIfAborted(signal, `loading key file '${name}'`);
  const info = await fs.lstat(path);
  if (info === null) throw notFound(name);
  if (!info.isFile || info.isSymlink) {
    throw new KernelError(
      "KEY_INVALID",
      `Cannot load key file '${name}' as it is not a regular file (symbolic links are refused)`,
      { data: { file: name } },
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = octal(info.mode);
    throw new KernelError(
      "KEY_PERMISSIONS_TOO_OPEN",
      `Cannot load key file '${name}' as group or others can access it (mode ${mode}); ` +
        `run 'chmod 600 ${path}' and retry`,
      { data: { file: name, mode } },
    );
  }
  if (info.size !== SEED_LENGTH) throw wrongLength(name, info.size);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path, signal === undefined ? {} : { signal });
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) throw notFound(name, err);
    throw err;
  }
  try {
    if (bytes.length !== SEED_LENGTH) throw wrongLength(name, bytes.length);
    // WebCrypto derives the public key: no pure-JS base-point tables at start.
    return await keyPairFromSeedAsync(bytes);
  } finally {
    bytes.fill(0);
  }
}

/**
 * Saves a key pair's seed to a key file with mode 0600, atomically.
 *
 * @param path The key file; its directory must exist.
 * @param keyPair The key pair to save.
 * @param options The ports, `overwrite` and cancellation.
 * @throws {KernelError} `KEY_EXISTS` when the file exists and `overwrite` is not set;
 *   `ABORTED`; `NOT_FOUND` / `HOST_IO` / `HOST_PERMISSION_DENIED` from the port.
 *
 * @example Save, then load the same key
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadKeyFile, saveKeyFile } from "./key_file.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * import type { FileSystem } from "../core/ports.ts";
 * // A two-file in-memory stand-in; production passes the real FileSystem port.
 * const files = new Map<string, Uint8Array>();
 * const fs = {
 *   lstat: (p: string) =>
 *     Promise.resolve(files.has(p)
 *       ? { isFile: true, isDirectory: false, isSymlink: false, size: files.get(p)!.length,
 *         mode: 0o600, mtimeMs: null }
 *       : null),
 *   writeFile: (p: string, d: Uint8Array) => Promise.resolve(void files.set(p, d.slice())),
 *   chmod: () => Promise.resolve(),
 *   rename: (a: string, b: string) => Promise.resolve(void files.set(b, files.get(a)!)),
 *   readFile: (p: string) => Promise.resolve(files.get(p)!.slice()),
 * } as unknown as FileSystem;
 * const random = { bytes: (n: number) => new Uint8Array(n) };
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(9));
 * await saveKeyFile("/k/runtime.key", pair, { fs, random });
 * const loaded = await loadKeyFile("/k/runtime.key", { fs });
 * assert.ok(loaded.keyId === pair.keyId);
 * ```
 */
export async function saveKeyFile(
  path: string,
  keyPair: KeyPair,
  options: SaveKeyFileOptions,
): Promise<void> {
  const { fs, random, signal, overwrite = false } = options;
  const name = basename(path);
  throwIfAborted(signal, `saving key file '${name}'`);
  if (!overwrite && (await fs.lstat(path)) !== null) throw exists(name);
  const temp = join(dirname(path), `.${name}.${random.bytes(8).toHex()}.tmp`);
  const seed = keyPair.exportSeed();
  let created = false;
  try {
    await fs.writeFile(temp, seed, {
      mode: KEY_FILE_MODE,
      createNew: true,
      ...(signal === undefined ? {} : { signal }),
    });
    created = true;
    await fs.chmod(temp, KEY_FILE_MODE);
    throwIfAborted(signal, `saving key file '${name}'`);
    // Re-check just before the rename to keep the race window small.
    if (!overwrite && (await fs.lstat(path)) !== null) throw exists(name);
    await fs.rename(temp, path);
  } catch (err) {
    if (created) await removeTemp(fs, temp, name, err);
    throw err;
  } finally {
    seed.fill(0);
  }
}

/** Removes our temporary file after a failed save, keeping the original error. */
async function removeTemp(
  fs: FileSystem,
  temp: string,
  name: string,
  original: unknown,
): Promise<void> {
  try {
    await fs.remove(temp);
  } catch (cleanup) {
    throw new KernelError(
      "HOST_IO",
      `Cannot save key file '${name}' and cannot remove its temporary file '${
        basename(temp)
      }'`,
      { cause: new AggregateError([original, cleanup]) },
    );
  }
}

/**
 * Loads a key file, or, when it does not exist, generates a key pair and saves
 * it (creating the directory with mode 0700).
 *
 * @param path The key file, e.g. `<home>/keys/runtime.key`.
 * @param options The ports and cancellation.
 * @returns The key pair and whether it was created.
 * @throws {KernelError} `KEY_PERMISSIONS_TOO_OPEN` / `KEY_INVALID` for an unusable
 *   existing file (never replaced); `ABORTED`; `HOST_IO` / `HOST_PERMISSION_DENIED`.
 *
 * @example Create once, then load
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOrCreateKeyFile } from "./key_file.ts";
 * import type { FileSystem } from "../core/ports.ts";
 * const files = new Map<string, Uint8Array>();
 * const fs = {
 *   lstat: (p: string) =>
 *     Promise.resolve(files.has(p)
 *       ? { isFile: true, isDirectory: false, isSymlink: false, size: files.get(p)!.length,
 *         mode: 0o600, mtimeMs: null }
 *       : null),
 *   mkdir: () => Promise.resolve(),
 *   writeFile: (p: string, d: Uint8Array) => Promise.resolve(void files.set(p, d.slice())),
 *   chmod: () => Promise.resolve(),
 *   rename: (a: string, b: string) => Promise.resolve(void files.set(b, files.get(a)!)),
 *   readFile: (p: string) => Promise.resolve(files.get(p)!.slice()),
 * } as unknown as FileSystem;
 * const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
 * const first = await loadOrCreateKeyFile("/h/keys/runtime.key", { fs, random });
 * const second = await loadOrCreateKeyFile("/h/keys/runtime.key", { fs, random });
 * assert.ok(first.created && !second.created);
 * assert.ok(first.keyPair.keyId === second.keyPair.keyId);
 * ```
 */
export async function loadOrCreateKeyFile(
  path: string,
  options: LoadOrCreateKeyFileOptions,
): Promise<LoadOrCreateKeyFileResult> {
  try {
    return { keyPair: await loadKeyFile(path, options), created: false };
  } catch (err) {
    if (!KernelError.is(err, "KEY_NOT_FOUND")) throw err;
  }
  await options.fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const keyPair = generateKeyPair(options.random);
  try {
    await saveKeyFile(path, keyPair, options);
  } catch (err) {
    // Another process created it between our load and save: use theirs.
    if (KernelError.is(err, "KEY_EXISTS")) {
      return { keyPair: await loadKeyFile(path, options), created: false };
    }
    throw err;
  }
  return { keyPair, created: true };
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

function notFound(name: string, cause?: unknown): KernelError {
  return new KernelError(
    "KEY_NOT_FOUND",
    `Cannot load key file '${name}' as it does not exist`,
    {
      data: { file: name },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

function exists(name: string): KernelError {
  return new KernelError(
    "KEY_EXISTS",
    `Cannot save key file '${name}' as it already exists; refusing to replace a key without overwrite`,
    { data: { file: name } },
  );
}

function wrongLength(name: string, got: number): KernelError {
  return new KernelError(
    "KEY_INVALID",
    `Cannot load key file '${name}' as it has the wrong length: expected ${SEED_LENGTH} bytes, got ${got}`,
    { data: { file: name, expected: SEED_LENGTH, got } },
  );
}
