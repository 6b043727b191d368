/**
 * `astrid capsule build`: compiles a capsule's source into its component
 * file — a TypeScript entry bundled with `deno bundle` for a `js` component,
 * an AssemblyScript entry compiled with `asc` for a `wasm` component —,
 * validates the manifest, and writes `capsule.lock.json`: the BLAKE3 of
 * `Capsule.toml`, of every source file and of the built artifact.
 * `astrid capsule install` checks the directory against that lock before it
 * installs, so what is installed is exactly what was built (a file edited
 * after the build is named and refused).
 *
 * @module
 */
import { installWithHook, runLifecycleHook } from "./lifecycle_hook.ts";
import type { ElicitHandler } from "../abi/ports.ts";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { FileSystem, Spawner } from "../core/ports.ts";
import { blake3Hex } from "../crypto/blake3.ts";
import { parseManifest } from "../capsule/manifest/parse_manifest.ts";
import { manifestError } from "../capsule/manifest/mod.ts";
import type { CapsuleManifest } from "../capsule/manifest/manifest_types.ts";
import { buildJsCapsule } from "../capsule/engines/js/build.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { createDenoEnv } from "../host/deno_env.ts";
import { type DenoToolchain, denoToolchain } from "../host/deno_toolchain.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";
import { installCapsule } from "./install.ts";

/** The build lock's file name, next to `Capsule.toml`. */
export const BUILD_LOCK = "capsule.lock.json";

/** Directories never part of a capsule's sources (anywhere in the tree). */
const SKIP_DIRS = new Set([".git", "node_modules", "target", ".astrid"]);
/** Files never part of a capsule's sources. */
const SKIP_FILE = (name: string) =>
  name === BUILD_LOCK || name === "deno.lock" || name === ".DS_Store" ||
  /_test\.tsx?$/.test(name);
const MAX_FILES = 2_000;

/** The content of `capsule.lock.json`. */
export interface CapsuleBuildLock {
  /** Always `1`. */
  readonly schema: 1;
  /** `[package].name`. */
  readonly capsule: string;
  /** `[package].version`. */
  readonly version: string;
  /** `js` or `wasm`. */
  readonly engine: "js" | "wasm";
  /** The compiled source entry (relative). */
  readonly source: string;
  /** The built component file (relative). */
  readonly artifact: string;
  /** Relative path ⇒ `blake3:<hex>`: `Capsule.toml`, sources, the artifact. */
  readonly files: Readonly<Record<string, string>>;
}

/** Options of {@linkcode buildCapsuleDir}. */
export interface BuildCapsuleOptions {
  /** The capsule directory (holds `Capsule.toml`). */
  readonly dir: string;
  /** Called with a line of progress before each long step. */
  readonly onProgress?: (message: string) => void;
  /**
   * An explicit `deno.json` for bundling (default: the one Deno finds from
   * the capsule directory up) — it must resolve `@astrid/sdk`.
   */
  readonly config?: string;
  /** Cancels the build. */
  readonly signal?: AbortSignal;
}

/** A finished build. */
export interface BuildCapsuleResult {
  /** The validated manifest. */
  readonly manifest: CapsuleManifest;
  /** Absolute path of the built component file. */
  readonly artifact: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** The lock written. */
  readonly lock: CapsuleBuildLock;
}

interface Deps {
  readonly fs: FileSystem;
  readonly spawner: Spawner;
  readonly toolchain: DenoToolchain;
}

function hostDeps(): Deps {
  return {
    fs: createDenoFs(),
    spawner: createDenoSpawner(),
    toolchain: denoToolchain(createDenoEnv()),
  };
}

/**
 * Reads and validates `<dir>/Capsule.toml`.
 *
 * @param fs File reader.
 * @param dir The capsule directory.
 * @returns The manifest and its text.
 * @throws {KernelError} `NOT_FOUND` without a `Capsule.toml`,
 *   `MANIFEST_INVALID` with every issue.
 */
export async function readCapsuleManifest(
  fs: Pick<FileSystem, "readTextFile" | "stat">,
  dir: string,
): Promise<{ manifest: CapsuleManifest; text: string }> {
  const file = path.join(dir, "Capsule.toml");
  if ((await fs.stat(file)) === null) {
    throw new KernelError(
      "NOT_FOUND",
      `No Capsule.toml in '${dir}' (is this a capsule directory? 'astrid capsule new <name>' creates one)`,
    );
  }
  const text = await fs.readTextFile(file);
  const parsed = parseManifest(text, { file, kernelVersion: VERSION });
  if (!parsed.ok) throw manifestError(parsed.issues);
  return { manifest: parsed.value, text };
}

/**
 * Lists a capsule's files, sorted, relative with `/`: everything under `dir`
 * except `.git`, `node_modules`, `target`, `.astrid` (anywhere), a top-level
 * `dist`, `capsule.lock.json`, `deno.lock`, tests (`*_test.ts`) and the names
 * in `exclude`. A symbolic link is refused (a lock must pin what it names).
 *
 * @param fs Directory reader.
 * @param dir The capsule directory.
 * @param exclude More relative paths to leave out (e.g. a built artifact).
 * @returns The relative paths.
 * @throws {KernelError} `CAPSULE_INTEGRITY` on a symlink or too many files.
 */
export async function capsuleFiles(
  fs: Pick<FileSystem, "readDir">,
  dir: string,
  exclude: readonly string[] = [],
): Promise<string[]> {
  const skip = new Set(exclude);
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readDir(rel === "" ? dir : path.join(dir, rel));
    for (const e of entries) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (
        SKIP_DIRS.has(e.name) || (rel === "" && e.name === "dist") ||
        (!e.isDirectory && (SKIP_FILE(e.name) || skip.has(r)))
      ) {
        continue;
      }
      if (e.isSymlink) {
        throw new KernelError(
          "CAPSULE_INTEGRITY",
          `Cannot pin '${r}' in '${dir}': it is a symbolic link (copy the file in instead)`,
          { data: { file: r } },
        );
      }
      if (e.isDirectory) {
        await walk(r);
      } else if (e.isFile) {
        out.push(r);
        if (out.length > MAX_FILES) {
          throw new KernelError(
            "CAPSULE_INTEGRITY",
            `Capsule '${dir}' has more than ${MAX_FILES} files`,
          );
        }
      }
    }
  };
  await walk("");
  return out.sort();
}

/**
 * Hashes files of a directory.
 *
 * @param fs File reader.
 * @param dir The base directory.
 * @param files Relative paths.
 * @returns Relative path ⇒ `blake3:<hex>`, in the order given.
 */
export async function hashFiles(
  fs: Pick<FileSystem, "readFile">,
  dir: string,
  files: readonly string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of files) {
    out[f] = `blake3:${blake3Hex(await fs.readFile(path.join(dir, f)))}`;
  }
  return out;
}

/**
 * The source entry a build compiles: `[[component]].source`, else `main.ts`
 * for `js` and `index.ts` for `wasm`.
 *
 * @param manifest The manifest.
 * @returns The relative entry, or `null` without a component.
 */
export function componentSource(manifest: CapsuleManifest): string | null {
  const c = manifest.component;
  if (c === null) return null;
  return c.source ?? (c.type === "js" ? "main.ts" : "index.ts");
}

/**
 * Builds a capsule directory in place and writes its `capsule.lock.json`.
 *
 * @param options The directory, a progress callback, cancellation.
 * @param deps Host adapters (default: the real ones).
 * @returns The manifest, the artifact, the lock.
 * @throws {KernelError} `NOT_FOUND` (no `Capsule.toml`, no source entry, no
 *   compiler), `MANIFEST_INVALID`, `INVALID_INPUT` (no `[[component]]`),
 *   `CAPSULE_FAILED` (the compiler failed; its diagnostics end the message),
 *   `TOOL_DOWNLOAD`, `CAPSULE_INTEGRITY` (a symlink among the files).
 */
export async function buildCapsuleDir(
  options: BuildCapsuleOptions,
  deps: Deps = hostDeps(),
): Promise<BuildCapsuleResult> {
  const { fs } = deps;
  const dir = path.resolve(options.dir);
  const progress = options.onProgress ?? (() => {});
  const { manifest } = await readCapsuleManifest(fs, dir);
  const component = manifest.component;
  const source = componentSource(manifest);
  if (component === null || source === null) {
    throw new KernelError(
      "INVALID_INPUT",
      `Capsule '${manifest.package.name}' has no [[component]] to build (add one with type = "js" and file = "<name>.js")`,
    );
  }
  const entry = path.join(dir, source);
  if ((await fs.stat(entry)) === null) {
    throw new KernelError(
      "NOT_FOUND",
      `Cannot build '${manifest.package.name}': its source '${source}' does not exist (set [[component]].source in Capsule.toml)`,
      { data: { file: source } },
    );
  }
  const outFile = path.join(dir, component.file);
  if (component.type === "js") {
    progress(`bundling ${source} → ${component.file} (deno bundle)`);
    await buildJsCapsule({
      spawner: deps.spawner,
      fs,
      toolchain: deps.toolchain,
    }, {
      entry,
      outFile,
      cwd: dir,
      ...(options.config ? { config: options.config } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } else {
    await compileAssemblyScript(deps, {
      dir,
      source,
      outFile,
      progress,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  progress(`hashing files (BLAKE3) → ${BUILD_LOCK}`);
  const sources = await capsuleFiles(fs, dir, [component.file]);
  const files = await hashFiles(fs, dir, [...sources, component.file]);
  const lock: CapsuleBuildLock = {
    schema: 1,
    capsule: manifest.package.name,
    version: manifest.package.version,
    engine: component.type,
    source,
    artifact: component.file,
    files,
  };
  await fs.writeFile(
    path.join(dir, BUILD_LOCK),
    new TextEncoder().encode(JSON.stringify(lock, null, 2) + "\n"),
    { mode: 0o644 },
  );
  const info = await fs.stat(outFile);
  return { manifest, artifact: outFile, bytes: info?.size ?? 0, lock };
}

/**
 * Checks a built capsule directory against its `capsule.lock.json`: the lock
 * names this capsule and version, every pinned file has its hash, and no
 * source file was added since the build.
 *
 * @param dir The capsule directory.
 * @param fs File system (default: the real one).
 * @returns The lock and the manifest.
 * @throws {KernelError} `NOT_FOUND` without a lock (run `astrid capsule
 *   build`), `CAPSULE_INTEGRITY` naming the first file that differs,
 *   `MANIFEST_INVALID`.
 */
export async function verifyCapsuleBuild(
  dir: string,
  fs: FileSystem = createDenoFs(),
): Promise<{ lock: CapsuleBuildLock; manifest: CapsuleManifest }> {
  const abs = path.resolve(dir);
  const lockFile = path.join(abs, BUILD_LOCK);
  if ((await fs.stat(lockFile)) === null) {
    throw new KernelError(
      "NOT_FOUND",
      `'${dir}' has no ${BUILD_LOCK}: run 'astrid capsule build ${dir}' first`,
    );
  }
  const lock = parseBuildLock(await fs.readTextFile(lockFile), lockFile);
  const { manifest } = await readCapsuleManifest(fs, abs);
  const stale = (what: string, file: string) =>
    new KernelError(
      "CAPSULE_INTEGRITY",
      `${what} — refusing to install what was not built; run 'astrid capsule build ${dir}' again`,
      { data: { file } },
    );
  if (
    lock.capsule !== manifest.package.name ||
    lock.version !== manifest.package.version
  ) {
    throw stale(
      `${BUILD_LOCK} is for ${lock.capsule}@${lock.version}, Capsule.toml says ${manifest.package.name}@${manifest.package.version}`,
      "Capsule.toml",
    );
  }
  for (const [file, want] of Object.entries(lock.files)) {
    const full = path.join(abs, file);
    const info = await fs.lstat(full);
    if (info === null) throw stale(`'${file}' is missing`, file);
    const got = (await hashFiles(fs, abs, [file]))[file];
    if (got !== want) {
      throw stale(
        `'${file}' changed since the build (BLAKE3 ${got}, ${BUILD_LOCK} pins ${want})`,
        file,
      );
    }
  }
  const now = await capsuleFiles(fs, abs, [lock.artifact]);
  const added = now.find((f) => !Object.hasOwn(lock.files, f));
  if (added !== undefined) {
    throw stale(`'${added}' was added since the build`, added);
  }
  return { lock, manifest };
}

function parseBuildLock(text: string, file: string): CapsuleBuildLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot read '${file}': not JSON (${
        err instanceof Error ? err.message : String(err)
      })`,
    );
  }
  const l = raw as Partial<CapsuleBuildLock> | null;
  const ok = l !== null && typeof l === "object" && l.schema === 1 &&
    typeof l.capsule === "string" && typeof l.version === "string" &&
    typeof l.artifact === "string" && typeof l.source === "string" &&
    (l.engine === "js" || l.engine === "wasm") &&
    l.files !== null && typeof l.files === "object" &&
    Object.entries(l.files).every(([k, v]) =>
      typeof v === "string" && /^blake3:[0-9a-f]{64}$/.test(v) &&
      !path.isAbsolute(k) && !k.split("/").includes("..")
    );
  if (!ok) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot read '${file}': not a schema-1 capsule build lock`,
    );
  }
  return l as CapsuleBuildLock;
}

/** The AssemblyScript toolchain pinned for capsule builds (as in `scripts/build_wasm_fixtures.sh`). */
export const ASC_PACKAGES: readonly string[] = [
  "assemblyscript@0.28.20",
  "@extism/as-pdk@1.0.0",
];

async function compileAssemblyScript(
  deps: Deps,
  o: {
    dir: string;
    source: string;
    outFile: string;
    progress: (m: string) => void;
    signal?: AbortSignal;
  },
): Promise<void> {
  const { fs, spawner, toolchain } = deps;
  const env = { ...toolchain.toolEnv, NO_COLOR: "1" };
  const run = async (cmd: string, args: string[], what: string) => {
    let res;
    try {
      res = await spawner.output(cmd, {
        args,
        cwd: o.dir,
        env,
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if (KernelError.is(err) && err.code === "NOT_FOUND") {
        throw new KernelError(
          "NOT_FOUND",
          `Cannot ${what}: '${cmd}' is not installed (install Node.js and npm)`,
          { cause: err },
        );
      }
      throw err;
    }
    if (!res.success) {
      const text = new TextDecoder().decode(res.stderr).trim() ||
        new TextDecoder().decode(res.stdout).trim();
      throw new KernelError(
        "CAPSULE_FAILED",
        `Cannot ${what}: '${cmd}' exited with code ${res.code}: ${
          text.slice(-4_000)
        }`,
      );
    }
  };
  const asc = path.join(o.dir, "node_modules/assemblyscript/bin/asc.js");
  if ((await fs.stat(asc)) === null) {
    if ((await fs.stat(path.join(o.dir, "package.json"))) === null) {
      throw new KernelError(
        "NOT_FOUND",
        `Cannot compile '${o.source}': no AssemblyScript compiler in '${o.dir}'. Add a package.json with the toolchain: npm install --save-dev ${
          ASC_PACKAGES.join(" ")
        }`,
      );
    }
    const ci = (await fs.stat(path.join(o.dir, "package-lock.json"))) !== null;
    o.progress(
      `installing the AssemblyScript toolchain (npm ${
        ci ? "ci" : "install"
      }; from the npm registry, once)`,
    );
    await run(
      "npm",
      [ci ? "ci" : "install", "--no-audit", "--no-fund", "--loglevel=error"],
      "install the AssemblyScript toolchain",
    );
  }
  o.progress(`compiling ${o.source} → ${path.basename(o.outFile)} (asc)`);
  const tmp = `${o.outFile}.${crypto.randomUUID()}.tmp`;
  const args = [
    o.source,
    "--baseDir",
    ".",
    "--path",
    "node_modules",
    "--outFile",
    tmp,
    "--optimize",
  ];
  try {
    // node when present (as scripts/build_wasm_fixtures.sh does), else Deno.
    const node = await spawner.output("node", { args: ["--version"], env })
      .then((r) => r.success, () => false);
    if (node) {
      await run("node", [asc, ...args], `compile '${o.source}'`);
    } else {
      await run(toolchain.denoPath, [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        asc,
        ...args,
      ], `compile '${o.source}'`);
    }
    await fs.rename(tmp, o.outFile);
  } finally {
    await fs.remove(tmp).catch(() => {});
  }
}

/** Options of {@linkcode installBuiltCapsule}. */
export interface InstallBuiltOptions {
  /** The capsule directory. */
  readonly dir: string;
  /** Progress lines. */
  readonly onProgress?: (message: string) => void;
  /** Who approved (audited); default `operator`. */
  readonly approvedBy?: string;
  /**
   * The operator approved running this capsule's non-Deno MCP servers
   * without bubblewrap (audited; see `InstallOptions.unconfined`).
   */
  readonly unconfined?: boolean;
  /** An explicit `deno.json` for bundling (see {@linkcode BuildCapsuleOptions.config}). */
  readonly config?: string;
  /** The workspace the lifecycle hook's file calls see (default: the current directory). */
  readonly workspace?: string;
  /** Who answers the lifecycle hook's questions. */
  readonly elicit?: ElicitHandler;
  readonly signal?: AbortSignal;
}

/** What {@linkcode installBuiltCapsule} did. */
export interface InstallBuiltResult {
  readonly capsule: string;
  readonly version: string;
  /** Where it was installed. */
  readonly installedDir: string;
  /** How many files were installed. */
  readonly files: number;
  /** Whether it was built first (there was no `capsule.lock.json`). */
  readonly built: boolean;
  /** Whether its `install` / `upgrade` hook ran (`absent`: it has none). */
  readonly hook: "ran" | "absent";
}

/**
 * Installs a capsule directory as `astrid capsule install <dir>` does: a
 * capsule with a component is checked against its `capsule.lock.json` (and
 * built first when there is none); its pinned files are installed and the
 * install record signed. A capsule without a component installs its files.
 *
 * @param kernel The kernel (key, audit chain, home).
 * @param options The directory, progress, approver.
 * @returns What was installed.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming a file that differs from
 *   the lock; everything {@linkcode buildCapsuleDir} and `installCapsule` throw.
 */
export async function installBuiltCapsule(
  kernel: KernelHandle,
  options: InstallBuiltOptions,
): Promise<InstallBuiltResult> {
  const fs = kernel.ports.fs;
  const dir = path.resolve(options.dir);
  const progress = options.onProgress ?? (() => {});
  const { manifest } = await readCapsuleManifest(fs, dir);
  let files: string[];
  let built = false;
  if (manifest.component === null) {
    files = await capsuleFiles(fs, dir);
  } else {
    if ((await fs.stat(path.join(dir, BUILD_LOCK))) === null) {
      progress(`no ${BUILD_LOCK}: building first`);
      await buildCapsuleDir({
        dir,
        onProgress: progress,
        ...(options.config ? { config: options.config } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }, { ...hostDeps(), fs });
      built = true;
    }
    progress(`checking files against ${BUILD_LOCK}`);
    const { lock } = await verifyCapsuleBuild(dir, fs);
    files = Object.keys(lock.files);
  }
  const copy: Record<string, string> = {};
  for (const f of files) {
    if (f !== "Capsule.toml") copy[f] = path.join(dir, f);
  }
  const target = path.join(
    kernel.home.home(kernel.principal).capsules,
    manifest.package.name,
  );
  const result = await installWithHook(
    kernel,
    target,
    async () => {
      progress(`installing and signing the install record`);
      const r = await installCapsule(kernel, {
        source: dir,
        files: copy,
        approvedBy: options.approvedBy ?? "operator",
        ...(options.unconfined === true
          ? { unconfined: { approvedBy: options.approvedBy ?? "operator" } }
          : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { dir: r.dir, version: r.manifest.package.version };
    },
    (phase, from) => {
      progress(`running its ${phase} hook, if it has one`);
      return runLifecycleHook(kernel, {
        dir: target,
        phase,
        ...(from === undefined ? {} : { from }),
        workspace: options.workspace ?? dir,
        ...(options.elicit ? { elicit: options.elicit } : {}),
      });
    },
  );
  return {
    capsule: manifest.package.name,
    version: result.version,
    installedDir: result.dir,
    files: files.length,
    built,
    hook: result.hook,
  };
}

/**
 * The nearest `deno.json`/`deno.jsonc` at or above a directory: the config a
 * build of a copy elsewhere must use to resolve `@astrid/sdk` as the
 * original would.
 *
 * @param fs File system.
 * @param from The directory to start at.
 * @returns The config file, or `undefined`.
 */
export async function findDenoConfig(
  fs: Pick<FileSystem, "stat">,
  from: string,
): Promise<string | undefined> {
  let dir = path.resolve(from);
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const f = path.join(dir, name);
      if ((await fs.stat(f)) !== null) return f;
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Copies a capsule's files (as {@linkcode capsuleFiles} lists them, minus
 * `exclude`) into `to`.
 *
 * @param fs File system.
 * @param from The capsule directory.
 * @param to The target directory (created).
 * @param files The relative paths to copy.
 */
export async function copyCapsuleFiles(
  fs: FileSystem,
  from: string,
  to: string,
  files: readonly string[],
): Promise<void> {
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(to, f)), { recursive: true });
    await fs.writeFile(path.join(to, f), await fs.readFile(path.join(from, f)));
  }
}
