/**
 * Fetches, while online, everything a first run of this checkout downloads,
 * so that later runs work offline with the same `DENO_DIR`
 * (`deno task setup`):
 *
 * 1. the kernel's and the CLI's npm dependencies (`deno cache`);
 * 2. the capsule bundler's own package (`deno bundle` loads esbuild from npm
 *    on first use) — by bundling the demo capsule exactly as installs do;
 * 3. the AssemblyScript toolchain (npm) and the demo's wasm capsule.
 *
 * Every step runs as kernel tooling ({@linkcode denoToolchain}): the
 * documented tool environment and nothing else, like the real first run.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { buildJsCapsule } from "../capsule/engines/js/build.ts";
import { downloadError } from "../capsule/tool_failure.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { denoToolchain } from "../host/deno_toolchain.ts";

/** Progress of {@linkcode prefetch}. */
export interface PrefetchStep {
  /** What the step fetches. */
  readonly name: string;
  /** `start`, then `done` with its duration. */
  readonly phase: "start" | "done";
  /** Milliseconds the step took (on `done`). */
  readonly ms?: number;
}

/**
 * Runs the three pre-fetch steps of a source checkout.
 *
 * @param root The checkout's root (holds `deno.json`, `capsules/`, `scripts/`).
 * @param scratch An empty directory the bundle may be written to (the caller
 *   removes it).
 * @param onStep Progress callback.
 * @returns The Deno cache dir that was filled (`undefined`: Deno's default).
 * @throws {KernelError} `TOOL_DOWNLOAD` naming what could not be downloaded
 *   and why; `HOST_IO` when a step fails otherwise.
 */
export async function prefetch(
  root: string,
  scratch: string,
  onStep: (step: PrefetchStep) => void = () => {},
): Promise<string | undefined> {
  const toolchain = denoToolchain();
  const spawner = createDenoSpawner();
  const env = {
    ...toolchain.toolEnv,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  };
  const run = async (command: string, args: string[]): Promise<void> => {
    const out = await spawner.output(command, { args, cwd: root, env });
    if (out.success) return;
    const stderr = new TextDecoder().decode(out.stderr).trim();
    const what = `'${path.basename(command)} ${args[0]}'`;
    const download = downloadError(what, stderr);
    if (download) throw download;
    throw new KernelError(
      "HOST_IO",
      `${what} exited with code ${out.code}: ${stderr.slice(-2_000)}`,
    );
  };
  const step = async (name: string, fn: () => Promise<void>) => {
    const started = performance.now();
    onStep({ name, phase: "start" });
    await fn();
    onStep({ name, phase: "done", ms: performance.now() - started });
  };
  await step(
    "kernel and CLI dependencies (deno cache)",
    () =>
      run(toolchain.denoPath, [
        "cache",
        "mod.ts",
        "cli/main.ts",
        "kernel/capsule/engines/wasm/plugin_worker.ts",
      ]),
  );
  await step("capsule bundler (deno bundle, esbuild from npm)", async () => {
    await buildJsCapsule({ spawner, fs: createDenoFs(), toolchain }, {
      entry: path.join(root, "capsules/demo-notes/main.ts"),
      outFile: path.join(scratch, "capsule.js"),
      cwd: root,
    });
  });
  await step(
    "AssemblyScript toolchain and the demo wasm capsule (npm)",
    () => run("bash", [path.join(root, "scripts/build_wasm_fixtures.sh")]),
  );
  return toolchain.denoDir;
}
