/**
 * What the runtime and MCP fixtures share: a real kernel in a throwaway home
 * and workspace, and pinning an installed capsule dir (no tests of its own).
 *
 * @module
 */
import * as path from "node:path";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { parseManifest } from "../kernel/capsule/manifest/parse_manifest.ts";
import {
  writeMeta,
  type WriteMetaOptions,
} from "../kernel/capsule/manifest/write_meta.ts";
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
 * @param options Temp dir prefix, more user-config TOML, file store.
 * @returns The kernel and its dirs; on failure the temp dir is removed.
 */
export async function startTestKernel(
  options: { prefix: string; config?: string; fileStore?: boolean },
): Promise<TestKernel> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: options.prefix }),
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
      `[workspace]\nmode = "autonomous"\n${options.config ?? ""}`,
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
 * Writes `Capsule.toml` into an installed capsule dir and pins it in
 * `meta.json`, as an install would.
 *
 * @param dir The capsule dir (its artifacts already written).
 * @param toml The manifest text.
 * @param meta More `meta.json` fields (e.g. `unconfined`).
 */
export async function pinCapsule(
  dir: string,
  toml: string,
  meta: Pick<WriteMetaOptions, "unconfined"> = {},
): Promise<void> {
  await Deno.writeTextFile(path.join(dir, "Capsule.toml"), toml);
  const parsed = parseManifest(toml, {
    file: path.join(dir, "Capsule.toml"),
    kernelVersion: VERSION,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  await writeMeta(createDenoFs(), {
    dir,
    manifest: parsed.value,
    now: 1,
    ...meta,
  });
}
