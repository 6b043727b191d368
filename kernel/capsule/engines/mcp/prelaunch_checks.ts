/**
 * Checks run before an MCP server is launched under Deno permissions: granted
 * roots must hold no symlink that leaves them, and the server's static import
 * graph must not reach local files outside the capsule dir.
 *
 * Security model: Deno's `--allow-read=<root>` does NOT stop a symlink that
 * already sits inside `<root>` from being followed out of it, and static
 * imports (including `with { type: "text" }`) load local files without any
 * read permission. A scoped capsule cannot create symlinks itself, so checking
 * once before launch closes both holes. The walk is bounded (depth and
 * entries); a tree too large to check, a dangling symlink, or a symlink
 * resolving outside its root is refused (fail closed). Hard links to outside
 * files cannot be told apart from regular files; the kernel never places them.
 *
 * @module
 */
import * as path from "node:path";
import { isPathWithin } from "../../../core/path_within.ts";
import { fileURLToPath } from "node:url";
import { throwIfAborted } from "../../../core/abort.ts";
import { KernelError } from "../../../core/errors.ts";
import type { FileSystem, Spawner } from "../../../core/ports.ts";

/** Options of {@linkcode checkGrantedRootsForSymlinkEscape}. */
export interface SymlinkCheckOptions {
  /** Deepest directory level walked below a root; default 32. */
  readonly maxDepth?: number;
  /** Most entries examined over all roots; default 100,000. */
  readonly maxEntries?: number;
  /** Cancels the walk. */
  readonly signal?: AbortSignal;
}

function escape(message: string, data: Record<string, unknown>): KernelError {
  return new KernelError("VFS_PATH_ESCAPE", message, { data });
}

/**
 * Walks each granted root with `lstat` semantics and refuses a symlink that
 * resolves outside its root, or that resolves nowhere. Missing roots are
 * skipped (they hold nothing); a root that is itself a symlink is checked at
 * its real location.
 *
 * @param fs The file-system port.
 * @param roots Absolute granted roots (e.g. from `grantedRoots`).
 * @param options Bounds and cancellation.
 * @returns Resolves when every root is clean.
 * @throws {KernelError} `VFS_PATH_ESCAPE` for a symlink leaving its root or a
 *   dangling one; `INVALID_INPUT` for a relative root or a tree beyond the
 *   bounds; `ABORTED` when cancelled; `HOST_IO`/`HOST_PERMISSION_DENIED` from
 *   the port.
 *
 * @example A clean root passes
 * ```ts
 * import { checkGrantedRootsForSymlinkEscape } from "./prelaunch_checks.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * await Deno.symlink(`${dir}/a.txt`, `${dir}/link.txt`);
 * await checkGrantedRootsForSymlinkEscape(createDenoFs(), [dir]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkGrantedRootsForSymlinkEscape(
  fs: FileSystem,
  roots: readonly string[],
  options: SymlinkCheckOptions = {},
): Promise<void> {
  const maxDepth = options.maxDepth ?? 32;
  const maxEntries = options.maxEntries ?? 100_000;
  let seen = 0;
  for (const root of roots) {
    if (!path.posix.isAbsolute(root)) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot check granted root '${root}' as it is not absolute`,
      );
    }
    if ((await fs.lstat(root)) === null) continue; // silent-ok: a missing root holds no link
    const real = await fs.realPath(root);
    const stack: Array<{ dir: string; depth: number }> = [{
      dir: real,
      depth: 0,
    }];
    while (stack.length > 0) {
      const { dir, depth } = stack.pop()!;
      throwIfAborted(options.signal, `checking granted root '${root}'`);
      const info = await fs.stat(dir);
      if (info === null || !info.isDirectory) continue; // silent-ok: a file root has no entries
      for (const entry of await fs.readDir(dir)) {
        seen += 1;
        if (seen > maxEntries) {
          throw new KernelError(
            "INVALID_INPUT",
            `Cannot check granted root '${root}' as it holds more than ${maxEntries} entries`,
            { data: { root } },
          );
        }
        const p = path.posix.join(dir, entry.name);
        if (entry.isSymlink) {
          await checkLink(fs, p, real, root);
        } else if (entry.isDirectory) {
          if (depth + 1 > maxDepth) {
            throw new KernelError(
              "INVALID_INPUT",
              `Cannot check granted root '${root}' as it is deeper than ${maxDepth} levels`,
              { data: { root, path: p } },
            );
          }
          stack.push({ dir: p, depth: depth + 1 });
        }
      }
    }
  }
}

async function checkLink(
  fs: FileSystem,
  link: string,
  realRoot: string,
  root: string,
): Promise<void> {
  let target: string;
  try {
    target = await fs.realPath(link);
  } catch (cause) {
    throw new KernelError(
      "VFS_PATH_ESCAPE",
      `Cannot grant '${root}' as the symlink '${link}' does not resolve (dangling or a loop)`,
      { data: { root, link }, cause },
    );
  }
  if (!isPathWithin(realRoot, target)) {
    throw escape(
      `Cannot grant '${root}' as the symlink '${link}' leads outside it to '${target}'`,
      { root, link, target },
    );
  }
}

/** Options of {@linkcode checkImportGraph}. */
export interface ImportGraphOptions {
  /** The `deno` executable. */
  readonly denoPath: string;
  /** The module to inspect: a path inside the capsule dir or an `npm:` specifier. */
  readonly entry: string;
  /** The capsule's absolute directory. */
  readonly capsuleDir: string;
  /** The environment of `deno info` (e.g. `DENO_DIR`); nothing else is inherited. */
  readonly env?: Readonly<Record<string, string>>;
  /** A `deno.json` to use; otherwise `--no-config`. */
  readonly configPath?: string;
  /** Cancels the subprocess. */
  readonly signal?: AbortSignal;
}

/** Dependencies of {@linkcode checkImportGraph}. */
export interface ImportGraphDeps {
  /** Runs `deno info`. */
  readonly spawner: Spawner;
  /** Resolves symlinks of local modules and of the capsule dir. */
  readonly fs: FileSystem;
}

interface InfoJson {
  roots?: unknown;
  modules?: unknown;
  redirects?: unknown;
}

function collectSpecifiers(info: InfoJson): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
  };
  if (Array.isArray(info.roots)) info.roots.forEach(add);
  if (info.redirects && typeof info.redirects === "object") {
    for (const [k, v] of Object.entries(info.redirects)) {
      add(k);
      add(v);
    }
  }
  if (!Array.isArray(info.modules)) return out;
  for (const m of info.modules as Array<Record<string, unknown>>) {
    add(m?.specifier);
    const deps = m?.dependencies;
    if (!Array.isArray(deps)) continue;
    for (const d of deps as Array<Record<string, unknown>>) {
      for (const k of ["code", "type"]) {
        const r = d?.[k] as Record<string, unknown> | undefined;
        add(r?.specifier);
      }
    }
  }
  return out;
}

function moduleErrors(info: InfoJson): string[] {
  if (!Array.isArray(info.modules)) return [];
  return (info.modules as Array<Record<string, unknown>>)
    .map((m) => m?.error)
    .filter((e): e is string => typeof e === "string");
}

async function realOrSelf(fs: FileSystem, p: string): Promise<string> {
  return (await fs.lstat(p)) === null ? p : await fs.realPath(p);
}

/**
 * Runs `deno info --json <entry>` in the capsule dir and refuses when the
 * static module graph reaches a local `file://` module outside the capsule
 * dir (`npm:`, `jsr:`, `node:` and remote modules are fine).
 *
 * @param deps The spawner and file-system ports.
 * @param options The entry, capsule dir and `deno` path.
 * @returns Resolves when every local module lies inside the capsule dir.
 * @throws {KernelError} `VFS_PATH_ESCAPE` for a module outside the capsule
 *   dir; `CAPSULE_RESOLVE` when `deno info` fails, prints no graph, or a
 *   module of the graph does not load (the graph would be incomplete);
 *   `ABORTED` when cancelled; spawner errors (`NOT_FOUND`, `HOST_IO`).
 *
 * @example An import inside the capsule dir passes
 * ```ts
 * import { checkImportGraph } from "./prelaunch_checks.ts";
 * import { createDenoFs } from "../../../host/deno_fs.ts";
 * import { createDenoSpawner } from "../../../host/deno_spawner.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.ts`, 'import "./b.ts";\n');
 * await Deno.writeTextFile(`${dir}/b.ts`, "export {};\n");
 * await checkImportGraph(
 *   { spawner: createDenoSpawner(), fs: createDenoFs() },
 *   { denoPath: Deno.execPath(), entry: `${dir}/a.ts`, capsuleDir: dir,
 *     env: { DENO_DIR: `${dir}/.cache` } },
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkImportGraph(
  deps: ImportGraphDeps,
  options: ImportGraphOptions,
): Promise<void> {
  const args = ["info", "--json"];
  args.push(
    options.configPath ? `--config=${options.configPath}` : "--no-config",
  );
  args.push(options.entry);
  const out = await deps.spawner.output(options.denoPath, {
    args,
    cwd: options.capsuleDir,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...(options.env ?? {}) },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = new TextDecoder().decode(out.stdout);
  let info: InfoJson;
  try {
    info = JSON.parse(text) as InfoJson;
  } catch (cause) {
    throw new KernelError(
      "CAPSULE_RESOLVE",
      `Cannot inspect the import graph of '${options.entry}' as 'deno info' failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).slice(0, 500)
      }`,
      { cause },
    );
  }
  if (!out.success || info === null || typeof info !== "object") {
    throw new KernelError(
      "CAPSULE_RESOLVE",
      `Cannot inspect the import graph of '${options.entry}' as 'deno info' exited with ${out.code}`,
    );
  }
  const broken = moduleErrors(info);
  if (broken.length > 0) {
    throw new KernelError(
      "CAPSULE_RESOLVE",
      `Cannot inspect the import graph of '${options.entry}' as it does not load: ${
        broken.slice(0, 3).join("; ")
      }`,
      { data: { entry: options.entry } },
    );
  }
  const capDir = path.posix.normalize(options.capsuleDir);
  const capReal = await realOrSelf(deps.fs, capDir);
  for (const spec of new Set(collectSpecifiers(info))) {
    if (!spec.startsWith("file:")) continue;
    const file = fileURLToPath(spec);
    const real = await realOrSelf(deps.fs, file);
    if (!isPathWithin(capReal, real) && !isPathWithin(capDir, real)) {
      throw escape(
        `Cannot launch '${options.entry}' as it statically imports '${file}', outside the capsule dir`,
        { entry: options.entry, module: file },
      );
    }
  }
}
