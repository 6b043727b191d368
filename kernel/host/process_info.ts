/**
 * Facts about the running process that the daemon's status reports.
 *
 * @module
 */

/**
 * The process id and the Deno version.
 *
 * @returns `pid` (`null` where the platform has none) and `deno`.
 */
export function processFacts(): { pid: number | null; deno: string } {
  let pid: number | null = null;
  try {
    pid = typeof Deno.pid === "number" ? Deno.pid : null;
  } catch {
    pid = null;
  }
  return { pid, deno: Deno.version?.deno ?? "unknown" };
}

/**
 * Whether this process may start subprocesses: the blanket `--allow-run`, or
 * any of the named commands (e.g. `bwrap`, `deno`). Never throws: where
 * there are no permissions to ask (Deno Deploy) the answer is `false`.
 *
 * @param commands Commands of which one suffices.
 * @returns Whether subprocesses can run.
 */
export async function subprocessesPermitted(
  commands: readonly string[] = [],
): Promise<boolean> {
  try {
    const all = await Deno.permissions.query({ name: "run" });
    if (all.state === "granted") return true;
    for (const command of commands) {
      const one = await Deno.permissions.query({ name: "run", command });
      if (one.state === "granted") return true;
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * The path of the running Deno executable, or `undefined` where it is not
 * known (or reading it is not permitted).
 *
 * @returns The executable.
 */
export function denoExecutable(): string | undefined {
  try {
    return Deno.execPath();
  } catch {
    return undefined;
  }
}
