/**
 * Reads a capsule found in a workspace (`<workspace>/.astrid/capsules/<name>`)
 * into the record the operator is asked to approve.
 *
 * Security model: anything in a workspace may have been written by an agent,
 * a cloned repository or an MCP server, so nothing it says about itself is
 * trusted — a `meta.json` there is ignored (its pins, signature and
 * `unconfined` alike). The kernel hashes the files itself (the same pins an
 * install would take, MCP scripts and their local imports included), and
 * the record's hash covers the capsule, version, every hash, the grants and
 * `unconfined: false` (a workspace capsule never runs unconfined). What
 * loads afterwards is read against these hashes, so a file swapped between
 * approval and load is refused.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import type { FileSystem } from "../../core/ports.ts";
import { blake3Hex } from "../../crypto/blake3.ts";
import { MANIFEST_FILE } from "../manifest/capsule_meta.ts";
import {
  manifestFromBytes,
  MAX_MANIFEST_BYTES,
  type PinnedRecord,
} from "../manifest/load_capsule_dir.ts";
import type { CapsuleManifest } from "../manifest/manifest_types.ts";
import { hashPinnedFiles } from "../manifest/pinned_files.ts";
import { decisionHash } from "../manifest/install_record.ts";
import { recordedGrants } from "../manifest/write_meta.ts";

/** A workspace capsule, pinned by the kernel, awaiting the operator's approval. */
export interface WorkspaceCandidate {
  /** Its directory. */
  readonly dir: string;
  /** Its validated manifest. */
  readonly manifest: CapsuleManifest;
  /** The pins the kernel took. */
  readonly meta: PinnedRecord;
  /** The manifest's grants, as recorded. */
  readonly grants: Readonly<Record<string, unknown>>;
  /** BLAKE3 of the record (capsule, version, hashes, grants, `unconfined`). */
  readonly hash: string;
}

/**
 * Pins a workspace capsule directory and computes its record hash.
 *
 * @param fs The file system port.
 * @param dir The capsule directory.
 * @param options Kernel version and signal.
 * @returns The candidate.
 * @throws {KernelError} `MANIFEST_INVALID` for an invalid manifest;
 *   `CAPSULE_INTEGRITY` naming the file for a missing, oversized, symlinked
 *   or special file, or a manifest that changed while it was read.
 */
export async function readWorkspaceCapsule(
  fs: FileSystem,
  dir: string,
  options: { kernelVersion: string; signal?: AbortSignal },
): Promise<WorkspaceCandidate> {
  const file = path.join(dir, MANIFEST_FILE);
  const info = await fs.lstat(file);
  if (info === null || !info.isFile || info.size > MAX_MANIFEST_BYTES) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot read workspace capsule manifest ${file}: it is missing, not a regular file or over ${MAX_MANIFEST_BYTES} bytes`,
      { data: { file } },
    );
  }
  const bytes = await fs.readFile(
    file,
    options.signal ? { signal: options.signal } : {},
  );
  const manifest = manifestFromBytes(bytes, file, options.kernelVersion);
  const artifacts = await hashPinnedFiles(fs, dir, {
    manifest,
    signal: options.signal,
  });
  if (artifacts[MANIFEST_FILE] !== blake3Hex(bytes)) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot read workspace capsule manifest ${file}: it changed while it was read`,
      { data: { file } },
    );
  }
  const grants = recordedGrants(manifest);
  const { name, version } = manifest.package;
  return {
    dir,
    manifest,
    meta: { capsule: name, version, artifacts },
    grants,
    hash: decisionHash({
      capsule: name,
      version,
      artifacts,
      grants,
      unconfined: false,
    }),
  };
}
