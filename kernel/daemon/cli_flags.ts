/**
 * The Deno flags the installed `astrid` CLI runs under (`deno task install`
 * writes them into the `deno install -g` shim), each with its reason.
 *
 * The CLI acts for the user wherever the user points it — `capsule new`,
 * `build` and `install` in any directory, `--workspace`, `audit export
 * --file`, `--url` to any headless server, `npm:` capsule sources, config
 * `${VAR}` references to any variable — so read, write, net and env stay
 * open; what is narrowed is what it may execute (`deno`, bubblewrap,
 * `unshare`, and `npm`/`node` for the AssemblyScript toolchain of wasm
 * capsule builds) and everything else (no FFI, no `--allow-sys`, no remote
 * imports, no prompts). The daemon it starts gets its own, much narrower
 * flags (`deno_flags.ts`): a child process never inherits its parent's.
 *
 * @module
 */
import { BWRAP_CANDIDATES } from "../capsule/sandbox/find_bwrap.ts";
import { UNSHARE_PATH } from "../capsule/sandbox/sandbox_env.ts";
import { allowFlag, type FlagEntry, FlagList } from "./deno_flag_list.ts";

/** The CLI's flags and why. */
export interface CliFlags {
  /** The `deno run` / `deno install` permission flags. */
  readonly args: string[];
  /** What `--allow-run` lists, with reasons. */
  readonly run: readonly FlagEntry[];
  /** Why read, write, net and env are not narrowed. */
  readonly open: Readonly<Record<"read" | "write" | "net" | "env", string>>;
}

/**
 * Computes the CLI's flags.
 *
 * @param denoPath The canonical `deno` executable (`Deno.execPath()`): Deno
 *   matches `--allow-run` by the exact path spawned, and the kernel spawns
 *   this one (the PATH name `deno` is listed too).
 * @returns The flags.
 * @throws {KernelError} `CONFIG_INVALID` when `denoPath` has a comma.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cliFlags } from "./cli_flags.ts";
 * const f = cliFlags("/usr/bin/deno");
 * assert.ok(f.args.includes("--no-prompt"));
 * assert.ok(!f.args.some((a) => a.startsWith("--allow-ffi") || a === "-A"));
 * ```
 */
export function cliFlags(denoPath: string): CliFlags {
  const run = new FlagList();
  run.add(
    denoPath,
    "the running deno: starts the daemon and bundles capsules (deno bundle)",
    "the running deno",
  );
  run.add("deno", "deno by name, as found on PATH", "the CLI");
  for (const b of BWRAP_CANDIDATES) {
    run.add(
      b,
      "bubblewrap candidates probed by astrid doctor and in-process kernels",
      "the CLI",
    );
  }
  run.add(
    UNSHARE_PATH,
    "the overlay line of spawned processes in in-process kernels",
    "the CLI",
  );
  run.add(
    "npm",
    "installs the AssemblyScript toolchain of a wasm capsule build",
    "the CLI",
  );
  run.add("node", "runs the AssemblyScript compiler (asc)", "the CLI");
  const entries = run.entries();
  return {
    args: [
      "--no-prompt",
      "--deny-import",
      // Command modules load when their command runs: a client command
      // starts without loading the kernel (`cli/main.ts`).
      "--unstable-lazy-dynamic-imports",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      ...allowFlag("run", entries),
    ],
    run: entries,
    open: {
      read:
        "capsule sources, workspaces and export files are wherever the user names them",
      write:
        "capsule new/build write into the user's directories; ASTRID_HOME; audit export --file",
      net:
        "--url reaches any headless server; npm: capsule sources; the in-process agent's provider; mcp serve --http listens (loopback unless --host)",
      env:
        "the daemon is started with the user's environment and the config may reference any ${VAR}",
    },
  };
}
