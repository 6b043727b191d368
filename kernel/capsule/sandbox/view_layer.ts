/**
 * The session overlay as an overlayfs lower layer: a spawned process must see
 * the session's view of the workspace (what capsules wrote and deleted in
 * this session), not the bare workspace. The kernel's overlay keeps its own
 * format, so before a spawn its dirty paths are materialised into a per-spawn
 * dir placed above the workspace: files copied, directories created,
 * deletions as whiteouts (character devices 0/0, which an unprivileged user
 * may create since Linux 5.8 — made by `mknod` in one `sh` call).
 *
 * Security model: only the session overlay's own paths are copied, through
 * its read API (which never follows a symlink out of the workspace); the
 * layer is read-only to the process (a lower layer).
 *
 * @module
 */
import type { FileSystem, Spawner } from "../../core/ports.ts";
import { KernelError } from "../../core/errors.ts";
import { SANDBOX_PATH } from "./sandbox_env.ts";

/** What the view layer reads of the session overlay (the kernel's `Overlay` fits). */
export interface OverlaySource {
  /** Every path the overlay holds (files, dirs, whiteouts), workspace-relative. */
  dirtyPaths(): string[];
  /** Whether the path exists in the session's view. */
  exists(path: string): Promise<boolean>;
  /** Type of a path in the session's view. */
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean }>;
  /** Bytes of a file in the session's view. */
  readFile(path: string): Promise<Uint8Array>;
  /** Names in a directory of the session's view. */
  readDir(path: string): Promise<readonly { name: string }[]>;
}

/** Where the layer is built and what it reads. */
export interface ViewLayerInput {
  /** The session overlay. */
  readonly overlay: OverlaySource;
  /** The canonical workspace (to find lower entries a new dir hides). */
  readonly workspace: string;
  /** An empty dir to fill. */
  readonly dir: string;
}

/**
 * Fills `input.dir` with the session overlay's changes. Returns `false` (and
 * writes nothing) when the overlay holds no path, so the caller can use the
 * workspace alone as the lower layer.
 *
 * @param deps File system and spawner (`/bin/sh` and `mknod`).
 * @param input The overlay, the workspace and the dir.
 * @returns Whether the layer holds anything.
 * @throws {KernelError} `HOST_IO` when a whiteout cannot be created; what the
 *   overlay's reads throw.
 *
 * @example An empty overlay needs no layer
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDenoFs } from "../../host/deno_fs.ts";
 * import { createDenoSpawner } from "../../host/deno_spawner.ts";
 * import { buildViewLayer } from "./view_layer.ts";
 * const empty = {
 *   dirtyPaths: () => [],
 *   exists: () => Promise.resolve(false),
 *   stat: () => Promise.reject(new Error("unused")),
 *   readFile: () => Promise.reject(new Error("unused")),
 *   readDir: () => Promise.resolve([]),
 * };
 * const built = await buildViewLayer(
 *   { fs: createDenoFs(), spawner: createDenoSpawner() },
 *   { overlay: empty, workspace: "/nonexistent", dir: "/nonexistent/view" },
 * );
 * assert.equal(built, false);
 * ```
 */
export async function buildViewLayer(
  deps: { readonly fs: FileSystem; readonly spawner: Spawner },
  input: ViewLayerInput,
): Promise<boolean> {
  const paths = input.overlay.dirtyPaths().sort();
  if (paths.length === 0) return false;
  const { fs } = deps;
  const whiteouts: string[] = [];
  const at = (p: string) => `${input.dir}/${p}`;
  const parent = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf("/")));
  const deleted = new Set<string>();
  const underDeleted = (p: string) => {
    for (let q = parent(p); q !== ""; q = parent(q)) {
      if (deleted.has(q)) return true;
    }
    return false;
  };
  for (const p of paths) {
    if (underDeleted(p)) continue; // silent-ok: hidden by its parent's whiteout
    if (parent(p) !== "") await fs.mkdir(at(parent(p)), { recursive: true });
    if (!(await input.overlay.exists(p))) {
      deleted.add(p);
      whiteouts.push(at(p));
      continue;
    }
    const info = await input.overlay.stat(p);
    if (info.isDirectory) {
      await fs.mkdir(at(p), { recursive: true });
      // A dir made where a deleted one was hides the old entries: whiteouts.
      const lower = await fs.lstat(`${input.workspace}/${p}`);
      if (lower?.isDirectory) {
        const seen = new Set(
          (await input.overlay.readDir(p)).map((e) => e.name),
        );
        for (const e of await fs.readDir(`${input.workspace}/${p}`)) {
          if (!seen.has(e.name)) whiteouts.push(at(`${p}/${e.name}`));
        }
      }
    } else if (info.isFile) {
      await fs.writeFile(at(p), await input.overlay.readFile(p));
    }
  }
  const unique = [...new Set(whiteouts)];
  if (unique.length > 0) await mknodWhiteouts(deps.spawner, unique);
  return true;
}

async function mknodWhiteouts(
  spawner: Spawner,
  paths: readonly string[],
): Promise<void> {
  const out = await spawner.output("/bin/sh", {
    args: [
      "-c",
      'for p do mknod "$p" c 0 0 || exit 1; done',
      "astrid-whiteout",
      ...paths,
    ],
    env: { PATH: SANDBOX_PATH },
  });
  if (!out.success) {
    throw new KernelError(
      "HOST_IO",
      `Cannot create the whiteouts of the session overlay's deletions: ${
        new TextDecoder().decode(out.stderr).slice(0, 500)
      }`,
    );
  }
}
