/**
 * Builds a `js` capsule: bundles a TypeScript entry and everything it imports
 * (`@astrid/sdk` included) into one ESM file with `deno bundle`, run as a
 * subprocess through the {@linkcode Spawner} port.
 *
 * @module
 */
import { throwIfAborted } from "../../../core/abort.ts";
import { KernelError } from "../../../core/errors.ts";
import type { FileSystem, Spawner } from "../../../core/ports.ts";
import { downloadError } from "../../tool_failure.ts";

/** What {@linkcode buildJsCapsule} needs from the host. */
export interface JsBuildDeps {
  /** Runs `deno bundle`. */
  readonly spawner: Spawner;
  /** Reads the bundle back. */
  readonly fs: Pick<FileSystem, "readFile">;
  /**
   * The running Deno and its tool environment: pass `denoToolchain(env)`
   * (`kernel/host/deno_toolchain.ts`), the one allow-list of what kernel
   * tool runs inherit (cache dir, certificates, proxies, registry). Nothing
   * else reaches the child; `NO_COLOR=1` is always added.
   */
  readonly toolchain: {
    readonly denoPath: string;
    readonly toolEnv: Readonly<Record<string, string>>;
  };
}

/** What to build. */
export interface JsBuildOptions {
  /** The capsule's TypeScript (or JavaScript) entry module. */
  readonly entry: string;
  /** Where the bundle is written. */
  readonly outFile: string;
  /** Working directory; config discovery (the workspace that maps `@astrid/sdk`) starts here. */
  readonly cwd?: string;
  /** An explicit `deno.json`. */
  readonly config?: string;
  /** Minify the bundle. Default `false`. */
  readonly minify?: boolean;
  /** Type-check while bundling. Default `false`. */
  readonly check?: boolean;
  /** Cancels the build (the child gets SIGTERM). */
  readonly signal?: AbortSignal;
}

/** A finished build. */
export interface JsBuildResult {
  /** Where the bundle was written. */
  readonly outFile: string;
  /** The bundle: one UTF-8 ESM file, ready for the js engine. */
  readonly artifact: Uint8Array;
}

const MAX_STDERR = 4_000;

/**
 * Bundles a capsule with `deno bundle --platform browser --format esm`. The
 * lock file is not consulted or written (`--no-lock`).
 *
 * @param deps Spawner, file reader and the toolchain (`deno` and its tool environment).
 * @param options Entry, output file, and build switches.
 * @returns The output path and the bundle's bytes.
 * @throws {KernelError} `CAPSULE_FAILED` when bundling fails (the message ends
 *   with Deno's diagnostics), `TOOL_DOWNLOAD` when the bundler needed a
 *   package it could not download (the message says which and how to
 *   pre-fetch it), `NOT_FOUND` when `deno` cannot be started,
 *   `HOST_IO` when the bundle cannot be read, `ABORTED` when cancelled.
 *
 * @example Bundle a capsule
 * ```ts
 * import { buildJsCapsule } from "./build.ts";
 * import {
 *   createDenoEnv, createDenoFs, createDenoSpawner, denoToolchain,
 * } from "../../../host/mod.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/main.ts`, "export const ping = (): string => 'pong';\n");
 * const { artifact } = await buildJsCapsule(
 *   { spawner: createDenoSpawner(), fs: createDenoFs(),
 *     toolchain: denoToolchain(createDenoEnv()) },
 *   { entry: `${dir}/main.ts`, outFile: `${dir}/out.js` },
 * );
 * console.assert(new TextDecoder().decode(artifact).includes("pong"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function buildJsCapsule(
  deps: JsBuildDeps,
  options: JsBuildOptions,
): Promise<JsBuildResult> {
  if (!options.entry || !options.outFile) {
    throw new TypeError("buildJsCapsule() needs an entry and an outFile");
  }
  throwIfAborted(options.signal, `building '${options.entry}'`);
  const args = [
    "bundle",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--no-lock",
    ...(options.config === undefined ? [] : ["--config", options.config]),
    ...(options.minify === true ? ["--minify"] : []),
    ...(options.check === true ? ["--check"] : []),
    "--output",
    options.outFile,
    options.entry,
  ];
  const out = await deps.spawner.output(deps.toolchain.denoPath, {
    args,
    env: { ...deps.toolchain.toolEnv, NO_COLOR: "1" },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    const download = downloadError(
      `Bundling capsule '${options.entry}'`,
      stderr,
      { entry: options.entry },
    );
    if (download) throw download;
    throw new KernelError(
      "CAPSULE_FAILED",
      `Cannot bundle capsule '${options.entry}': deno bundle exited with code ${out.code}: ${
        stderr.slice(-MAX_STDERR)
      }`,
      { data: { entry: options.entry, exit_code: out.code } },
    );
  }
  const artifact = await deps.fs.readFile(
    options.outFile,
    options.signal === undefined ? {} : { signal: options.signal },
  );
  return { outFile: options.outFile, artifact };
}
