/**
 * `meta.json`: the signed install record of a capsule — what `capsule
 * install` decided: the BLAKE3 hash of every file the kernel will read or run
 * from the capsule directory, the grants, `unconfined`, and the audit entry
 * of the approval, signed with the runtime key.
 *
 * Schema, version 2 (wire fields snake_case, times in ms since the epoch):
 *
 * ```json
 * {
 *   "meta_version": 2,
 *   "capsule": "hello",
 *   "version": "1.0.0",
 *   "installed_at": 1767225600000,
 *   "updated_at": 1767225600000,
 *   "source": "./capsules/hello",
 *   "artifacts": { "Capsule.toml": "<64 hex>", "main.js": "<64 hex>" },
 *   "grants": { "fs_read": [], "fs_write": [], "net": [], "...": [] },
 *   "approval": { "approved_at": 1767225600000, "audit_entry": "<id>" },
 *   "key_id": "<runtime key id>",
 *   "signature": "<128 hex: Ed25519 over the canonical JSON of the rest>"
 * }
 * ```
 *
 * `source` and `unconfined` are optional. `artifacts` maps a relative path
 * to the lower-case hex BLAKE3 of its bytes and must cover
 * {@linkcode requiredArtifacts}: `Capsule.toml` itself (so a manifest edited
 * after install, e.g. to widen its capabilities, is refused), the component,
 * and every context file, skill, command file, topic schema and in-capsule
 * MCP command; a capsule with `[[mcp_server]]` pins every file of its
 * directory (the server scripts and all their local imports). Version 1
 * records (unsigned) are refused: reinstall the capsule.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { CapsuleManifest } from "./manifest_types.ts";
import { describe, isTable, RELATIVE_PATH } from "./_reader.ts";
import { isExactVersion } from "./semver_rules.ts";

/** The current `meta_version`. */
export const META_VERSION = 2 as const;
/** The manifest's file name inside a capsule directory. */
export const MANIFEST_FILE: string = "Capsule.toml";
/** The metadata file name inside a capsule directory. */
export const META_FILE: string = "meta.json";

/** The parsed `meta.json` (version 2). */
export interface CapsuleMeta {
  readonly meta_version: 2;
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
  /** The manifest grants install decided (must equal the pinned manifest's). */
  readonly grants: JsonObject;
  /** The install approval: when, and the id of its audit entry. */
  readonly approval: {
    readonly approved_at: number;
    readonly audit_entry: string;
  };
  /** The id of the runtime key that signed the record. */
  readonly key_id: string;
  /** Lower-case hex Ed25519 signature over {@linkcode installRecordBytes}. */
  readonly signature: string;
}

/** A JSON object (the grants as recorded). */
export type JsonObject = { readonly [key: string]: unknown };

const KEYS = [
  "meta_version",
  "capsule",
  "version",
  "installed_at",
  "updated_at",
  "source",
  "artifacts",
  "unconfined",
  "grants",
  "approval",
  "key_id",
  "signature",
];
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

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
    if (m.type !== "stdio") continue; // a remote server has no local file
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
 *   unknown (or the unsigned 1) `meta_version` or key, or a field of the
 *   wrong shape. The signature is checked by `verifyInstallRecord()`.
 *
 * @example Parse metadata
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMeta } from "./capsule_meta.ts";
 * const meta = parseMeta(JSON.stringify({
 *   meta_version: 2, capsule: "a", version: "1.0.0", installed_at: 0, updated_at: 0,
 *   artifacts: { "Capsule.toml": "0".repeat(64) }, grants: {},
 *   approval: { approved_at: 0, audit_entry: "e1" }, key_id: "k", signature: "0".repeat(128),
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
  if (raw["meta_version"] === 1) {
    throw bad(
      file,
      "it is an unsigned version 1 record, which boot no longer trusts",
    );
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
  if (unconfined !== undefined && !isApproval(unconfined)) {
    throw bad(
      file,
      "'unconfined' must be {approved_at: integer, audit_entry: string}",
    );
  }
  const { grants, approval, key_id, signature } = raw;
  if (!isApproval(approval)) {
    throw bad(
      file,
      "'approval' must be {approved_at: integer, audit_entry: string}",
    );
  }
  if (!isTable(grants)) {
    throw bad(file, `'grants' must be an object, got ${describe(grants)}`);
  }
  if (typeof key_id !== "string" || key_id === "") {
    throw bad(file, `'key_id' must be a non-empty string`);
  }
  if (typeof signature !== "string" || !HEX128.test(signature)) {
    throw bad(file, "'signature' must be 128 lower-case hex characters");
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
    grants: structuredClone(grants),
    approval: {
      approved_at: approval["approved_at"] as number,
      audit_entry: approval["audit_entry"] as string,
    },
    key_id,
    signature,
  };
}

function isApproval(
  v: unknown,
): v is { approved_at: number; audit_entry: string } {
  return isTable(v) &&
    Object.keys(v).sort().join() === "approved_at,audit_entry" &&
    Number.isSafeInteger(v["approved_at"]) &&
    typeof v["audit_entry"] === "string" && v["audit_entry"] !== "";
}
