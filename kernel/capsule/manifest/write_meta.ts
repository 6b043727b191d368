/**
 * Writes `meta.json`, the signed install record of an installed capsule
 * directory: the BLAKE3 of every pinned file (MCP server scripts and their
 * local imports included), the grants, `unconfined` and the approval's audit
 * entry, signed with the runtime key (used by `capsule install` and tests).
 *
 * @module
 */
import * as path from "node:path";
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";
import type { Blake3Hasher } from "../../crypto/blake3.ts";
import type { KeyPair } from "../../crypto/key_pair.ts";
import {
  type CapsuleMeta,
  META_FILE,
  META_VERSION,
  parseMeta,
} from "./capsule_meta.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { MAX_MANIFEST_BYTES } from "./load_capsule_dir.ts";
import { readCapped } from "./_read_capped.ts";
import { hashPinnedFiles } from "./pinned_files.ts";
import { signInstallRecord } from "./install_record.ts";
import { grantsFromManifest } from "./grants_from_manifest.ts";

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
  /** The install approval: when, and its audit entry id. */
  readonly approval: CapsuleMeta["approval"];
  /** The runtime key that signs the record. */
  readonly signer: KeyPair;
  /** Hashes computed earlier (e.g. those the approval was given for); default: hash now. */
  readonly artifacts?: Readonly<Record<string, string>>;
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
 * Hashes the capsule's pinned files (see `pinnedFiles()`), signs the record
 * and writes `meta.json` atomically (temporary file, then rename).
 * `installed_at` and `source` of an earlier install of the same capsule are
 * kept.
 *
 * @param fs The file system port.
 * @param options Directory, manifest, time, source, approval, signing key, hasher, signal.
 * @returns The metadata written.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when a pinned file is
 *   missing, a symlink, not a regular file or too large; `HOST_IO` from the
 *   file system; `ABORTED` when the signal fires.
 *
 * @example Pin a capsule directory in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest, writeMeta } from "./mod.ts";
 * import { keyPairFromSeed } from "../../crypto/key_pair.ts";
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
 * const meta = await writeMeta(fs, {
 *   dir: "/c/a", manifest: parsed.value, now: 1,
 *   approval: { approved_at: 1, audit_entry: "e1" },
 *   signer: keyPairFromSeed(new Uint8Array(32).fill(1)),
 * });
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
  const artifacts = options.artifacts ??
    await hashPinnedFiles(fs, dir, { manifest, hasher, signal });
  throwIfAborted(signal, `pinning capsule '${capsule}'`);
  const target = path.join(dir, META_FILE);
  const previous = await previousInstall(fs, target, capsule);
  const source = options.source ?? previous?.source;
  const meta = signInstallRecord({
    meta_version: META_VERSION,
    capsule,
    version: manifest.package.version,
    installed_at: previous?.installed_at ?? options.now,
    updated_at: options.now,
    ...(source === undefined ? {} : { source }),
    artifacts: { ...artifacts },
    ...(options.unconfined ? { unconfined: options.unconfined } : {}),
    grants: recordedGrants(manifest),
    approval: options.approval,
  }, options.signer);
  const temp = path.join(dir, `.${META_FILE}.tmp`);
  await fs.writeFile(temp, `${JSON.stringify(meta, null, 2)}\n`, {
    mode: 0o644,
    ...(signal === undefined ? {} : { signal }),
  });
  await fs.rename(temp, target);
  return meta;
}

/**
 * The grants of a manifest as an install record holds them (plain JSON).
 *
 * @param manifest A validated manifest.
 * @returns A JSON copy of `grantsFromManifest(manifest)`.
 */
export function recordedGrants(
  manifest: CapsuleManifest,
): CapsuleMeta["grants"] {
  return JSON.parse(JSON.stringify(grantsFromManifest(manifest)));
}
