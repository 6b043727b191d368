/**
 * The ONE bubblewrap (`bwrap`) argument builder of the kernel: MCP servers
 * that are not Deno programs, `process_spawn`, and the bubblewrap probe all
 * get their sandbox from {@linkcode bwrapArgs}.
 *
 * Security model: every namespace is unshared (user, pid, ipc, uts, cgroup
 * and, unless `net`, network), so the fresh `/proc` shows only the sandbox's
 * own processes — never `/proc/<kernel pid>/environ`; every capability is
 * dropped (`--cap-drop ALL`: a kernel running as root would otherwise hand
 * them to the child, which could then unmount the masks); bwrap sets
 * `no_new_privs`, starts a new session (no `TIOCSTI` into the kernel's
 * terminal) and dies with its parent. The file system is the host root
 * read-only, a fresh `/dev` and `/proc`, empty tmpfs masks over `/tmp`
 * (private, writable, discarded), `/run` (host sockets), every hidden dir
 * (`ASTRID_HOME`: keys, state, overlays, other capsules) and the workspace
 * (unless a read root covers it, or a `workspaceView` is bound over it). The
 * masks are mounted shallowest first, so a workspace under `/tmp` is bound
 * after the `/tmp` mask and stays visible. The environment is not built
 * here: the caller hands bwrap a scrubbed one (the Spawner never inherits).
 *
 * @module
 */
import { planSandboxMounts } from "./_mounts.ts";

/** What one sandbox contains and runs; every path absolute and normalised. */
export interface SandboxSpec {
  /** The program (a bare name is looked up on the sandbox's `PATH`). */
  readonly command: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** The working directory inside the sandbox. */
  readonly chdir: string;
  /** The workspace: masked, unless a read root covers it or a view is bound over it. */
  readonly workspace: string;
  /** Bound read-write over the workspace path (a spawned process's overlay view). */
  readonly workspaceView?: string;
  /** Roots readable although a mask covers them (granted roots, the capsule dir). */
  readonly readRoots?: readonly string[];
  /** The only writable host dir (an MCP server's scratch dir). */
  readonly writableDir?: string;
  /** Dirs shown empty (`ASTRID_HOME`); must exist, or bwrap fails (fail closed). */
  readonly hiddenDirs?: readonly string[];
  /** Roots whose granted parts may be bound back inside a hidden dir. */
  readonly revealable?: readonly string[];
  /** Share the host's network (bubblewrap cannot filter hosts). */
  readonly net?: boolean;
}

/**
 * Builds the `bwrap` arguments of one sandbox: namespaces, capabilities,
 * mounts (see the module's security model), `--chdir`, `--`, the command.
 *
 * @param spec What the sandbox contains and runs.
 * @returns The arguments after `bwrap`.
 * @throws {TypeError} When `writableDir` or a hidden dir is `/`, a hidden dir
 *   is `writableDir`, or a view is bound over `/`.
 *
 * @example A process that sees a view of its workspace but not the kernel's home
 * ```ts
 * import assert from "node:assert/strict";
 * import { bwrapArgs } from "./bwrap_args.ts";
 * const args = bwrapArgs({
 *   command: "cat",
 *   args: ["notes.md"],
 *   chdir: "/tmp/ws",
 *   workspace: "/tmp/ws",
 *   workspaceView: "/var/astrid/spawn/1/merged",
 *   hiddenDirs: ["/home/a/.astrid"],
 * });
 * assert.ok(args.includes("--unshare-all") && !args.includes("--share-net"));
 * // The view is bound after the private /tmp, so it is not hidden by it.
 * assert.ok(args.indexOf("/var/astrid/spawn/1/merged") > args.indexOf("/tmp"));
 * assert.deepEqual(args.slice(-3), ["--", "cat", "notes.md"]);
 * ```
 */
export function bwrapArgs(spec: SandboxSpec): string[] {
  const net = spec.net === true;
  const mounts = planSandboxMounts({
    readRoots: spec.readRoots ?? [],
    workspace: spec.workspace,
    ...(spec.writableDir === undefined
      ? {}
      : { writableDir: spec.writableDir }),
    ...(spec.workspaceView === undefined
      ? {}
      : { workspaceView: spec.workspaceView }),
    hiddenDirs: spec.hiddenDirs ?? [],
    revealable: spec.revealable ?? [],
    net,
  });
  return [
    "--unshare-all",
    ...(net ? ["--share-net"] : []),
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    ...mounts,
    "--chdir",
    spec.chdir,
    "--",
    spec.command,
    ...spec.args,
  ];
}
