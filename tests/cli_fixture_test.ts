/**
 * Runs the real `astrid` CLI as a subprocess, the way a user does: a fresh
 * process with a scrubbed environment (its own `HOME` and `ASTRID_HOME`), the
 * parent's Deno cache (so npm packages resolve offline), optional stdin.
 * Shared by every `tests/cli_*_test.ts`.
 *
 * @module
 */
import * as path from "node:path";
import { TOOL_ENV_NAMES } from "../kernel/host/deno_toolchain.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
/** `cli/main.ts`. */
export const CLI_MAIN: string = path.join(ROOT, "cli/main.ts");

/** The parent's Deno cache, handed to every child. */
export const DENO_DIR: string = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
    }).output()).stdout,
  ),
).denoDir as string;

/**
 * What a user's shell has besides the test's own `HOME` and `ASTRID_HOME`:
 * the machine's certificate, proxy and registry settings (the kernel
 * tooling allow-list), so a child that must download (a generated
 * capsule's first `deno test` on an empty cache) works behind a corporate
 * proxy or a private CA, as it would for the user.
 */
const MACHINE_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  TOOL_ENV_NAMES.filter((n) => !["HOME", "PATH", "DENO_DIR"].includes(n))
    .flatMap((n) => {
      const v = Deno.env.get(n);
      return v === undefined ? [] : [[n, v]];
    }),
);

/** What a run printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno <args>` with the scrubbed environment.
 *
 * @param args Deno's arguments.
 * @param options Working dir, extra environment (e.g. `HOME`,
 *   `ASTRID_HOME`), text for stdin.
 * @returns Exit code and output.
 */
export async function runDeno(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: {
      ...MACHINE_ENV,
      NO_COLOR: "1",
      DENO_DIR,
      DENO_NO_UPDATE_CHECK: "1",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...options.env,
    },
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** The permissions `deno task astrid` grants the CLI. */
export const CLI_PERMS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
];

/**
 * Runs `astrid <args>` (with the permissions `deno task astrid` grants).
 *
 * @param args The CLI's arguments.
 * @param options As {@linkcode runDeno}.
 * @returns Exit code and output.
 */
export function runAstrid(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  return runDeno(["run", ...CLI_PERMS, CLI_MAIN, ...args], options);
}
