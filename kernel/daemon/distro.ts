/**
 * Distros (reference §2.9–§2.10, adapted): `Distro.toml` lists capsules by
 * their source directory next to it; `Distro.lock` pins the BLAKE3 of every
 * source file of each capsule (`Capsule.toml`, `main.ts`, everything else a
 * build reads). {@linkcode lockDistro} writes the lock;
 * {@linkcode verifyDistro} checks the sources against it, naming the first
 * file that differs; {@linkcode installDistro} verifies, then copies each
 * capsule into a staging dir, verifies the copy, builds it and installs it
 * with a signed record — so what runs is exactly what the lock pins.
 *
 * Adapted from 0.5: `source` is a directory relative to `Distro.toml` (no
 * GitHub fetching offline); no capsule needs `role = "uplink"` (the CLI is
 * the frontend, not a capsule); the lock pins sources (not built wasm
 * hashes) and has no timestamp, so re-locking unchanged sources is no diff.
 *
 * @module
 */
import * as path from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import { blake3Hex } from "../crypto/blake3.ts";
import {
  isExactVersion,
  satisfiesRange,
  toSemverRange,
} from "../capsule/manifest/semver_rules.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { makeTempDir } from "../host/temp_dir.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";
import {
  capsuleFiles,
  copyCapsuleFiles,
  findDenoConfig,
  hashFiles,
  installBuiltCapsule,
} from "./capsule_build.ts";

/** The lock's file name, next to `Distro.toml`. */
export const DISTRO_LOCK = "Distro.lock";

/** A `[variables]` entry. */
export interface DistroVariable {
  readonly secret: boolean;
  readonly description?: string;
  readonly default?: string;
}

/** A `[[capsule]]` entry. */
export interface DistroCapsule {
  /** The capsule's name (its `[package].name`). */
  readonly name: string;
  /** Its source directory, relative to `Distro.toml`. */
  readonly source: string;
  /** The version expected (checked against `Capsule.toml` at install). */
  readonly version: string;
  /** Capsules of one group are alternatives (e.g. `llm`). */
  readonly group?: string;
  /** A free-form role (`provider`, `orchestrator`, `tool`, …). */
  readonly role?: string;
  /** Config templates: key ⇒ text with `{{ variable }}` references. */
  readonly env: Readonly<Record<string, string>>;
}

/** A validated `Distro.toml`. */
export interface Distro {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** Semver requirement on the kernel, if any. */
  readonly astridVersion?: string;
  readonly variables: Readonly<Record<string, DistroVariable>>;
  readonly capsules: readonly DistroCapsule[];
}

/** One capsule of `Distro.lock`. */
export interface DistroLockEntry {
  readonly name: string;
  readonly version: string;
  readonly source: string;
  /** `blake3:` of the sorted `path<TAB>hash` lines of `files`. */
  readonly hash: string;
  /** Relative path ⇒ `blake3:<hex>`. */
  readonly files: Readonly<Record<string, string>>;
}

/** A parsed `Distro.lock`. */
export interface DistroLock {
  readonly distro: { readonly id: string; readonly version: string };
  readonly capsules: readonly DistroLockEntry[];
}

const ID = /^[a-z][a-z0-9-]*$/;
const VAR_REF = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const DISTRO_KEYS = new Set([
  "id",
  "name",
  "pretty-name",
  "version",
  "codename",
  "release-date",
  "description",
  "authors",
  "maintainers",
  "homepage",
  "support",
  "bug-tracker",
  "repository",
  "license",
  "astrid-version",
  "requires",
]);
const CAPSULE_KEYS = new Set([
  "name",
  "source",
  "version",
  "group",
  "role",
  "env",
]);

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  v !== null && typeof v === "object" && !Array.isArray(v) &&
  !(v instanceof Date);

function invalid(file: string, issues: readonly string[]): KernelError {
  return new KernelError(
    "MANIFEST_INVALID",
    issues.length === 1
      ? `Cannot load distro ${file}: ${issues[0]}`
      : `Cannot load distro ${file}: ${issues.length} problems:\n${
        issues.map((i) => `- ${i}`).join("\n")
      }`,
    { data: { issues: issues.map((message) => ({ file, message })) } },
  );
}

/**
 * Parses and validates a `Distro.toml`.
 *
 * @param text The TOML text.
 * @param file Its path (for messages).
 * @returns The distro.
 * @throws {KernelError} `MANIFEST_INVALID` listing every problem: TOML
 *   syntax, `schema-version` other than 1, a bad id/version/requirement,
 *   unknown keys, no capsules, duplicate names, a source leaving the distro
 *   directory, an undefined `{{ variable }}`.
 */
export function parseDistro(text: string, file: string): Distro {
  let raw: Table;
  try {
    raw = parseToml(text) as Table;
  } catch (err) {
    throw invalid(file, [
      `not valid TOML: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  const issues: string[] = [];
  for (const k of Object.keys(raw)) {
    if (!["schema-version", "distro", "variables", "capsule"].includes(k)) {
      issues.push(`unknown key '${k}'`);
    }
  }
  if (raw["schema-version"] !== 1) {
    issues.push(
      `unsupported schema-version ${
        JSON.stringify(raw["schema-version"] ?? null)
      } (expected 1)`,
    );
  }
  const d = isTable(raw["distro"]) ? raw["distro"] : {};
  if (!isTable(raw["distro"])) issues.push("missing table [distro]");
  for (const k of Object.keys(d)) {
    if (!DISTRO_KEYS.has(k)) issues.push(`distro: unknown key '${k}'`);
  }
  const str = (t: Table, k: string, where: string, required: boolean) => {
    const v = t[k];
    if (v === undefined) {
      if (required) issues.push(`${where}: missing key '${k}'`);
      return undefined;
    }
    if (typeof v !== "string") {
      issues.push(`${where}.${k}: expected a string`);
      return undefined;
    }
    return v;
  };
  const id = str(d, "id", "distro", true);
  if (id !== undefined && !ID.test(id)) {
    issues.push(`distro.id: invalid id '${id}' (expected ^[a-z][a-z0-9-]*$)`);
  }
  const name = str(d, "name", "distro", true);
  const version = str(d, "version", "distro", true);
  if (version !== undefined && !isExactVersion(version)) {
    issues.push(`distro.version: invalid version '${version}' (full semver)`);
  }
  const description = str(d, "description", "distro", false);
  const astridVersion = str(d, "astrid-version", "distro", false);
  if (astridVersion !== undefined) {
    const range = toSemverRange(astridVersion);
    if (range === null) {
      issues.push(
        `distro.astrid-version: invalid requirement '${astridVersion}'`,
      );
    } else if (!satisfiesRange(VERSION, range)) {
      issues.push(
        `distro.astrid-version: requires astrid ${astridVersion}, this is ${VERSION}`,
      );
    }
  }
  const variables: Record<string, DistroVariable> = {};
  const vars = raw["variables"] ?? {};
  if (!isTable(vars)) issues.push("variables: expected a table");
  else {
    for (const [k, v] of Object.entries(vars)) {
      if (!isTable(v)) {
        issues.push(`variables.${k}: expected a table`);
        continue;
      }
      const desc = str(v, "description", `variables.${k}`, false);
      const def = str(v, "default", `variables.${k}`, false);
      if (v["secret"] !== undefined && typeof v["secret"] !== "boolean") {
        issues.push(`variables.${k}.secret: expected a boolean`);
      }
      variables[k] = {
        secret: v["secret"] === true,
        ...(desc === undefined ? {} : { description: desc }),
        ...(def === undefined ? {} : { default: def }),
      };
    }
  }
  const capsules: DistroCapsule[] = [];
  const list = raw["capsule"];
  if (!Array.isArray(list) || list.length === 0) {
    issues.push("no [[capsule]] entries");
  }
  const seen = new Set<string>();
  for (const [i, c] of (Array.isArray(list) ? list : []).entries()) {
    const where = `capsule[${i}]`;
    if (!isTable(c)) {
      issues.push(`${where}: expected a table`);
      continue;
    }
    for (const k of Object.keys(c)) {
      if (!CAPSULE_KEYS.has(k)) issues.push(`${where}: unknown key '${k}'`);
    }
    const cname = str(c, "name", where, true);
    const source = str(c, "source", where, true);
    const cversion = str(c, "version", where, true);
    const group = str(c, "group", where, false);
    const role = str(c, "role", where, false);
    if (cname !== undefined) {
      if (!ID.test(cname)) {
        issues.push(`${where}.name: invalid capsule name '${cname}'`);
      }
      if (seen.has(cname)) issues.push(`${where}: duplicate name '${cname}'`);
      seen.add(cname);
    }
    if (
      source !== undefined &&
      (path.isAbsolute(source) || source === "" ||
        path.posix.normalize(source).split("/").includes(".."))
    ) {
      issues.push(
        `${where}.source: '${source}' must be a directory inside the distro's directory`,
      );
    }
    if (cversion !== undefined && !isExactVersion(cversion)) {
      issues.push(`${where}.version: invalid version '${cversion}'`);
    }
    const env: Record<string, string> = {};
    const rawEnv = c["env"] ?? {};
    if (!isTable(rawEnv)) issues.push(`${where}.env: expected a table`);
    else {
      for (const [k, v] of Object.entries(rawEnv)) {
        if (typeof v !== "string") {
          issues.push(`${where}.env.${k}: expected a string`);
          continue;
        }
        for (const m of v.matchAll(VAR_REF)) {
          if (!Object.hasOwn(variables, m[1]!)) {
            issues.push(
              `${where}.env.${k}: undefined variable '${
                m[1]
              }' (declare it in [variables])`,
            );
          }
        }
        env[k] = v;
      }
    }
    if (cname && source && cversion) {
      capsules.push({
        name: cname,
        source: path.posix.normalize(source).replace(/\/$/, ""),
        version: cversion,
        ...(group === undefined ? {} : { group }),
        ...(role === undefined ? {} : { role }),
        env,
      });
    }
  }
  if (issues.length > 0) throw invalid(file, issues);
  return {
    id: id!,
    name: name!,
    version: version!,
    ...(description === undefined ? {} : { description }),
    ...(astridVersion === undefined ? {} : { astridVersion }),
    variables,
    capsules,
  };
}

/** Reads and validates the `Distro.toml` at `file`. */
export async function readDistro(
  file: string,
  fs: FileSystem = createDenoFs(),
): Promise<Distro> {
  if ((await fs.stat(file)) === null) {
    throw new KernelError("NOT_FOUND", `No distro file '${file}'`);
  }
  return parseDistro(await fs.readTextFile(file), file);
}

function combinedHash(files: Readonly<Record<string, string>>): string {
  const lines = Object.keys(files).sort().map((f) => `${f}\t${files[f]}\n`);
  return `blake3:${blake3Hex(lines.join(""))}`;
}

/**
 * The package name and component file of a `Capsule.toml`, read leniently:
 * locking pins bytes and must not depend on this kernel understanding every
 * key (install validates the manifest in full).
 */
async function manifestBasics(
  fs: FileSystem,
  dir: string,
): Promise<{ name: string | undefined; artifact: string | undefined }> {
  const file = path.join(dir, "Capsule.toml");
  if ((await fs.stat(file)) === null) {
    throw new KernelError("NOT_FOUND", `No Capsule.toml in '${dir}'`);
  }
  let raw: Table;
  try {
    raw = parseToml(await fs.readTextFile(file)) as Table;
  } catch (err) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot load capsule manifest ${file}: not valid TOML (${
        err instanceof Error ? err.message : String(err)
      })`,
    );
  }
  const pkg = isTable(raw["package"]) ? raw["package"] : {};
  const comp = Array.isArray(raw["component"]) ? raw["component"][0] : null;
  const artifact = isTable(comp)
    ? (comp["file"] ?? comp["entrypoint"])
    : undefined;
  return {
    name: typeof pkg["name"] === "string" ? pkg["name"] : undefined,
    artifact: typeof artifact === "string"
      ? path.posix.normalize(artifact)
      : undefined,
  };
}

/** The source files of one capsule dir and their hashes (the build artifact and lock left out). */
async function hashCapsuleSources(
  fs: FileSystem,
  dir: string,
): Promise<Record<string, string>> {
  const { artifact } = await manifestBasics(fs, dir);
  const exclude = artifact === undefined ? [] : [artifact];
  return await hashFiles(fs, dir, await capsuleFiles(fs, dir, exclude));
}

async function isDir(fs: FileSystem, p: string): Promise<boolean> {
  return (await fs.stat(p))?.isDirectory === true;
}

/** What {@linkcode lockDistro} did. */
export interface LockDistroResult {
  /** The lock written. */
  readonly lock: DistroLock;
  /** Where. */
  readonly file: string;
  /** Capsules listed in `Distro.toml` whose directory does not exist (not locked). */
  readonly missing: readonly string[];
}

/**
 * Hashes every capsule of a distro that exists and writes `Distro.lock`
 * next to `Distro.toml`. Capsules whose directory is missing are left out
 * (and reported): the lock pins what exists.
 *
 * @param distroFile The `Distro.toml`.
 * @param fs File system (default: the real one).
 * @returns The lock, its path, the missing capsules.
 * @throws {KernelError} `MANIFEST_INVALID` (distro or a capsule manifest),
 *   `CAPSULE_INTEGRITY` (a symlink among a capsule's files).
 */
export async function lockDistro(
  distroFile: string,
  fs: FileSystem = createDenoFs(),
): Promise<LockDistroResult> {
  const distro = await readDistro(distroFile, fs);
  const base = path.dirname(path.resolve(distroFile));
  const capsules: DistroLockEntry[] = [];
  const missing: string[] = [];
  for (const c of distro.capsules) {
    const dir = path.join(base, c.source);
    if (!(await isDir(fs, dir))) {
      missing.push(c.name);
      continue;
    }
    const files = await hashCapsuleSources(fs, dir);
    capsules.push({
      name: c.name,
      version: c.version,
      source: c.source,
      hash: combinedHash(files),
      files,
    });
  }
  const lock: DistroLock = {
    distro: { id: distro.id, version: distro.version },
    capsules,
  };
  const file = path.join(base, DISTRO_LOCK);
  const body = stringifyToml({
    "schema-version": 1,
    distro: lock.distro,
    capsule: capsules.map((c) => ({ ...c })),
  });
  await fs.writeFile(
    file,
    new TextEncoder().encode(
      `# Generated by 'astrid distro lock' (deno task distro:lock): BLAKE3 of every\n# source file of each capsule of Distro.toml. Do not edit; re-run the command.\n${body}\n`,
    ),
    { mode: 0o644 },
  );
  return { lock, file, missing };
}

/**
 * Reads a `Distro.lock`.
 *
 * @param file Its path.
 * @param fs File system.
 * @returns The lock.
 * @throws {KernelError} `NOT_FOUND` when absent, `CAPSULE_INTEGRITY` when malformed.
 */
export async function readDistroLock(
  file: string,
  fs: FileSystem = createDenoFs(),
): Promise<DistroLock> {
  if ((await fs.stat(file)) === null) {
    throw new KernelError(
      "NOT_FOUND",
      `No ${DISTRO_LOCK} at '${file}': run 'astrid distro lock' (deno task distro:lock) to pin the capsules' sources`,
    );
  }
  const bad = (why: string) =>
    new KernelError("CAPSULE_INTEGRITY", `Cannot read '${file}': ${why}`);
  let raw: Table;
  try {
    raw = parseToml(await fs.readTextFile(file)) as Table;
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
  if (raw["schema-version"] !== 1) throw bad("schema-version is not 1");
  const d = raw["distro"];
  if (
    !isTable(d) || typeof d["id"] !== "string" ||
    typeof d["version"] !== "string"
  ) {
    throw bad("[distro] needs id and version");
  }
  const list = raw["capsule"] ?? [];
  if (!Array.isArray(list)) throw bad("[[capsule]] is not a list");
  const capsules = list.map((c, i): DistroLockEntry => {
    const ok = isTable(c) && typeof c["name"] === "string" &&
      typeof c["version"] === "string" && typeof c["source"] === "string" &&
      typeof c["hash"] === "string" && isTable(c["files"]) &&
      Object.entries(c["files"]).every(([k, v]) =>
        typeof v === "string" && /^blake3:[0-9a-f]{64}$/.test(v) &&
        !path.isAbsolute(k) && !k.split("/").includes("..")
      );
    if (!ok) throw bad(`capsule[${i}] is malformed`);
    return c as unknown as DistroLockEntry;
  });
  return { distro: { id: d["id"], version: d["version"] }, capsules };
}

/** The outcome of verifying one capsule. */
export interface VerifiedCapsule {
  readonly name: string;
  /** `ok`: sources match the lock; `missing`: the directory does not exist (skipped). */
  readonly status: "ok" | "missing";
  /** Its source directory (absolute). */
  readonly dir: string;
  /** Its lock entry (when `ok`). */
  readonly entry?: DistroLockEntry;
}

function mismatch(
  capsule: string,
  file: string,
  why: string,
): KernelError {
  return new KernelError(
    "CAPSULE_INTEGRITY",
    `Capsule '${capsule}': ${why} — refusing to install sources that differ from ${DISTRO_LOCK} (if the change is yours, run 'astrid distro lock')`,
    { data: { capsule, file } },
  );
}

/**
 * Checks one capsule directory against its lock entry.
 *
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the file.
 */
async function verifyCapsuleDir(
  fs: FileSystem,
  dir: string,
  entry: DistroLockEntry,
  label: string,
): Promise<void> {
  for (const [file, want] of Object.entries(entry.files)) {
    const full = path.join(dir, file);
    const info = await fs.lstat(full);
    if (info === null) {
      throw mismatch(
        entry.name,
        `${label}/${file}`,
        `'${label}/${file}' is missing`,
      );
    }
    if (!info.isFile) {
      throw mismatch(
        entry.name,
        `${label}/${file}`,
        `'${label}/${file}' is not a regular file`,
      );
    }
    const got = (await hashFiles(fs, dir, [file]))[file];
    if (got !== want) {
      throw mismatch(
        entry.name,
        `${label}/${file}`,
        `'${label}/${file}' does not match the lock (BLAKE3 ${got}, locked ${want})`,
      );
    }
  }
  const { name, artifact } = await manifestBasics(fs, dir);
  if (name !== entry.name) {
    throw mismatch(
      entry.name,
      `${label}/Capsule.toml`,
      `'${label}/Capsule.toml' names the capsule '${name ?? "(none)"}'`,
    );
  }
  const exclude = artifact === undefined ? [] : [artifact];
  const now = await capsuleFiles(fs, dir, exclude);
  const added = now.find((f) => !Object.hasOwn(entry.files, f));
  if (added !== undefined) {
    throw mismatch(
      entry.name,
      `${label}/${added}`,
      `'${label}/${added}' is not in the lock`,
    );
  }
}

/**
 * Verifies every capsule of a distro that exists against `Distro.lock`.
 *
 * @param distroFile The `Distro.toml` (the lock is next to it).
 * @param fs File system (default: the real one).
 * @returns The distro, the lock, and per capsule `ok` or `missing`.
 * @throws {KernelError} `NOT_FOUND` without a lock; `CAPSULE_INTEGRITY`
 *   naming the first file that differs, is missing or was added, or a
 *   capsule absent from the lock, or a lock for another distro/version.
 */
export async function verifyDistro(
  distroFile: string,
  fs: FileSystem = createDenoFs(),
): Promise<
  { distro: Distro; lock: DistroLock; capsules: VerifiedCapsule[] }
> {
  const distro = await readDistro(distroFile, fs);
  const base = path.dirname(path.resolve(distroFile));
  const lock = await readDistroLock(path.join(base, DISTRO_LOCK), fs);
  if (
    lock.distro.id !== distro.id || lock.distro.version !== distro.version
  ) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `${DISTRO_LOCK} is for ${lock.distro.id}@${lock.distro.version}, Distro.toml is ${distro.id}@${distro.version}: run 'astrid distro lock'`,
    );
  }
  const capsules: VerifiedCapsule[] = [];
  for (const c of distro.capsules) {
    const dir = path.join(base, c.source);
    if (!(await isDir(fs, dir))) {
      capsules.push({ name: c.name, status: "missing", dir });
      continue;
    }
    const entry = lock.capsules.find((e) => e.name === c.name);
    if (entry === undefined || entry.source !== c.source) {
      throw mismatch(
        c.name,
        c.source,
        `'${c.source}' exists but is not in ${DISTRO_LOCK}`,
      );
    }
    await verifyCapsuleDir(fs, dir, entry, c.source);
    capsules.push({ name: c.name, status: "ok", dir, entry });
  }
  return { distro, lock, capsules };
}

/** Options of {@linkcode installDistro}. */
export interface InstallDistroOptions {
  /** The `Distro.toml`. */
  readonly distroFile: string;
  /** Progress lines (and warnings, prefixed `warning:`). */
  readonly onProgress?: (message: string) => void;
  /**
   * The Deno config that resolves `@astrid/sdk` for the capsules' bundles
   * (first-party capsules rely on the checkout's workspace `deno.json`);
   * default: the nearest `deno.json` above the distro's directory.
   */
  readonly config?: string;
  /** Install only these capsules (the others are skipped as not picked); default: all. */
  readonly only?: ReadonlySet<string>;
  /** Structured progress: capsule `index` (1-based) of `total` starts / is done. */
  readonly onStep?: (step: DistroStep) => void;
  readonly signal?: AbortSignal;
}

/** One step of {@linkcode installDistro}, for a progress bar. */
export interface DistroStep {
  /** 1-based index of the capsule. */
  readonly index: number;
  /** Capsules in the distro. */
  readonly total: number;
  /** The capsule. */
  readonly name: string;
  /** `start` before it is built, `end` once installed, skipped or failed. */
  readonly phase: "start" | "end";
}

/** One installed capsule, or why it was skipped. */
export interface DistroInstallOutcome {
  readonly name: string;
  readonly status: "installed" | "skipped" | "failed";
  /** For `installed`: the version; for `skipped`/`failed`: why. */
  readonly detail: string;
}

/**
 * Installs a distro: verifies every existing capsule against `Distro.lock`
 * (nothing is installed when one differs), then per capsule copies the
 * locked files to a staging dir, verifies the copy again, builds it and
 * installs it with a signed record. A capsule whose directory is missing is
 * skipped with a warning (see the module doc for why not refused); one that
 * fails to build or install is reported as `failed` and the others go on.
 *
 * @param kernel The kernel.
 * @param options The distro file, progress.
 * @returns The distro and each capsule's outcome.
 * @throws {KernelError} Everything {@linkcode verifyDistro} throws, then
 *   the first build or install failure.
 */
export async function installDistro(
  kernel: KernelHandle,
  options: InstallDistroOptions,
): Promise<{ distro: Distro; outcomes: DistroInstallOutcome[] }> {
  const fs = kernel.ports.fs;
  const progress = options.onProgress ?? (() => {});
  progress(`verifying sources against ${DISTRO_LOCK}`);
  const { distro, capsules } = await verifyDistro(options.distroFile, fs);
  const config = options.config ??
    await findDenoConfig(fs, path.dirname(path.resolve(options.distroFile)));
  const outcomes: DistroInstallOutcome[] = [];
  const staging = await makeTempDir("astrid-distro-");
  try {
    for (const [i, c] of capsules.entries()) {
      const step = `[${i + 1}/${capsules.length}] ${c.name}`;
      const at = { index: i + 1, total: capsules.length, name: c.name };
      options.onStep?.({ ...at, phase: "start" });
      try {
        await installOne(c, step);
      } finally {
        options.onStep?.({ ...at, phase: "end" });
      }
    }
  } finally {
    await fs.remove(staging, { recursive: true }).catch(() => {});
  }
  async function installOne(
    c: VerifiedCapsule,
    step: string,
  ): Promise<void> {
    if (options.only !== undefined && !options.only.has(c.name)) {
      outcomes.push({ name: c.name, status: "skipped", detail: "not picked" });
      return;
    }
    if (c.status === "missing") {
      progress(`warning: ${step}: skipped, its directory does not exist`);
      outcomes.push({
        name: c.name,
        status: "skipped",
        detail: "directory missing",
      });
      return;
    }
    const entry = c.entry!;
    const stage = path.join(staging, c.name);
    await copyCapsuleFiles(fs, c.dir, stage, Object.keys(entry.files));
    await verifyCapsuleDir(fs, stage, entry, entry.source);
    const want = distro.capsules.find((d) => d.name === c.name)!.version;
    let result;
    try {
      result = await installBuiltCapsule(kernel, {
        dir: stage,
        approvedBy: `distro:${distro.id}@${distro.version}`,
        ...(config === undefined ? {} : { config }),
        onProgress: (m) => progress(`${step}: ${m}`),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      // One capsule that does not build or install does not stop the
      // others (reference §2.9); the caller reports it and fails.
      if (!KernelError.is(err) || err.code === "ABORTED") throw err;
      const message = err.message.replaceAll(staging + "/", "");
      progress(`error: ${step}: ${err.code}: ${message}`);
      outcomes.push({
        name: c.name,
        status: "failed",
        detail: `${err.code}: ${message.split("\n")[0]}`,
      });
      return;
    }
    if (result.version !== want) {
      progress(
        `warning: ${step}: Distro.toml lists version ${want}, Capsule.toml says ${result.version}`,
      );
    }
    outcomes.push({
      name: c.name,
      status: "installed",
      detail: result.version,
    });
  }
  const installed = new Set(
    outcomes.filter((o) => o.status === "installed").map((o) => o.name),
  );
  await writeInstalledLock(kernel, {
    distro: { id: distro.id, version: distro.version },
    capsules: capsules.flatMap((c) =>
      installed.has(c.name) && c.entry ? [c.entry] : []
    ),
  });
  return { distro, outcomes };
}

/** What `astrid init` installed last: `$ASTRID_HOME/home/<principal>/.config/distro.lock`. */
export interface InstalledDistro {
  readonly id: string;
  readonly version: string;
  /** RFC 3339. */
  readonly resolvedAt: string;
  /** Capsule name ⇒ the `Distro.lock` hash of its sources when installed. */
  readonly capsules: Readonly<Record<string, string>>;
}

async function writeInstalledLock(
  kernel: KernelHandle,
  lock: DistroLock,
): Promise<void> {
  const { fs, clock } = kernel.ports;
  const file = kernel.home.home(kernel.principal).distroLock;
  const body = stringifyToml({
    "schema-version": 1,
    distro: {
      id: lock.distro.id,
      version: lock.distro.version,
      "resolved-at": new Date(clock.now()).toISOString(),
    },
    capsule: lock.capsules.map((c) => ({
      name: c.name,
      version: c.version,
      source: c.source,
      hash: c.hash,
    })),
  });
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await fs.writeFile(tmp, new TextEncoder().encode(body + "\n"), {
    mode: 0o600,
  });
  await fs.rename(tmp, file);
}

/**
 * Reads what the last distro install recorded in the principal's home.
 *
 * @param kernel The kernel.
 * @returns The record, or `null` when there is none (or it is unreadable).
 */
export async function readInstalledDistro(
  kernel: KernelHandle,
): Promise<InstalledDistro | null> {
  const { fs } = kernel.ports;
  const file = kernel.home.home(kernel.principal).distroLock;
  if ((await fs.stat(file)) === null) return null;
  try {
    const raw = parseToml(await fs.readTextFile(file)) as Table;
    const d = raw["distro"];
    if (!isTable(d)) return null;
    const capsules: Record<string, string> = {};
    for (const c of Array.isArray(raw["capsule"]) ? raw["capsule"] : []) {
      if (isTable(c) && typeof c["name"] === "string") {
        capsules[c["name"]] = String(c["hash"] ?? "");
      }
    }
    return {
      id: String(d["id"] ?? ""),
      version: String(d["version"] ?? ""),
      resolvedAt: String(d["resolved-at"] ?? ""),
      capsules,
    };
  } catch {
    return null;
  }
}
