/**
 * Writes `meta.json` for an installed capsule directory, pinning the BLAKE3
 * of every required artifact (used by `capsule install` and by tests).
 *
 * @module
 */
import * as path from "node:path";
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";
import { type Blake3Hasher, blake3Hex } from "../../crypto/blake3.ts";
import {
  type CapsuleMeta,
  META_FILE,
  META_VERSION,
  parseMeta,
  requiredArtifacts,
} from "./capsule_meta.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { MAX_ARTIFACT_BYTES, MAX_MANIFEST_BYTES } from "./load_capsule_dir.ts";
import { readCapped } from "./_read_capped.ts";

/** Options of {@linkcode writeMeta}. */
export interface WriteMetaOptions {
  /** The capsule directory (holding `Capsule.toml` and the artifacts). */
  readonly dir: string;
  /** The validated manifest of that directory. */
  readonly manifest: CapsuleManifest;
  /** Install time in ms (from the Clock port). */
  readonly now: number;
  /** Where it was installed from. */
  readonly source?: string;
  /** A fast BLAKE3; the pure-JS one otherwise. */
  readonly hasher?: Blake3Hasher;
  readonly signal?: AbortSignal;
  /** The operator's approval of running this capsule's non-Deno servers unconfined. */
  readonly unconfined?: CapsuleMeta["unconfined"];
}

async function previousInstall(
  fs: FileSystem,
  file: string,
  capsule: string,
): Promise<{ installed_at: number; source?: string } | null> {
  const read = await readCapped(fs, file, { max: MAX_MANIFEST_BYTES });
  if (read.kind !== "ok") return null;
  try {
    const old = parseMeta(new TextDecoder().decode(read.bytes), file);
    if (old.capsule !== capsule) return null;
    return {
      installed_at: old.installed_at,
      ...(old.source === undefined ? {} : { source: old.source }),
    };
  } catch (err) {
    // silent-ok: a broken previous meta.json is simply replaced.
    if (KernelError.is(err, "CAPSULE_INTEGRITY")) return null;
    throw err;
  }
}

/**
 * Hashes the manifest's required artifacts and writes `meta.json`
 * atomically (temporary file, then rename). `installed_at` and `source` of
 * an earlier install of the same capsule are kept.
 *
 * @param fs The file system port.
 * @param options Directory, manifest, time, source, hasher, signal.
 * @returns The metadata written.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when a required artifact is
 *   missing, a symlink, not a regular file or too large; `HOST_IO` from the
 *   file system; `ABORTED` when the signal fires.
 *
 * @example Pin a capsule directory in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest, writeMeta } from "./mod.ts";
 * import type { FileSystem } from "../../core/ports.ts";
 * const toml = '[package]\nname = "a"\nversion = "1.0.0"\n';
 * const files = new Map<string, Uint8Array>([["/c/a/Capsule.toml", new TextEncoder().encode(toml)]]);
 * const info = (p: string) => files.has(p)
 *   ? { isFile: true, isDirectory: false, isSymlink: false, size: files.get(p)!.length, mode: 0o644, mtimeMs: 0 }
 *   : null;
 * const fs = {
 *   lstat: (p: string) => Promise.resolve(info(p)),
 *   readFile: (p: string) => Promise.resolve(files.get(p)!),
 *   writeFile: (p: string, d: Uint8Array | string) => {
 *     files.set(p, typeof d === "string" ? new TextEncoder().encode(d) : d);
 *     return Promise.resolve();
 *   },
 *   rename: (a: string, b: string) => {
 *     files.set(b, files.get(a)!);
 *     files.delete(a);
 *     return Promise.resolve();
 *   },
 * } as unknown as FileSystem;
 * const parsed = parseManifest(toml, { file: "Capsule.toml", kernelVersion: "0.1.0" });
 * assert.ok(parsed.ok);
 * const meta = await writeMeta(fs, { dir: "/c/a", manifest: parsed.value, now: 1 });
 * assert.deepEqual(Object.keys(meta.artifacts), ["Capsule.toml"]);
 * assert.ok(files.has("/c/a/meta.json"));
 * ```
 */
export async function writeMeta(
  fs: FileSystem,
  options: WriteMetaOptions,
): Promise<CapsuleMeta> {
  const { dir, manifest, hasher, signal } = options;
  const capsule = manifest.package.name;
  const artifacts: Record<string, string> = {};
  for (const file of requiredArtifacts(manifest)) {
    throwIfAborted(signal, `pinning capsule '${capsule}'`);
    const read = await readCapped(fs, path.join(dir, file), {
      max: MAX_ARTIFACT_BYTES,
      signal,
    });
    if (read.kind !== "ok") {
      throw new KernelError(
        "CAPSULE_INTEGRITY",
        `Cannot pin capsule '${capsule}': artifact ${file} ${
          read.kind === "missing" ? "is missing" : read.why
        }`,
        { data: { capsule, file } },
      );
    }
    artifacts[file] = hasher === undefined
      ? blake3Hex(read.bytes)
      : hasher.hashHex(read.bytes);
  }
  const target = path.join(dir, META_FILE);
  const previous = await previousInstall(fs, target, capsule);
  const source = options.source ?? previous?.source;
  const meta: CapsuleMeta = {
    meta_version: META_VERSION,
    capsule,
    version: manifest.package.version,
    installed_at: previous?.installed_at ?? options.now,
    updated_at: options.now,
    ...(source === undefined ? {} : { source }),
    artifacts,
    ...(options.unconfined ? { unconfined: options.unconfined } : {}),
  };
  const temp = path.join(dir, `.${META_FILE}.tmp`);
  await fs.writeFile(temp, `${JSON.stringify(meta, null, 2)}\n`, {
    mode: 0o644,
    ...(signal === undefined ? {} : { signal }),
  });
  await fs.rename(temp, target);
  return meta;
}
