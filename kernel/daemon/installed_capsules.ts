/**
 * The principal's installed capsules as management sees them: what is
 * installed (each record checked exactly as boot checks it: signed by the
 * runtime key, every pinned file matching its hash), the dependency tree the resolver
 * computes from them, and removal.
 *
 * Security model: the inventory admits a capsule through the same
 * `collectCapsuleDirs` boot uses, so a tampered or foreign record shows as
 * refused, never as installed. Removal is audited before the directory is
 * deleted (no audit entry, no removal) and refuses a capsule whose
 * interface another installed capsule needs, unless forced.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import { parseCapsuleId } from "../core/ids.ts";
import {
  collectCapsuleDirs,
  describe,
  type Refusal,
} from "../capsule/registry/collect_dirs.ts";
import { checkPinnedFiles } from "../capsule/manifest/pinned_files.ts";
import type { InstalledCapsuleDir } from "../capsule/manifest/load_capsule_dir.ts";
import { resolveCapsules } from "../capsule/resolver/resolve_capsules.ts";
import type { ResolveResult } from "../capsule/resolver/resolve_types.ts";
import { META_FILE, parseMeta } from "../capsule/manifest/capsule_meta.ts";
import {
  type InstallTrust,
  verifyInstallRecord,
} from "../capsule/manifest/install_record.ts";
import type { FileSystem, Logger } from "../core/ports.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";

/** The installed capsules of the kernel's principal. */
export interface InstalledInventory {
  /** Admitted capsules (record signed, files intact), by name. */
  readonly installed: readonly InstalledCapsuleDir[];
  /** Capsule directories that boot would refuse, and why. */
  readonly refused: readonly Refusal[];
}

/**
 * The principal's capsule directory.
 *
 * @param kernel The kernel.
 * @returns Its absolute path.
 */
export function capsulesRoot(kernel: KernelHandle): string {
  return kernel.home.home(kernel.principal).capsules;
}

/** What {@linkcode installedCapsulesIn} reads with (no store: a daemon may hold it). */
export interface InventoryDeps {
  readonly fs: FileSystem;
  readonly logger: Logger;
  /** The key install records must be signed with (the runtime key). */
  readonly trust: InstallTrust;
}

/**
 * Reads every installed capsule and checks it as boot does.
 *
 * @param kernel The kernel (file system, runtime key, home).
 * @returns Admitted and refused capsules.
 */
export function installedCapsules(
  kernel: KernelHandle,
): Promise<InstalledInventory> {
  return installedCapsulesIn({
    fs: kernel.ports.fs,
    logger: kernel.ports.logger,
    trust: {
      keyId: kernel.runtimeKey.keyId,
      publicKey: kernel.runtimeKey.publicKey,
    },
  }, capsulesRoot(kernel));
}

/**
 * {@linkcode installedCapsules} of a capsule directory, without a kernel:
 * records checked with the given key, every pinned file checked.
 *
 * @param deps File system, logger and the trusted key.
 * @param root The principal's capsule directory.
 * @returns Admitted and refused capsules.
 */
export async function installedCapsulesIn(
  deps: InventoryDeps,
  root: string,
): Promise<InstalledInventory> {
  const { dirs, refused } = await collectCapsuleDirs({
    fs: deps.fs,
    logger: deps.logger,
    kernelVersion: VERSION,
    trust: deps.trust,
  }, [root]);
  // Every pinned file is checked too, as a load does before the code runs.
  const installed: InstalledCapsuleDir[] = [];
  for (const dir of dirs) {
    try {
      await checkPinnedFiles(deps.fs, dir.dir, {
        manifest: dir.manifest,
        artifacts: dir.meta.artifacts,
      });
      // An installed root admits through `loadCapsuleDir`: a full signed record.
      installed.push(dir as InstalledCapsuleDir);
    } catch (err) {
      refused.push({
        capsule: dir.manifest.package.name,
        ...describe(err),
        dir: dir.dir,
      });
    }
  }
  return { installed, refused };
}

/**
 * The dependency resolution of the installed capsules: load order, refusals
 * and the tree `capsule tree` prints.
 *
 * @param inventory The installed capsules.
 * @returns What the resolver makes of them.
 */
export function installedTree(inventory: InstalledInventory): ResolveResult {
  return resolveCapsules(inventory.installed.map((c) => c.manifest));
}

/**
 * Finds an installed capsule's directory (whether boot admits it or not).
 *
 * @param kernel The kernel.
 * @param name The capsule name.
 * @returns Its directory.
 * @throws {KernelError} `INVALID_ID` for a malformed name,
 *   `CAPSULE_NOT_FOUND` when it is not installed.
 */
export async function installedDir(
  kernel: KernelHandle,
  name: string,
): Promise<string> {
  const id = parseCapsuleId(name);
  const dir = path.join(capsulesRoot(kernel), id);
  const info = await kernel.ports.fs.lstat(path.join(dir, "Capsule.toml"));
  if (info === null || !info.isFile) {
    throw new KernelError(
      "CAPSULE_NOT_FOUND",
      `Capsule '${id}' is not installed`,
      { data: { capsule: id } },
    );
  }
  return dir;
}

/**
 * Where an installed capsule was installed from: the `source` of its install
 * record, trusted only when the record is signed by the runtime key (its
 * files may have changed since: an update is how they are restored).
 *
 * @param kernel The kernel.
 * @param name The capsule name.
 * @returns The recorded source, or `null` when the record names none.
 * @throws {KernelError} `CAPSULE_NOT_FOUND`, `INVALID_ID`, `CAPSULE_INTEGRITY`
 *   (unreadable record, or not signed by this runtime's key).
 */
export async function recordedSource(
  kernel: KernelHandle,
  name: string,
): Promise<string | null> {
  const dir = await installedDir(kernel, name);
  const file = path.join(dir, META_FILE);
  const text = await kernel.ports.fs.readTextFile(file).catch((cause) => {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Capsule '${name}' has no readable install record; reinstall it`,
      { cause },
    );
  });
  const meta = parseMeta(text, file);
  await verifyInstallRecord(meta, {
    keyId: kernel.runtimeKey.keyId,
    publicKey: kernel.runtimeKey.publicKey,
  }, file);
  return meta.source ?? null;
}

/** Options of {@linkcode removeCapsule}. */
export interface RemoveCapsuleOptions {
  /** Remove even when another installed capsule imports only from it. */
  readonly force?: boolean;
  /** Who asked (audited); default `operator`. */
  readonly approvedBy?: string;
}

/**
 * Removes an installed capsule: refuses when it is the only exporter of an
 * interface another installed capsule requires (unless `force`), audits the
 * removal, then deletes its directory. Its configuration and KV state stay.
 *
 * @param kernel The kernel.
 * @param name The capsule name.
 * @param options Force, approver.
 * @returns The capsules that lose a required interface (empty unless forced).
 * @throws {KernelError} `CAPSULE_NOT_FOUND`, `INVALID_ID`,
 *   `CAPSULE_RESOLVE` when others need it, `AUDIT_FAILED`.
 */
export async function removeCapsule(
  kernel: KernelHandle,
  name: string,
  options: RemoveCapsuleOptions = {},
): Promise<{ dependents: CapsuleId[] }> {
  const dir = await installedDir(kernel, name);
  const id = name as CapsuleId;
  const inventory = await installedCapsules(kernel);
  const before = installedTree(inventory);
  const after = resolveCapsules(
    inventory.installed.filter((c) => c.manifest.package.name !== id).map((
      c,
    ) => c.manifest),
  );
  const loadedAfter = new Set(after.order);
  const dependents = before.order.filter((c) =>
    c !== id && !loadedAfter.has(c)
  );
  if (dependents.length > 0 && options.force !== true) {
    throw new KernelError(
      "CAPSULE_RESOLVE",
      `Cannot remove '${id}': ${dependents.join(", ")} ${
        dependents.length === 1 ? "needs" : "need"
      } an interface only it provides (remove ${
        dependents.length === 1 ? "that" : "those"
      } first, or force it)`,
      { data: { capsule: id, dependents } },
    );
  }
  await kernel.security.audit.append({
    principal: kernel.principal,
    session: null,
    capsule: id,
    call_id: null,
    action: { type: "capsule_remove", capsule_id: id, dependents } as never,
    decision: "allowed",
    proof: {
      type: "operator",
      approved_by: (options.approvedBy ?? "operator").slice(0, 200),
    },
    outcome: null,
  });
  await kernel.ports.fs.remove(dir, { recursive: true });
  return { dependents };
}
