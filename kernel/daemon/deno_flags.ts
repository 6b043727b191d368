/**
 * TEMPORARY: the Deno flags of the daemon process. Another engineer writes
 * the scoped version (read/write only the home, roots and cache; net only
 * granted hosts; ...); the lead takes theirs at merge. This one grants the
 * blanket permissions every task uses today.
 *
 * @module
 */

/**
 * TEMPORARY: blanket permissions plus the unstable features the kernel needs.
 *
 * @param input The home, the workspace roots, the daemon's environment.
 * @returns The flags to put before the script.
 */
export function daemonFlags(input: {
  homeRoot: string;
  roots: readonly string[];
  env: Readonly<Record<string, string>>;
}): Promise<{ args: string[] }> {
  void input;
  return Promise.resolve({
    args: [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-run",
      "--unstable-kv",
      "--unstable-worker-options",
      "--no-prompt",
    ],
  });
}
