/**
 * Finds installed capsules: every directory with a `Capsule.toml` directly
 * under the principal's capsule dir, then under the workspace's
 * `.astrid/capsules` (user-level copies come first, so they win a name clash).
 *
 * @module
 */
import * as path from "node:path";
import type { FileSystem } from "../../core/ports.ts";
import { MANIFEST_FILE } from "../manifest/capsule_meta.ts";

/**
 * Lists capsule directories in discovery order.
 *
 * @param fs The file system port.
 * @param roots Directories to scan, in priority order; missing ones are skipped.
 * @returns Absolute capsule directories.
 */
export async function discoverCapsuleDirs(
  fs: FileSystem,
  roots: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    const info = await fs.lstat(root);
    if (info === null || !info.isDirectory) continue;
    const entries = (await fs.readDir(root)).filter((e) =>
      e.isDirectory && !e.name.startsWith(".")
    );
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const dir = path.join(root, e.name);
      const manifest = await fs.lstat(path.join(dir, MANIFEST_FILE));
      if (manifest?.isFile) out.push(dir);
    }
  }
  return out;
}
