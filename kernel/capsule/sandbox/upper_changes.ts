/**
 * Reads what a sandboxed process changed: the upper dir of its overlayfs
 * mount, as a list of workspace-relative changes the kernel then applies to
 * the session overlay, each as a gated, audited write or delete.
 *
 * Security model: the upper dir was written by an untrusted process, so it
 * is walked with `lstat` and nothing in it is followed: regular files become
 * writes, whiteouts (character devices 0/0) become deletes, directories
 * become directories; symlinks and other special files are never imported
 * and are reported as skipped.
 *
 * @module
 */
import type { FileSystem } from "../../core/ports.ts";

/** One change found in the upper dir; `path` is workspace-relative. */
export type UpperChange =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "file"; readonly path: string; readonly size: number }
  | { readonly kind: "delete"; readonly path: string }
  | {
    readonly kind: "skipped";
    readonly path: string;
    readonly why: "symlink" | "special file";
  };

/**
 * Walks an overlayfs upper dir, parents before children, names sorted.
 *
 * @param fs The host file system (`lstat`, `readDir`).
 * @param upper The absolute upper dir.
 * @returns The changes; a file's bytes are at `<upper>/<path>`.
 * @throws {KernelError} `HOST_IO` when the dir cannot be read.
 *
 * @example A new file and a deletion
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDenoFs } from "../../host/deno_fs.ts";
 * import { readUpperChanges } from "./upper_changes.ts";
 * const up = await Deno.makeTempDir();
 * await Deno.mkdir(`${up}/d`);
 * await Deno.writeTextFile(`${up}/d/new.txt`, "x");
 * assert.deepEqual(await readUpperChanges(createDenoFs(), up), [
 *   { kind: "dir", path: "d" },
 *   { kind: "file", path: "d/new.txt", size: 1 },
 * ]);
 * await Deno.remove(up, { recursive: true });
 * ```
 */
export async function readUpperChanges(
  fs: FileSystem,
  upper: string,
): Promise<UpperChange[]> {
  const out: UpperChange[] = [];
  async function walk(rel: string): Promise<void> {
    const dir = rel === "" ? upper : `${upper}/${rel}`;
    const names = (await fs.readDir(dir)).map((e) => e.name).sort();
    for (const name of names) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const info = await fs.lstat(`${upper}/${path}`);
      if (info === null) continue; // silent-ok: gone since the listing
      if (info.isWhiteout === true) out.push({ kind: "delete", path });
      else if (info.isSymlink) {
        out.push({ kind: "skipped", path, why: "symlink" });
      } else if (info.isDirectory) {
        out.push({ kind: "dir", path });
        await walk(path);
      } else if (info.isFile) out.push({ kind: "file", path, size: info.size });
      else out.push({ kind: "skipped", path, why: "special file" });
    }
  }
  await walk("");
  return out;
}
