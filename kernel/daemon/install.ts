/**
 * Installs a capsule from a source directory into the principal's capsule
 * dir: copies `Capsule.toml` and the listed files, bundles a TypeScript entry
 * into the js component when asked, and pins every artifact's BLAKE3 in
 * `meta.json` (so a later edit refuses to load).
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { parseManifest } from "../capsule/manifest/parse_manifest.ts";
import { manifestError } from "../capsule/manifest/mod.ts";
import { writeMeta } from "../capsule/manifest/write_meta.ts";
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
  /** Cancels the install. */
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
  const { fs, clock } = kernel.ports;
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
  const unconfined = options.unconfined
    ? await approveUnconfined(kernel, manifest, options.unconfined.approvedBy)
    : undefined;
  await writeMeta(fs, {
    dir,
    manifest,
    now: clock.now(),
    ...(unconfined ? { unconfined } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { dir, manifest };
}

async function approveUnconfined(
  kernel: KernelHandle,
  manifest: CapsuleManifest,
  approvedBy: string,
): Promise<{ approved_at: number; audit_entry: string }> {
  const entry = await kernel.security.audit.append({
    principal: kernel.principal,
    session: null,
    capsule: manifest.package.name as CapsuleId,
    call_id: null,
    action: {
      type: "capsule_unconfined_install",
      capsule_id: manifest.package.name,
      version: manifest.package.version,
      servers: manifest.mcp_servers.map((s) =>
        `${s.command} ${s.args.join(" ")}`
      ),
    },
    decision: "allowed",
    proof: { type: "operator", approved_by: approvedBy.slice(0, 200) },
    outcome: null,
  });
  return { approved_at: kernel.ports.clock.now(), audit_entry: entry.id };
}
