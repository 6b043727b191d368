/**
 * Boot's first step: finds the capsule directories under each root and
 * admits them — an installed capsule when its signed install record verifies
 * (`loadCapsuleDir`), a workspace capsule when the operator approved the
 * record the kernel computed for it (`CapsuleConsent`). Everything else is a
 * refusal with its code and reason.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { FileSystem, Logger } from "../../core/ports.ts";
import {
  type CapsuleDir,
  loadCapsuleDir,
} from "../manifest/load_capsule_dir.ts";
import type { InstallTrust } from "../manifest/install_record.ts";
import type { CapsuleConsent } from "./workspace_consent.ts";
import { readWorkspaceCapsule } from "./workspace_capsule.ts";
import { discoverCapsuleDirs } from "./discover.ts";

/** A directory to scan: a plain string is the principal's (installed) capsule dir. */
export type BootRoot = string | {
  readonly dir: string;
  /** `installed`: signed install records; `workspace`: operator consent. */
  readonly kind: "installed" | "workspace";
};

/** One refused capsule. */
export interface Refusal {
  readonly capsule: string;
  readonly code: string;
  readonly reason: string;
  /** The capsule directory, when known. */
  readonly dir?: string;
}

/** What {@linkcode collectCapsuleDirs} needs. */
export interface CollectDeps {
  readonly fs: FileSystem;
  readonly logger: Logger;
  readonly kernelVersion: string;
  readonly trust: InstallTrust;
  readonly consent?: CapsuleConsent;
}

/**
 * Finds and admits the capsule directories of every root, in order.
 *
 * @param d File system, logger, kernel version, trust and consent.
 * @param roots The roots, in priority order.
 * @returns The admitted directories and the refusals.
 */
export async function collectCapsuleDirs(
  d: CollectDeps,
  roots: readonly BootRoot[],
): Promise<{ dirs: CapsuleDir[]; refused: Refusal[] }> {
  const refused: Refusal[] = [];
  const dirs: CapsuleDir[] = [];
  for (const root of roots) {
    const { dir: rootDir, kind } = typeof root === "string"
      ? { dir: root, kind: "installed" as const }
      : root;
    const found = await discoverCapsuleDirs(d.fs, [rootDir]);
    // Installed capsules are checked all at once (reading and hashing their
    // files); workspace ones one by one, as each may ask the human.
    const loaded = kind === "installed"
      ? await Promise.all(
        found.map((dir) =>
          settle(() =>
            loadCapsuleDir(d.fs, dir, {
              kernelVersion: d.kernelVersion,
              trust: d.trust,
            })
          )
        ),
      )
      : [];
    for (const [i, dir] of found.entries()) {
      const result = kind === "installed"
        ? loaded[i]!
        : await settle(() => consented(d, dir, dirs));
      if (result.ok) {
        if (result.value !== null) dirs.push(result.value);
      } else {
        refused.push({
          capsule: dir.split("/").pop() ?? dir,
          ...describe(result.error),
          dir,
        });
      }
    }
  }
  return { dirs, refused };
}

/** A workspace capsule the operator approved; `null` when an installed one of the same name wins. */
async function consented(
  d: CollectDeps,
  dir: string,
  earlier: readonly CapsuleDir[],
): Promise<CapsuleDir | null> {
  const candidate = await readWorkspaceCapsule(d.fs, dir, {
    kernelVersion: d.kernelVersion,
  });
  const name = candidate.manifest.package.name;
  if (earlier.some((c) => c.manifest.package.name === name)) {
    d.logger.log(
      "info",
      `workspace capsule '${name}' at ${dir} is shadowed by the installed one`,
      { capsule: name },
    );
    return null;
  }
  if (d.consent === undefined) {
    throw new KernelError(
      "APPROVAL_DEFERRED",
      `Cannot load workspace capsule '${name}' from ${dir}: no operator consent is configured, so workspace capsules never load`,
      { data: { capsule: name, dir } },
    );
  }
  const verdict = await d.consent.approve(candidate);
  if (!verdict.ok) {
    throw new KernelError(verdict.code, verdict.reason, {
      data: { capsule: name, dir, record_hash: candidate.hash },
    });
  }
  return {
    dir,
    manifest: candidate.manifest,
    meta: candidate.meta,
    origin: "workspace",
  };
}

/**
 * The code and message of an error, for a refusal.
 *
 * @param err What was thrown.
 * @returns `{code, reason}` (`INTERNAL` for a non-kernel error).
 */
export function describe(err: unknown): { code: string; reason: string } {
  return KernelError.is(err)
    ? { code: err.code, reason: err.message }
    : { code: "INTERNAL", reason: String(err) };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function settle<T>(fn: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
