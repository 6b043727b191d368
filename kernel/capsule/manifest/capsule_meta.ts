/**
 * `meta.json`: what install pinned about a capsule, above all the BLAKE3 hash
 * of every file the kernel will read from the capsule directory.
 *
 * Schema, version 1 (wire fields snake_case, times in ms since the epoch):
 *
 * ```json
 * {
 *   "meta_version": 1,
 *   "capsule": "hello",
 *   "version": "1.0.0",
 *   "installed_at": 1767225600000,
 *   "updated_at": 1767225600000,
 *   "source": "./capsules/hello",
 *   "artifacts": { "Capsule.toml": "<64 hex>", "main.js": "<64 hex>" }
 * }
 * ```
 *
 * `source` is optional. `artifacts` maps a relative path to the lower-case
 * hex BLAKE3 of its bytes and must cover {@linkcode requiredArtifacts}:
 * `Capsule.toml` itself (so a manifest edited after install, e.g. to widen
 * its capabilities, is refused), the component, and every context file,
 * skill, command file, topic schema and in-capsule MCP command.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { describe, isTable, RELATIVE_PATH } from "./_reader.ts";
import { isExactVersion } from "./semver_rules.ts";

/** The current `meta_version`. */
export const META_VERSION = 1 as const;
/** The manifest's file name inside a capsule directory. */
export const MANIFEST_FILE: string = "Capsule.toml";
/** The metadata file name inside a capsule directory. */
export const META_FILE: string = "meta.json";

/** The parsed `meta.json` (version 1). */
export interface CapsuleMeta {
  readonly meta_version: 1;
  /** The capsule id it was written for; must equal `[package] name`. */
  readonly capsule: string;
  /** Must equal `[package] version`. */
  readonly version: string;
  readonly installed_at: number;
  readonly updated_at: number;
  readonly source?: string;
  /** Relative path ⇒ lower-case hex BLAKE3 (64 characters). */
  readonly artifacts: Readonly<Record<string, string>>;
  /**
   * Present when the operator installed the capsule `unconfined` and approved
   * that: its non-Deno MCP servers may then run without bubblewrap when
   * bubblewrap is unavailable. `audit_entry` is the id of the approval's audit entry.
   */
  readonly unconfined?: {
    readonly approved_at: number;
    readonly audit_entry: string;
  };
}

const KEYS = [
  "meta_version",
  "capsule",
  "version",
  "installed_at",
  "updated_at",
  "source",
  "artifacts",
  "unconfined",
];
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Lists the files of a capsule that must be pinned in `meta.json`, sorted.
 *
 * @param manifest A validated manifest.
 * @returns `Capsule.toml` plus the component, context files, skills,
 *   command files, topic schemas and in-capsule MCP commands.
 *
 * @example List artifacts
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest, requiredArtifacts } from "./mod.ts";
 * const r = parseManifest('[package]\nname = "a"\nversion = "1.0.0"\n[[component]]\nfile = "a.wasm"\n', {
 *   file: "Capsule.toml", kernelVersion: "0.1.0",
 * });
 * assert.ok(r.ok);
 * assert.deepEqual(requiredArtifacts(r.value), ["Capsule.toml", "a.wasm"]);
 * ```
 */
export function requiredArtifacts(manifest: CapsuleManifest): string[] {
  const files = new Set<string>([MANIFEST_FILE]);
  if (manifest.component !== null) files.add(manifest.component.file);
  for (const c of manifest.context_files) files.add(c.file);
  for (const s of manifest.skills) files.add(s.file);
  for (const c of manifest.commands) {
    if (c.file !== undefined) files.add(c.file);
  }
  for (const t of manifest.topics) {
    if (t.schema !== undefined) files.add(t.schema);
  }
  for (const m of manifest.mcp_servers) {
    const local = m.command.replace(/^\.\//, "");
    if (!m.command.startsWith("/") && m.command.includes("/")) files.add(local);
  }
  return [...files].sort();
}

function bad(file: string, why: string): KernelError {
  return new KernelError(
    "CAPSULE_INTEGRITY",
    `Cannot load capsule metadata ${file}: ${why}; reinstall the capsule`,
    { data: { file } },
  );
}

/**
 * Parses and validates `meta.json` text. Unknown keys are refused.
 *
 * @param text The file contents.
 * @param file The path, for messages.
 * @returns The metadata.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when it is not JSON, has an
 *   unknown `meta_version` or key, or a field of the wrong shape.
 *
 * @example Parse metadata
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMeta } from "./capsule_meta.ts";
 * const meta = parseMeta(JSON.stringify({
 *   meta_version: 1, capsule: "a", version: "1.0.0", installed_at: 0, updated_at: 0,
 *   artifacts: { "Capsule.toml": "0".repeat(64) },
 * }), "meta.json");
 * assert.equal(meta.capsule, "a");
 * ```
 */
export function parseMeta(text: string, file: string): CapsuleMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot load capsule metadata ${file}: it is not valid JSON; reinstall the capsule`,
      { data: { file }, cause: err },
    );
  }
  if (!isTable(raw)) {
    throw bad(file, `expected a JSON object, got ${describe(raw)}`);
  }
  if (raw["meta_version"] !== META_VERSION) {
    throw bad(
      file,
      `unsupported meta_version ${
        JSON.stringify(raw["meta_version"]) ?? "(missing)"
      } (expected ${META_VERSION})`,
    );
  }
  const unknown = Object.keys(raw).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(file, `unknown key '${unknown[0]}'`);
  const { capsule, version, installed_at, updated_at, source, artifacts } = raw;
  const unconfined = raw["unconfined"];
  if (
    unconfined !== undefined &&
    (!isTable(unconfined) ||
      Object.keys(unconfined).sort().join() !== "approved_at,audit_entry" ||
      !Number.isSafeInteger(unconfined["approved_at"]) ||
      typeof unconfined["audit_entry"] !== "string" ||
      unconfined["audit_entry"] === "")
  ) {
    throw bad(
      file,
      "'unconfined' must be {approved_at: integer, audit_entry: string}",
    );
  }
  if (typeof capsule !== "string" || capsule === "") {
    throw bad(
      file,
      `'capsule' must be a non-empty string, got ${describe(capsule)}`,
    );
  }
  if (typeof version !== "string" || !isExactVersion(version)) {
    throw bad(
      file,
      `'version' must be a full semver version, got ${describe(version)}`,
    );
  }
  for (
    const [k, v] of [["installed_at", installed_at], ["updated_at", updated_at]]
  ) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      throw bad(
        file,
        `'${k}' must be a non-negative integer (ms), got ${describe(v)}`,
      );
    }
  }
  if (source !== undefined && typeof source !== "string") {
    throw bad(file, `'source' must be a string, got ${describe(source)}`);
  }
  if (!isTable(artifacts)) {
    throw bad(
      file,
      `'artifacts' must be an object, got ${describe(artifacts)}`,
    );
  }
  for (const [path, hash] of Object.entries(artifacts)) {
    if (!RELATIVE_PATH.test(path)) {
      throw bad(file, `artifact path '${path}' must be ${RELATIVE_PATH.what}`);
    }
    if (typeof hash !== "string" || !HEX64.test(hash)) {
      throw bad(
        file,
        `artifact '${path}' must map to 64 lower-case hex characters`,
      );
    }
  }
  return {
    meta_version: META_VERSION,
    capsule,
    version,
    installed_at: installed_at as number,
    updated_at: updated_at as number,
    ...(source === undefined ? {} : { source }),
    artifacts: { ...(artifacts as Record<string, string>) },
    ...(unconfined === undefined ? {} : {
      unconfined: {
        approved_at: unconfined["approved_at"] as number,
        audit_entry: unconfined["audit_entry"] as string,
      },
    }),
  };
}
