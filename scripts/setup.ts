// deno-lint-ignore-file no-console -- a setup script reports progress on the terminal
/**
 * `deno task setup`: fetches, while online, everything Astrid's first run
 * downloads, so that later runs work offline (same `DENO_DIR`):
 *
 * 1. the kernel's and the CLI's npm dependencies (`deno cache`);
 * 2. the capsule bundler's own package (`deno bundle` loads esbuild from npm
 *    on first use) — by bundling the demo capsule exactly as
 *    `astrid capsule build` does, through the kernel's tool environment;
 * 3. the AssemblyScript toolchain (npm) and the demo's wasm capsule.
 *
 * Every step prints what it does and how long it took; a failed download says
 * what was being fetched and why.
 *
 * @module
 */
import * as path from "node:path";
import { buildJsCapsule } from "../kernel/capsule/engines/js/build.ts";
import { KernelError } from "../kernel/core/errors.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { denoToolchain } from "../kernel/host/deno_toolchain.ts";
import {
  downloadHint,
  failedDownload,
} from "../kernel/capsule/tool_failure.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
const toolchain = denoToolchain();

async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: { ...toolchain.toolEnv, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    const download = failedDownload(stderr);
    throw new KernelError(
      download ? "TOOL_DOWNLOAD" : "HOST_IO",
      download
        ? downloadHint(`'${path.basename(command)} ${args[0]}'`, download)
        : `'${path.basename(command)} ${
          args.join(" ")
        }' exited with code ${out.code}: ${stderr.slice(-2_000)}`,
    );
  }
}

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  const started = performance.now();
  console.log(`setup: ${name} …`);
  await fn();
  console.log(
    `setup: ${name}: done in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
}

try {
  console.log(
    `setup: Deno cache: ${toolchain.denoDir ?? "(Deno's default)"}`,
  );
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
    const dir = await Deno.makeTempDir({ prefix: "astrid-setup-" });
    try {
      await buildJsCapsule({
        spawner: createDenoSpawner(),
        fs: createDenoFs(),
        toolchain,
      }, {
        entry: path.join(ROOT, "capsules/demo-notes/main.ts"),
        outFile: path.join(dir, "capsule.js"),
        cwd: ROOT,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await step(
    "AssemblyScript toolchain and the demo wasm capsule (npm)",
    () => run("bash", [path.join(ROOT, "scripts/build_wasm_fixtures.sh")]),
  );
  console.log("setup: everything the first run needs is cached");
} catch (err) {
  const e = err instanceof KernelError ? err : undefined;
  console.error(
    e ? `error[${e.code}]: ${e.message}` : `error: ${String(err)}`,
  );
  Deno.exit(1);
}
