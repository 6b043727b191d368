/**
 * What the host adapters' tests share: run a snippet in a fresh `deno eval`
 * process (no tests of its own), for what only a whole process shows — a
 * timer or listener that keeps it alive, a signal it sends itself.
 *
 * @module
 */

/** How the child exited and what it printed on stdout. */
export interface ChildExit {
  readonly code: number;
  readonly signal: string | null;
  readonly stdout: string;
}

/**
 * Runs `code` with `deno eval --no-check` (killed after 30 s).
 *
 * @param code The module source.
 * @param flags More `deno eval` flags (e.g. `--v8-flags=--expose-gc`).
 * @returns Its exit code, signal and stdout.
 */
export async function evalChild(
  code: string,
  flags: readonly string[] = [],
): Promise<ChildExit> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", ...flags, code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return {
    code: out.code,
    signal: out.signal,
    stdout: new TextDecoder().decode(out.stdout),
  };
}
