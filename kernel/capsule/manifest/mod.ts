/**
 * Capsule manifests (`Capsule.toml`, reference §2) and installed-capsule
 * integrity (`meta.json`).
 *
 * - {@linkcode parseManifest} / {@linkcode validateManifest}: every table of
 *   reference §2 is validated. Unlike Astrid 0.5.1, unknown keys and bad
 *   values are errors; every problem is collected as `{file, key, message}`
 *   with a dotted key such as `component[0].file`, and
 *   {@linkcode manifestError} turns them into one `MANIFEST_INVALID`.
 * - Engine choice: a `[[component]]` has `type = "js"` (a `.js`/`.mjs`
 *   bundle run in QuickJS) or `type = "wasm"` (an Extism `.wasm` plug-in);
 *   when `type` is absent it is inferred from the file extension, and a
 *   declared type must agree with it. At most one component is allowed.
 *   A `js` component may set `instances = N` (1..16, default 1): how many
 *   QuickJS instances may run its calls at once.
 *   Without a component, any `[[mcp_server]]` (transport `stdio`) selects the
 *   `mcp` engine; otherwise the capsule is `static` (context files, skills,
 *   commands only). A component together with MCP servers is refused.
 * - Requirements (`[imports]`, `astrid-version`) use Cargo syntax
 *   (`^1.0`, `>=1.2, <2`, `*`; a bare `1.2` means `^1.2`), exports and
 *   `[package] version` are exact semver 2.0 versions
 *   ({@linkcode toSemverRange}, {@linkcode satisfiesRange}).
 * - {@linkcode grantsFromManifest} and {@linkcode ipcAclFromManifest}: what
 *   the gate (layer 0) and the bus enforce.
 * - {@linkcode loadCapsuleDir}, {@linkcode readArtifact},
 *   {@linkcode writeMeta}: `meta.json` (schema version 2, see
 *   {@linkcode CapsuleMeta}) is the install record signed with the runtime
 *   key ({@linkcode signInstallRecord}, {@linkcode verifyInstallRecord}): the
 *   BLAKE3 of `Capsule.toml` and of every artifact — every file of an MCP
 *   capsule's dir ({@linkcode hashPinnedFiles}, {@linkcode checkPinnedFiles})
 *   — the grants, `unconfined` and the approval's audit entry; a missing,
 *   unsigned, foreign or edited record, a missing hash or a mismatch refuses
 *   to load with `CAPSULE_INTEGRITY`.
 *
 * Security model: a manifest is untrusted input; nothing in it is ignored,
 * so a misspelt capability can never silently widen or narrow what a capsule
 * gets. File references must be relative paths without `..`. Pinning
 * `Capsule.toml` itself means a manifest edited after install (for example to
 * add `net = ["*"]`) is refused, not obeyed. Artifacts are read only as
 * regular files (no symlinks or FIFOs) and returned only when their hash
 * matches. `meta.json` lives beside the artifacts but is signed with the
 * runtime key, which no capsule can read (`$ASTRID_HOME` is hard-denied by
 * the policy), so rewriting it does not help: an unsigned or re-signed
 * record is refused.
 *
 * @example Parse a manifest and derive its grants
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantsFromManifest, parseManifest } from "./mod.ts";
 * const result = parseManifest(
 *   [
 *     "[package]",
 *     'name = "notes"',
 *     'version = "0.2.0"',
 *     "[[component]]",
 *     'file = "notes.wasm"',
 *     "[capabilities]",
 *     'fs_read = ["cwd://notes"]',
 *     "[exports.astrid]",
 *     'notes = "1.0.0"',
 *   ].join("\n"),
 *   { file: "Capsule.toml", kernelVersion: "0.1.0" },
 * );
 * assert.ok(result.ok);
 * assert.equal(result.value.engine, "wasm");
 * assert.deepEqual(grantsFromManifest(result.value).fs_read, ["cwd://notes"]);
 * ```
 *
 * @module
 */
export type {
  CapsuleManifest,
  CommandDef,
  ComponentDef,
  ContextFileDef,
  EngineKind,
  EnvDef,
  EnvType,
  ExportDef,
  IdentityPermission,
  ImportDef,
  InterceptorDef,
  ManifestCapabilities,
  ManifestIssue,
  ManifestResult,
  McpServerDef,
  PackageInfo,
  SkillDef,
  TopicDef,
  UplinkDef,
} from "./manifest_types.ts";
export { MAX_COMPONENT_INSTANCES } from "./manifest_types.ts";
export type { ParseManifestOptions } from "./parse_manifest.ts";
export {
  manifestError,
  parseManifest,
  validateManifest,
} from "./parse_manifest.ts";
export {
  isExactVersion,
  satisfiesRange,
  toSemverRange,
} from "./semver_rules.ts";
export type { IpcAcl } from "./grants_from_manifest.ts";
export {
  grantsFromManifest,
  ipcAclFromManifest,
} from "./grants_from_manifest.ts";
export type { CapsuleMeta } from "./capsule_meta.ts";
export {
  MANIFEST_FILE,
  META_FILE,
  META_VERSION,
  parseMeta,
  requiredArtifacts,
} from "./capsule_meta.ts";
export type {
  ArtifactRef,
  CapsuleDir,
  InstalledCapsuleDir,
  LoadCapsuleDirOptions,
  PinnedRecord,
} from "./load_capsule_dir.ts";
export {
  loadCapsuleDir,
  MAX_ARTIFACT_BYTES,
  MAX_MANIFEST_BYTES,
  readArtifact,
} from "./load_capsule_dir.ts";
export type { WriteMetaOptions } from "./write_meta.ts";
export { recordedGrants, writeMeta } from "./write_meta.ts";
export type { InstallTrust, UnsignedRecord } from "./install_record.ts";
export {
  decisionHash,
  installRecordBytes,
  signInstallRecord,
  verifyInstallRecord,
} from "./install_record.ts";
export {
  checkPinnedFiles,
  hashPinnedFiles,
  listCapsuleFiles,
  MAX_PINNED_FILES,
  pinnedFiles,
  runsCodeInPlace,
} from "./pinned_files.ts";
