/**
 * Loads an installed capsule directory (`Capsule.toml` + `meta.json`): the
 * install record must be signed by the runtime key and match the manifest's
 * grants, and artifacts are read only when their BLAKE3 matches the pin.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";
import { type Blake3Hasher, blake3Hex } from "../../crypto/blake3.ts";
import {
  type CapsuleMeta,
  MANIFEST_FILE,
  META_FILE,
  parseMeta,
  requiredArtifacts,
} from "./capsule_meta.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { manifestError, parseManifest } from "./parse_manifest.ts";
import { RELATIVE_PATH } from "./_reader.ts";
import { readCapped, shortHash } from "./_read_capped.ts";
import { canonicalize } from "../../core/canonical_json.ts";
import { type InstallTrust, verifyInstallRecord } from "./install_record.ts";
import { checkPinnedFiles, runsCodeInPlace } from "./pinned_files.ts";
import { grantsFromManifest } from "./grants_from_manifest.ts";

/** `Capsule.toml` and `meta.json` larger than this are refused (1 MiB). */
export const MAX_MANIFEST_BYTES: number = 1024 * 1024;
/** Artifacts larger than this are refused (128 MiB). */
export const MAX_ARTIFACT_BYTES: number = 128 * 1024 * 1024;

/** What a loaded capsule's pins say (a signed record, or a workspace record the operator approved). */
export type PinnedRecord = Pick<
  CapsuleMeta,
  "capsule" | "version" | "artifacts" | "unconfined"
>;

/** A loaded, integrity-checked capsule directory. */
export interface CapsuleDir {
  /** The directory it was loaded from. */
  readonly dir: string;
  readonly manifest: CapsuleManifest;
  readonly meta: PinnedRecord;
  /**
   * `installed`: the principal's capsule dir, with a signed install record;
   * `workspace`: `<workspace>/.astrid/capsules`, approved by the operator.
   * Absent means `installed`.
   */
  readonly origin?: "installed" | "workspace";
}

/** An installed capsule directory with its full, signed record. */
export interface InstalledCapsuleDir extends CapsuleDir {
  readonly meta: CapsuleMeta;
}

/** Options of {@linkcode loadCapsuleDir}. */
export interface LoadCapsuleDirOptions {
  /** The running kernel's version (checked against `astrid-version`). */
  readonly kernelVersion: string;
  /** The key install records must be signed with (the runtime key). */
  readonly trust: InstallTrust;
  /** A fast BLAKE3 (`createBlake3Hasher()`); the pure-JS one otherwise. */
  readonly hasher?: Blake3Hasher;
  readonly signal?: AbortSignal;
}

/** Which artifact {@linkcode readArtifact} reads. */
export interface ArtifactRef {
  /** The capsule directory. */
  readonly dir: string;
  /** Its metadata (the pinned hashes). */
  readonly meta: Pick<CapsuleMeta, "capsule" | "artifacts">;
  /** Relative path inside the directory, as listed in `meta.artifacts`. */
  readonly file: string;
}

function integrity(
  capsule: string,
  why: string,
  data: Record<string, unknown>,
): KernelError {
  return new KernelError(
    "CAPSULE_INTEGRITY",
    `Cannot load capsule '${capsule}': ${why}; reinstall it`,
    { data: { capsule, ...data } },
  );
}

function hashHex(bytes: Uint8Array, hasher: Blake3Hasher | undefined): string {
  return hasher === undefined ? blake3Hex(bytes) : hasher.hashHex(bytes);
}

/**
 * Reads one artifact and returns its bytes only when its BLAKE3 equals the
 * hash pinned in `meta.json`.
 *
 * @param fs The file system port.
 * @param ref Directory, metadata and relative file.
 * @param options A fast hasher and a signal.
 * @returns The verified bytes.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when the file has no pinned hash,
 *   is missing, a symlink, not a regular file, too large, or its hash differs;
 *   `HOST_IO` from the file system.
 * @throws {TypeError} When `file` is not a relative path inside the capsule.
 *
 * @example Refuse an unpinned file
 * ```ts
 * import assert from "node:assert/strict";
 * import { readArtifact } from "./load_capsule_dir.ts";
 * import type { FileSystem } from "../../core/ports.ts";
 * const meta = { meta_version: 1, capsule: "a", version: "1.0.0", installed_at: 0, updated_at: 0, artifacts: {} } as const;
 * await assert.rejects(
 *   readArtifact({} as FileSystem, { dir: "/c/a", meta, file: "main.js" }),
 *   /artifact main.js has no hash in meta.json/,
 * );
 * ```
 */
export async function readArtifact(
  fs: FileSystem,
  ref: ArtifactRef,
  options: { hasher?: Blake3Hasher; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const { meta, file } = ref;
  if (!RELATIVE_PATH.test(file)) {
    throw new TypeError(
      `Artifact path '${file}' must be ${RELATIVE_PATH.what}`,
    );
  }
  const expected = Object.hasOwn(meta.artifacts, file)
    ? meta.artifacts[file]
    : undefined;
  if (expected === undefined) {
    throw integrity(meta.capsule, `artifact ${file} has no hash in meta.json`, {
      file,
    });
  }
  const read = await readCapped(fs, path.join(ref.dir, file), {
    max: MAX_ARTIFACT_BYTES,
    signal: options.signal,
  });
  if (read.kind === "missing") {
    throw integrity(meta.capsule, `artifact ${file} is missing`, { file });
  }
  if (read.kind === "refused") {
    throw integrity(meta.capsule, `artifact ${file} ${read.why}`, { file });
  }
  const actual = hashHex(read.bytes, options.hasher);
  if (actual !== expected) {
    throw integrity(
      meta.capsule,
      `artifact ${file} hash differs from meta.json: expected ${
        shortHash(expected)
      }, got ${shortHash(actual)}`,
      { file, expected, actual },
    );
  }
  return read.bytes;
}

/**
 * Reads and validates a capsule's `Capsule.toml` text (as read, unverified).
 *
 * @param bytes The file's bytes.
 * @param file Its path, for messages.
 * @param kernelVersion The running kernel's version.
 * @returns The validated manifest.
 * @throws {KernelError} `MANIFEST_INVALID` with `data.issues`.
 */
export function manifestFromBytes(
  bytes: Uint8Array,
  file: string,
  kernelVersion: string,
): CapsuleManifest {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot load capsule manifest ${file}: it is not valid UTF-8`,
      {
        data: { file, issues: [{ file, key: "", message: "not valid UTF-8" }] },
        cause: err,
      },
    );
  }
  const result = parseManifest(text, { file, kernelVersion });
  if (!result.ok) throw manifestError(result.issues);
  return result.value;
}

async function readMetaFile(
  fs: FileSystem,
  dir: string,
  signal: AbortSignal | undefined,
): Promise<CapsuleMeta> {
  const file = path.join(dir, META_FILE);
  const read = await readCapped(fs, file, { max: MAX_MANIFEST_BYTES, signal });
  const name = path.basename(dir);
  if (read.kind === "missing") {
    throw integrity(name, `${META_FILE} is missing, so nothing is pinned`, {
      file,
    });
  }
  if (read.kind === "refused") {
    throw integrity(name, `${META_FILE} ${read.why}`, { file });
  }
  return parseMeta(new TextDecoder().decode(read.bytes), file);
}

/**
 * Loads an installed capsule: reads `meta.json` and verifies its signature
 * with the runtime key, checks `Capsule.toml` against its pinned hash,
 * validates the manifest, and checks that the record names the same capsule
 * and version, holds the manifest's grants and pins every required artifact;
 * a capsule that runs code in place (MCP servers) has its whole directory
 * checked now. Other artifacts are read later with {@linkcode readArtifact}.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param options Kernel version, hasher and signal.
 * @returns The manifest and metadata.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the file when `meta.json`
 *   is missing, malformed, unsigned, signed by a foreign key or not matching
 *   its signature, `Capsule.toml` is missing or its hash differs, the record
 *   is for another capsule, version or grants, a required artifact has no
 *   hash, or a file of an MCP capsule changed, vanished or appeared;
 *   `MANIFEST_INVALID` (with `data.issues`) when the manifest is invalid;
 *   `HOST_IO` from the file system.
 *
 * @example Refuse a directory without meta.json
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCapsuleDir } from "./load_capsule_dir.ts";
 * import type { FileSystem } from "../../core/ports.ts";
 * const fs = { lstat: () => Promise.resolve(null) } as unknown as FileSystem;
 * await assert.rejects(
 *   loadCapsuleDir(fs, "/caps/hello", {
 *     kernelVersion: "0.1.0",
 *     trust: { keyId: "k", publicKey: new Uint8Array(32) },
 *   }),
 *   /Cannot load capsule 'hello': meta.json is missing/,
 * );
 * ```
 */
export async function loadCapsuleDir(
  fs: FileSystem,
  dir: string,
  options: LoadCapsuleDirOptions,
): Promise<InstalledCapsuleDir> {
  const { hasher, signal } = options;
  const meta = await readMetaFile(fs, dir, signal);
  await verifyInstallRecord(meta, options.trust, path.join(dir, META_FILE));
  const toml = await readArtifact(fs, { dir, meta, file: MANIFEST_FILE }, {
    ...(hasher === undefined ? {} : { hasher }),
    ...(signal === undefined ? {} : { signal }),
  });
  const manifest = manifestFromBytes(
    toml,
    path.join(dir, MANIFEST_FILE),
    options.kernelVersion,
  );
  const { name, version } = manifest.package;
  if (meta.capsule !== name || meta.version !== version) {
    throw integrity(
      name,
      `${META_FILE} was written for ${meta.capsule} ${meta.version}, not ${name} ${version}`,
      { meta_capsule: meta.capsule, meta_version: meta.version },
    );
  }
  const unpinned = requiredArtifacts(manifest).filter((f) =>
    !Object.hasOwn(meta.artifacts, f)
  );
  if (unpinned.length > 0) {
    throw integrity(
      name,
      `artifact ${unpinned.join(", ")} has no hash in ${META_FILE}`,
      { files: unpinned },
    );
  }
  if (
    canonicalize(meta.grants) !== canonicalize(grantsFromManifest(manifest))
  ) {
    throw integrity(
      name,
      `the grants in ${
        path.join(dir, META_FILE)
      } differ from those of its manifest`,
      { file: path.join(dir, META_FILE) },
    );
  }
  if (runsCodeInPlace(manifest)) {
    await checkPinnedFiles(fs, dir, {
      manifest,
      artifacts: meta.artifacts,
      hasher,
      signal,
    });
  }
  return { dir, manifest, meta, origin: "installed" };
}
