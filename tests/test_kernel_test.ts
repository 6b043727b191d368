/**
 * What the runtime and MCP fixtures share: a real kernel in a throwaway home
 * and workspace, and pinning an installed capsule dir (no tests of its own).
 *
 * @module
 */
import * as path from "node:path";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { parseManifest } from "../kernel/capsule/manifest/parse_manifest.ts";
import { recordInstall } from "../kernel/daemon/install.ts";
import { type KernelHandle, startKernel } from "../kernel/daemon/boot.ts";
import { VERSION } from "../version.ts";

/** A kernel in a temp dir. */
export interface TestKernel {
  /** The temp dir holding `astrid/` and `ws/`. */
  readonly root: string;
  /** `ASTRID_HOME`. */
  readonly home: string;
  /** The workspace (canonical). */
  readonly workspace: string;
  readonly kernel: KernelHandle;
  readonly logger: MemoryLogger;
}

/**
 * Boots a real kernel (in-memory store unless `fileStore`) whose workspace
 * runs in `autonomous` mode.
 *
 * @param options Temp dir prefix, more user-config TOML, file store, and
 *   `tempBase`: where the temp dir goes (default the system's; paths under
 *   `/tmp` are the guest's private tmp, so tests that name host paths of the
 *   home use `/var/tmp`).
 * @returns The kernel and its dirs; on failure the temp dir is removed.
 */
export async function startTestKernel(
  options: {
    prefix: string;
    config?: string;
    /** The workspace mode of the user layer (default `autonomous`). */
    mode?: "safe" | "guided" | "autonomous" | "yolo";
    fileStore?: boolean;
    tempBase?: string;
  },
): Promise<TestKernel> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({
      prefix: options.prefix,
      ...(options.tempBase ? { dir: options.tempBase } : {}),
    }),
  );
  const home = path.join(root, "astrid");
  const workspace = path.join(root, "ws");
  try {
    await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
    await Deno.chmod(home, 0o700);
    await Deno.mkdir(workspace);
    // The user layer may set the mode (a workspace file may only tighten it).
    await Deno.writeTextFile(
      path.join(home, "etc", "config.toml"),
      `[workspace]\nmode = "${options.mode ?? "autonomous"}"\n${
        options.config ?? ""
      }`,
    );
    const logger = new MemoryLogger();
    const kernel = await startKernel({
      env: new MemoryEnv({ ASTRID_HOME: home, HOME: root }),
      workspace,
      ignoreSystemConfig: true,
      inMemoryStore: !options.fileStore,
      logger,
    });
    return { root, home, workspace, kernel, logger };
  } catch (err) {
    await Deno.remove(root, { recursive: true });
    throw err;
  }
}

/**
 * Writes `Capsule.toml` into an installed capsule dir and records the
 * install as `capsule install` does: pins, audited approval, `meta.json`
 * signed with the kernel's runtime key.
 *
 * @param kernel The kernel whose key signs the record.
 * @param dir The capsule dir (its artifacts already written).
 * @param toml The manifest text.
 * @param meta `unconfined`: the operator approved running it unconfined.
 */
export async function pinCapsule(
  kernel: KernelHandle,
  dir: string,
  toml: string,
  meta: { unconfined?: boolean } = {},
): Promise<void> {
  await Deno.writeTextFile(path.join(dir, "Capsule.toml"), toml);
  const parsed = parseManifest(toml, {
    file: path.join(dir, "Capsule.toml"),
    kernelVersion: VERSION,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  await recordInstall(kernel, {
    dir,
    manifest: parsed.value,
    approvedBy: "test",
    unconfined: meta.unconfined === true,
  });
}
