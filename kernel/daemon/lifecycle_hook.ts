/**
 * Lifecycle hooks: after a capsule's files are installed, its `install`
 * action runs (or `upgrade`, with `{from}`, when an older version was
 * installed) — the actions `defineCapsule({ install, upgrade })` generates.
 * The hook runs in a runtime of its own with the real store (so KV written
 * at install survives, unlike 0.5's throw-away state), the capsule's
 * granted host calls through the gate, and the frontend's elicitation
 * handler (a hook may ask the user for its `[env]` values and secrets). A
 * capsule without the action is skipped. A hook that fails aborts the
 * install: the new files are removed and the previous version restored.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { ElicitHandler } from "../abi/ports.ts";
import { loadCapsuleDir } from "../capsule/manifest/load_capsule_dir.ts";
import { META_FILE } from "../capsule/manifest/capsule_meta.ts";
import { VERSION } from "../../version.ts";
import type { KernelHandle } from "./boot.ts";
import { startRuntime } from "./runtime.ts";

/** Options of {@linkcode runLifecycleHook}. */
export interface LifecycleHookOptions {
  /** The installed capsule directory. */
  readonly dir: string;
  /** `install`, or `upgrade` from an older version. */
  readonly phase: "install" | "upgrade";
  /** The version being upgraded from. */
  readonly from?: string;
  /** The workspace the hook's file calls see (default: the kernel's cwd). */
  readonly workspace: string;
  /** Who answers the hook's questions. */
  readonly elicit?: ElicitHandler;
}

/**
 * Runs a capsule's lifecycle hook.
 *
 * @param kernel The kernel the capsule was installed into.
 * @param options Directory, phase, workspace, elicitation.
 * @returns `ran` or `absent` (the capsule defines no such action, or has no code).
 * @throws {KernelError} What the hook throws (e.g. `CAPSULE_FAILED`), or
 *   `CAPSULE_INTEGRITY` when the installed files do not verify.
 */
export async function runLifecycleHook(
  kernel: KernelHandle,
  options: LifecycleHookOptions,
): Promise<"ran" | "absent"> {
  const fs = kernel.ports.fs;
  const loaded = await loadCapsuleDir(fs, options.dir, {
    kernelVersion: VERSION,
    trust: {
      keyId: kernel.runtimeKey.keyId,
      publicKey: kernel.runtimeKey.publicKey,
    },
  });
  const component = loaded.manifest.component;
  if (component === null) return "absent";
  await using runtime = await startRuntime(kernel, {
    workspace: options.workspace,
    ...(options.elicit ? { elicit: options.elicit } : {}),
  });
  await runtime.registry.load(loaded);
  const id = loaded.manifest.package.name as CapsuleId;
  try {
    await runtime.registry.invoke(
      id,
      options.phase,
      options.phase === "upgrade" ? { from: options.from ?? "" } : {},
    );
    return "ran";
  } catch (err) {
    if (KernelError.is(err, "CAPSULE_NOT_FOUND")) return "absent";
    throw err;
  }
}

/**
 * Installs with a lifecycle hook: keeps the previous version aside, installs,
 * runs `install` / `upgrade`, and on a failed hook removes the new files and
 * puts the previous version back.
 *
 * @param kernel The kernel.
 * @param target Where the capsule is installed (`home/<p>/.local/capsules/<name>`).
 * @param install Writes the new version into `target` and returns its version.
 * @param hook Runs the hook (phase, previous version).
 * @returns What `install` returned, and whether a hook ran.
 * @throws {KernelError} What `install` or the hook throws (after the rollback).
 */
export async function installWithHook<T extends { version: string }>(
  kernel: KernelHandle,
  target: string,
  install: () => Promise<T>,
  hook: (
    phase: "install" | "upgrade",
    from: string | undefined,
  ) => Promise<"ran" | "absent">,
): Promise<T & { hook: "ran" | "absent" }> {
  const fs = kernel.ports.fs;
  const previous = await installedVersion(fs, target);
  const backup = `${target}.bak`;
  if (previous !== undefined) {
    await fs.remove(backup, { recursive: true }).catch(() => {});
    await fs.rename(target, backup);
    // The previous record stays in place for the new one to keep its
    // `installed_at` (the record is re-signed; it is never trusted for more).
    const record = await fs.readFile(path.join(backup, META_FILE)).catch(
      () => null,
    );
    if (record !== null) {
      await fs.mkdir(target, { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(target, META_FILE), record, {
        mode: 0o600,
      });
    }
  }
  try {
    const result = await install();
    const ran = await hook(
      previous === undefined ? "install" : "upgrade",
      previous,
    );
    if (previous !== undefined) await fs.remove(backup, { recursive: true });
    return { ...result, hook: ran };
  } catch (err) {
    await fs.remove(target, { recursive: true }).catch(() => {});
    if (previous !== undefined) await fs.rename(backup, target);
    throw err;
  }
}

async function installedVersion(
  fs: KernelHandle["ports"]["fs"],
  dir: string,
): Promise<string | undefined> {
  try {
    const text = await fs.readTextFile(path.join(dir, "Capsule.toml"));
    return /^\s*version\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? "";
  } catch {
    return undefined;
  }
}
