/**
 * Builds the artifact of a `static` capsule from its manifest tables; every
 * file is read through the integrity check of `meta.json`.
 *
 * @module
 */
import type { FileSystem } from "../../core/ports.ts";
import { type CapsuleDir, readArtifact } from "../manifest/load_capsule_dir.ts";

/**
 * Reads context files, skills and command files and encodes the static bundle.
 *
 * @param fs The file system port.
 * @param dir The validated capsule directory.
 * @returns The bundle bytes for the static engine.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when a file is unpinned or tampered with.
 */
export async function staticBundle(
  fs: FileSystem,
  dir: CapsuleDir,
): Promise<Uint8Array> {
  const m = dir.manifest;
  const text = async (file: string) =>
    new TextDecoder().decode(
      await readArtifact(fs, { dir: dir.dir, meta: dir.meta, file }),
    );
  const bundle = {
    version: 1,
    context_files: await Promise.all(
      m.context_files.map(async (c) => ({
        name: c.name,
        content: await text(c.file),
      })),
    ),
    skills: await Promise.all(m.skills.map(async (s) => ({
      name: s.name,
      ...(s.description === undefined ? {} : { description: s.description }),
      content: await text(s.file),
    }))),
    commands: await Promise.all(m.commands.map(async (c) => ({
      name: c.name,
      ...(c.description === undefined ? {} : { description: c.description }),
      ...(c.file === undefined ? {} : { content: await text(c.file) }),
    }))),
  };
  return new TextEncoder().encode(JSON.stringify(bundle));
}
