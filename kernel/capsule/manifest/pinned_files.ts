/**
 * Which files of a capsule directory are pinned, and checking a whole
 * directory against its pins.
 *
 * Security model: a capsule that runs code in place (`[[mcp_server]]`: a
 * Deno script and whatever it imports, a Python file, a binary) pins every
 * regular file of its directory — the server scripts and all their local
 * imports, static or dynamic (pre-launch checks already refuse local imports
 * outside the capsule dir). A symlink or special file anywhere in such a
 * directory is refused at install and at load, and so is a file that appears
 * after install: nothing unpinned can be imported. Other capsules pin exactly
 * {@linkcode requiredArtifacts}, since the kernel reads only those.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";
import { throwIfAborted } from "../../core/abort.ts";
import { type Blake3Hasher, blake3Hex } from "../../crypto/blake3.ts";
import { META_FILE, requiredArtifacts } from "./capsule_meta.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { readCapped, shortHash } from "./_read_capped.ts";

/** The most files a capsule directory that runs code in place may hold. */
export const MAX_PINNED_FILES = 4096;
/** Artifacts larger than this are refused (128 MiB). */
export const MAX_PINNED_BYTES: number = 128 * 1024 * 1024;

/** Files the kernel writes into a capsule dir itself (never pinned). */
const OWN_FILES = new Set([META_FILE, `.${META_FILE}.tmp`]);

function refuse(capsule: string, why: string, file: string): KernelError {
  return new KernelError(
    "CAPSULE_INTEGRITY",
    `Cannot pin or load capsule '${capsule}': ${why}`,
    { data: { capsule, file } },
  );
}

/**
 * Whether a capsule runs code from its directory in place (has MCP servers).
 *
 * @param manifest A validated manifest.
 * @returns `true` when every file of its directory must be pinned.
 */
export function runsCodeInPlace(manifest: CapsuleManifest): boolean {
  return manifest.mcp_servers.length > 0;
}

/**
 * Lists every regular file under `dir` (relative, sorted), except the
 * record itself.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param capsule Its name, for messages.
 * @returns Relative paths.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the file for a symlink or
 *   special file, or when there are more than {@linkcode MAX_PINNED_FILES}.
 */
export async function listCapsuleFiles(
  fs: FileSystem,
  dir: string,
  capsule: string,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readDir(path.join(dir, rel))) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (rel === "" && OWN_FILES.has(e.name)) continue;
      if (e.isSymlink) {
        throw refuse(capsule, `${child} is a symbolic link`, child);
      }
      if (e.isDirectory) await walk(child);
      else if (e.isFile) out.push(child);
      else throw refuse(capsule, `${child} is not a regular file`, child);
      if (out.length > MAX_PINNED_FILES) {
        throw refuse(
          capsule,
          `its directory holds more than ${MAX_PINNED_FILES} files`,
          child,
        );
      }
    }
  };
  await walk("");
  return out.sort();
}

/**
 * The files of a capsule that are pinned: {@linkcode requiredArtifacts},
 * plus every file of the directory when the capsule runs code in place.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param manifest Its validated manifest.
 * @returns Sorted relative paths.
 * @throws {KernelError} `CAPSULE_INTEGRITY` as {@linkcode listCapsuleFiles}.
 */
export async function pinnedFiles(
  fs: FileSystem,
  dir: string,
  manifest: CapsuleManifest,
): Promise<string[]> {
  const files = new Set(requiredArtifacts(manifest));
  if (runsCodeInPlace(manifest)) {
    for (const f of await listCapsuleFiles(fs, dir, manifest.package.name)) {
      files.add(f);
    }
  }
  return [...files].sort();
}

/**
 * Hashes the pinned files of a capsule directory.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param options Manifest, hasher and signal.
 * @returns Relative path ⇒ lower-case hex BLAKE3.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the file when one is
 *   missing, a symlink, not a regular file or too large; `ABORTED`.
 */
export async function hashPinnedFiles(
  fs: FileSystem,
  dir: string,
  options: {
    manifest: CapsuleManifest;
    hasher?: Blake3Hasher | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<Record<string, string>> {
  const capsule = options.manifest.package.name;
  const artifacts: Record<string, string> = {};
  for (const file of await pinnedFiles(fs, dir, options.manifest)) {
    throwIfAborted(options.signal, `pinning capsule '${capsule}'`);
    artifacts[file] = await hashPinned(fs, dir, file, capsule, options, "");
  }
  return artifacts;
}

/**
 * Checks a capsule directory against its pins: every pinned file has its
 * hash, and (for a capsule that runs code in place) no other file exists.
 * Run at load and before every (re)launch of an MCP server.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param options The manifest, the pins, hasher and signal.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the first file that is
 *   missing, changed, unpinned, a symlink or a special file.
 */
export async function checkPinnedFiles(
  fs: FileSystem,
  dir: string,
  options: {
    manifest: CapsuleManifest;
    artifacts: Readonly<Record<string, string>>;
    hasher?: Blake3Hasher | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<void> {
  const capsule = options.manifest.package.name;
  if (runsCodeInPlace(options.manifest)) {
    const extra = (await listCapsuleFiles(fs, dir, capsule)).find((f) =>
      !Object.hasOwn(options.artifacts, f)
    );
    if (extra !== undefined) {
      throw refuse(
        capsule,
        `file ${extra} appeared after install and is not in the install record; reinstall it`,
        extra,
      );
    }
  }
  for (const [file, expected] of Object.entries(options.artifacts)) {
    throwIfAborted(options.signal, `checking capsule '${capsule}'`);
    const actual = await hashPinned(
      fs,
      dir,
      file,
      capsule,
      options,
      "; reinstall it",
    );
    if (actual !== expected) {
      throw refuse(
        capsule,
        `artifact ${file} hash differs from the install record: expected ${
          shortHash(expected)
        }, got ${shortHash(actual)}; reinstall it`,
        file,
      );
    }
  }
}

/** Reads one pinned file (size-capped) and returns its BLAKE3; refuses a missing or unreadable one. */
async function hashPinned(
  fs: FileSystem,
  dir: string,
  file: string,
  capsule: string,
  options: {
    hasher?: Blake3Hasher | undefined;
    signal?: AbortSignal | undefined;
  },
  hint: string,
): Promise<string> {
  const read = await readCapped(fs, path.join(dir, file), {
    max: MAX_PINNED_BYTES,
    signal: options.signal,
  });
  if (read.kind !== "ok") {
    throw refuse(
      capsule,
      `artifact ${file} ${
        read.kind === "missing" ? "is missing" : read.why
      }${hint}`,
      file,
    );
  }
  return options.hasher === undefined
    ? blake3Hex(read.bytes)
    : options.hasher.hashHex(read.bytes);
}
