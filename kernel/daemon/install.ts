/**
 * Installs a capsule from a source directory into the principal's capsule
 * dir: copies `Capsule.toml` and the listed files, bundles a TypeScript entry
 * into the js component when asked, then records the install: pins every
 * artifact's BLAKE3 (MCP server scripts and their local imports included),
 * audits the operator's approval of exactly those hashes, grants and
 * `unconfined`, and writes `meta.json` signed with the runtime key, naming
 * that audit entry. Boot refuses a record that is unsigned, signed by
 * another key, or does not match the files.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { parseManifest } from "../capsule/manifest/parse_manifest.ts";
import { manifestError } from "../capsule/manifest/mod.ts";
import { recordedGrants, writeMeta } from "../capsule/manifest/write_meta.ts";
import { hashPinnedFiles } from "../capsule/manifest/pinned_files.ts";
import { decisionHash } from "../capsule/manifest/install_record.ts";
import type { CapsuleMeta } from "../capsule/manifest/capsule_meta.ts";
import type { CapsuleManifest } from "../capsule/manifest/manifest_types.ts";
import { buildJsCapsule } from "../capsule/engines/js/build.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { createDenoEnv } from "../host/deno_env.ts";
import { denoToolchain } from "../host/deno_toolchain.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";
import type { CapsuleId } from "../core/ids.ts";

/** Options of {@linkcode installCapsule}. */
export interface InstallOptions {
  /** The directory holding `Capsule.toml`. */
  readonly source: string;
  /** Files to copy: target path (relative, inside the capsule) ⇒ absolute source path. */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * Bundle this TypeScript entry (absolute) into the manifest's js component
   * file. The bundler runs as kernel tooling (`denoToolchain`): the running
   * Deno with the documented tool environment (cache, certificates, proxies).
   */
  readonly bundle?: { readonly entry: string };
  /**
   * The operator approves that this capsule's non-Deno MCP servers run
   * without bubblewrap when bubblewrap is unavailable. The approval is
   * audited and its entry id pinned in `meta.json`; without it such servers
   * are refused. Only pass it after asking the human (the CLI asks).
   */
  readonly unconfined?: { readonly approvedBy: string };
  /** Who approved the install (recorded in its audit entry); default `operator`. */
  readonly approvedBy?: string;
  /** Cancels the install. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode recordInstall}. */
export interface RecordInstallOptions {
  /** The installed capsule directory (its files in place). */
  readonly dir: string;
  /** Its validated manifest. */
  readonly manifest: CapsuleManifest;
  /** Where it came from. */
  readonly source?: string;
  /** Who approved it (audited); default `operator`. */
  readonly approvedBy?: string;
  /** The operator also approved running its non-Deno servers unconfined. */
  readonly unconfined?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Installs (or reinstalls) a capsule for the kernel's principal.
 *
 * @param kernel The kernel.
 * @param options Source, files, bundling.
 * @returns The installed directory and manifest.
 * @throws {KernelError} `MANIFEST_INVALID`, `CAPSULE_INTEGRITY`, `HOST_IO`, build failures.
 */
export async function installCapsule(
  kernel: KernelHandle,
  options: InstallOptions,
): Promise<{ dir: string; manifest: CapsuleManifest }> {
  const { fs } = kernel.ports;
  const text = await fs.readTextFile(path.join(options.source, "Capsule.toml"));
  const parsed = parseManifest(text, {
    file: path.join(options.source, "Capsule.toml"),
    kernelVersion: VERSION,
  });
  if (!parsed.ok) throw manifestError(parsed.issues);
  const manifest = parsed.value;
  const dir = path.join(
    kernel.home.home(kernel.principal).capsules,
    manifest.package.name,
  );
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(dir, "Capsule.toml"), text, { mode: 0o600 });
  for (const [target, src] of Object.entries(options.files ?? {})) {
    if (path.isAbsolute(target) || target.split("/").includes("..")) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot install '${target}': expected a relative path inside the capsule`,
      );
    }
    await fs.mkdir(path.dirname(path.join(dir, target)), {
      recursive: true,
      mode: 0o700,
    });
    await fs.writeFile(path.join(dir, target), await fs.readFile(src), {
      mode: 0o600,
    });
  }
  if (options.bundle) {
    if (manifest.component?.type !== "js") {
      throw new KernelError(
        "INVALID_INPUT",
        `Capsule '${manifest.package.name}' has no js component to bundle into`,
      );
    }
    await buildJsCapsule({
      spawner: createDenoSpawner(),
      fs,
      toolchain: denoToolchain(createDenoEnv()),
    }, {
      entry: options.bundle.entry,
      outFile: path.join(dir, manifest.component.file),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  await recordInstall(kernel, {
    dir,
    manifest,
    source: options.source,
    approvedBy: options.unconfined?.approvedBy ?? options.approvedBy ??
      "operator",
    unconfined: options.unconfined !== undefined,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { dir, manifest };
}

/**
 * Records an install decision for a capsule directory already in place:
 * pins its files, appends the approval to the audit chain (the record hash,
 * grants and `unconfined`; a separate entry for `unconfined`), and writes
 * `meta.json` signed with the runtime key, naming the approval's entry.
 *
 * @param kernel The kernel (runtime key, audit chain, ports).
 * @param options Directory, manifest, source, approver, `unconfined`.
 * @returns The signed record written.
 * @throws {KernelError} `CAPSULE_INTEGRITY` when a pinned file is missing,
 *   a symlink, a special file or too large; `AUDIT_FAILED`/store errors when
 *   the approval cannot be audited (then nothing is written).
 */
export async function recordInstall(
  kernel: KernelHandle,
  options: RecordInstallOptions,
): Promise<CapsuleMeta> {
  const { fs, clock } = kernel.ports;
  const { dir, manifest, signal } = options;
  const approvedBy = (options.approvedBy ?? "operator").slice(0, 200);
  const artifacts = await hashPinnedFiles(fs, dir, { manifest, signal });
  const grants = recordedGrants(manifest);
  const capsule = manifest.package.name;
  const unconfined = options.unconfined === true;
  const hash = decisionHash({
    capsule,
    version: manifest.package.version,
    artifacts,
    grants,
    unconfined,
  });
  const audit = (action: Record<string, unknown>) =>
    kernel.security.audit.append({
      principal: kernel.principal,
      session: null,
      capsule: capsule as CapsuleId,
      call_id: null,
      action: action as never,
      decision: "allowed",
      proof: { type: "operator", approved_by: approvedBy },
      outcome: null,
    });
  const unconfinedEntry = unconfined
    ? await audit({
      type: "capsule_unconfined_install",
      capsule_id: capsule,
      version: manifest.package.version,
      record_hash: hash,
      servers: manifest.mcp_servers.flatMap((s) =>
        s.type === "stdio" ? [`${s.command} ${s.args.join(" ")}`] : []
      ),
    })
    : null;
  const entry = await audit({
    type: "capsule_install",
    capsule_id: capsule,
    version: manifest.package.version,
    record_hash: hash,
    files: Object.keys(artifacts).length,
    grants,
    unconfined,
  });
  const now = clock.now();
  return await writeMeta(fs, {
    dir,
    manifest,
    now,
    artifacts,
    approval: { approved_at: now, audit_entry: entry.id },
    signer: kernel.runtimeKey,
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(unconfinedEntry
      ? { unconfined: { approved_at: now, audit_entry: unconfinedEntry.id } }
      : {}),
    ...(signal ? { signal } : {}),
  });
}
