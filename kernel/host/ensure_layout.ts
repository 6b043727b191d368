/**
 * Creates the directory layout of an Astrid home (reference §9.3).
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import { DEFAULT_PRINCIPAL, type PrincipalId } from "../core/ids.ts";
import type { FileSystem } from "../core/ports.ts";
import type { AstridHome } from "./astrid_home.ts";

/** The layout version this code creates and understands. */
export const LAYOUT_VERSION = "1";

/** Mode of every layout directory. */
const DIR_MODE = 0o700;

/** Options of {@linkcode ensureLayout}. */
export interface EnsureLayoutOptions {
  /** Whose home to create. Default `default`. */
  principal?: PrincipalId;
  /** Cancels between steps. */
  signal?: AbortSignal;
}

/** What {@linkcode ensureLayout} did. */
export interface LayoutReport {
  /** Directories it created, in creation order. */
  readonly created: readonly string[];
}

/**
 * Makes sure every directory of the layout exists, and writes
 * `etc/layout-version` when it is missing.
 *
 * Security model: new directories get mode `0700` exactly (set with `chmod`
 * after `mkdir`, so the umask cannot widen or narrow it); existing ones keep
 * their mode, except `run/`, which is forced back to `0700` on every call. The
 * root and every layout directory must be real directories: a symbolic link
 * or a file in their place is refused with `HOME_INVALID` before anything is
 * changed through it, so a planted link cannot redirect `chmod` or writes
 * elsewhere. `etc/layout-version` is created with `createNew` (no following a
 * link planted after the check) and mode `0600`.
 *
 * @param fs The file system port.
 * @param home The paths, from {@linkcode astridHomePaths}.
 * @param options Principal and cancellation.
 * @returns Which directories were created.
 * @throws {KernelError} `HOME_INVALID` for a symlink or non-directory in the
 * layout, or an unsupported `etc/layout-version`; `ABORTED`; `HOST_IO`,
 * `HOST_PERMISSION_DENIED` from the file system.
 *
 * @example Create a fresh home
 * ```ts
 * import { astridHomePaths } from "./astrid_home.ts";
 * import { createDenoFs } from "./deno_fs.ts";
 * import { ensureLayout } from "./ensure_layout.ts";
 * const tmp = await Deno.makeTempDir();
 * const home = astridHomePaths(`${tmp}/.astrid`);
 * const report = await ensureLayout(createDenoFs(), home);
 * console.assert(report.created.includes(home.run));
 * console.assert(((await Deno.stat(home.run)).mode! & 0o777) === 0o700);
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export async function ensureLayout(
  fs: FileSystem,
  home: AstridHome,
  options: EnsureLayoutOptions = {},
): Promise<LayoutReport> {
  const { signal } = options;
  const p = home.home(options.principal ?? DEFAULT_PRINCIPAL);
  const created: string[] = [];
  const dirs = [
    home.root,
    home.etc,
    home.var,
    home.run,
    home.log,
    home.keys,
    home.bin,
    home.lib,
    home.wit,
    home.homes,
    p.root,
    p.local,
    p.capsules,
    p.kv,
    p.log,
    p.audit,
    p.tokens,
    p.tmp,
    p.config,
    p.env,
    p.wit,
  ];
  for (const [i, dir] of dirs.entries()) {
    throwIfAborted(signal, "creating the Astrid layout");
    if (await ensureDir(fs, dir, i === 0)) created.push(dir);
  }
  throwIfAborted(signal, "creating the Astrid layout");
  await fs.chmod(home.run, DIR_MODE);
  await ensureLayoutVersion(fs, home.layoutVersion);
  return { created };
}

/** Returns `true` when it created `dir`. */
async function ensureDir(
  fs: FileSystem,
  dir: string,
  isRoot: boolean,
): Promise<boolean> {
  const info = await fs.lstat(dir);
  if (info !== null) {
    assertRealDir(dir, info);
    return false;
  }
  try {
    await fs.mkdir(dir, { recursive: isRoot, mode: DIR_MODE });
  } catch (err) {
    // Another process may have created it since the lstat: accept a real directory.
    const now = await fs.lstat(dir);
    if (now === null) throw err;
    assertRealDir(dir, now);
    return false;
  }
  await fs.chmod(dir, DIR_MODE);
  return true;
}

function assertRealDir(
  dir: string,
  info: { isSymlink: boolean; isDirectory: boolean },
): void {
  if (info.isSymlink) {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use '${dir}' in the Astrid home as it is a symbolic link`,
    );
  }
  if (!info.isDirectory) {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use '${dir}' in the Astrid home as it is not a directory`,
    );
  }
}

async function ensureLayoutVersion(
  fs: FileSystem,
  path: string,
): Promise<void> {
  let info = await fs.lstat(path);
  if (info === null) {
    try {
      await fs.writeFile(path, LAYOUT_VERSION, {
        createNew: true,
        mode: 0o600,
      });
      return;
    } catch (err) {
      // Another process may have written it since the lstat: check what is there now.
      info = await fs.lstat(path);
      if (info === null) throw err;
    }
  }
  if (info.isSymlink || !info.isFile) {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use '${path}' as it is not a regular file`,
    );
  }
  const found = (await fs.readTextFile(path)).trim();
  if (found !== LAYOUT_VERSION) {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use the Astrid home as its layout version is ${
        JSON.stringify(found.slice(0, 20))
      }, ` +
        `but this build supports only ${LAYOUT_VERSION}`,
      { data: { found: found.slice(0, 20), supported: LAYOUT_VERSION } },
    );
  }
}
