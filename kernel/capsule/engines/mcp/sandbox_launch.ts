/**
 * Derives the bubblewrap (`bwrap`) command line of an MCP server that is not
 * a Deno program — a Python script, a binary (issue 6, item 4). The sandbox
 * itself comes from the kernel's one builder, `kernel/capsule/sandbox`.
 *
 * Security model: the server runs in fresh user, pid, ipc, uts, cgroup and
 * (unless the manifest grants `net`) network namespaces, with every
 * capability dropped (`--cap-drop ALL`: a kernel running as root would
 * otherwise hand them to the child, which could then unmount the masks
 * below), `no_new_privs` (set by bwrap, so setuid binaries such as `sudo`
 * gain nothing; `sudo`, `su`, `doas`, `pkexec` and `runuser` are refused
 * outright), a new session (no `TIOCSTI` into the kernel's terminal) and
 * death with its parent. The file system is the host root mounted read-only,
 * a fresh `/dev` and `/proc` (the pid namespace hides every other process),
 * and empty tmpfs masks over: `/tmp` (private and writable, discarded on
 * exit), `/run` (host sockets such as Docker's or D-Bus stay unreachable:
 * `connect()` works on read-only mounts), the workspace (unless a read grant
 * covers it: un-granted workspace files stay unreadable, as with Deno flags)
 * and every `hiddenDirs` entry (the kernel's home with its keys). Granted
 * read and write roots under a mask and the capsule dir are bound back
 * read-only; inside a hidden dir only the capsule dir and granted parts of
 * the principal home are, so no grant reveals e.g. the keys dir.
 * The only writable host dir is `writableDir`, the server's scratch dir:
 * `fs_write` roots are NOT writable, because Astrid's workspace writes go
 * through the session overlay, and a writable bind would bypass it. The
 * environment is the granted names plus `PATH` (fixed), `HOME` and `TMPDIR`
 * (both `writableDir`), and the `PWD` bwrap sets; it is handed to `bwrap` as
 * its own environment (the Spawner never inherits one), never as `--setenv`
 * arguments, which would show secrets in the host's `ps`.
 * Bubblewrap cannot filter hosts: any `net` grant shares the host's whole
 * network, loopback included, and the launch carries a `warning`.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import {
  grantedEnvNames,
  grantedHosts,
  grantedRoots,
  type LaunchGrants,
  type McpServerCommand,
} from "./launch_flags.ts";
import { bwrapArgs } from "../../sandbox/bwrap_args.ts";
import { SANDBOX_PATH } from "../../sandbox/sandbox_env.ts";

export { SANDBOX_PATH };

const PRIVILEGE_TOOLS = new Set(["sudo", "su", "doas", "pkexec", "runuser"]);

/** Options of {@linkcode sandboxLaunchArgs}. */
export interface SandboxOptions {
  /** The `bwrap` executable, or `null` when bubblewrap is not usable here. */
  readonly bwrapPath: string | null;
  /** The capsule's absolute directory: readable, and the server's cwd. */
  readonly capsuleDir: string;
  /** The absolute workspace root (`cwd://`, `*`); must exist; hidden unless granted. */
  readonly workspace: string;
  /** The only writable dir (absolute; created by the caller before launch). */
  readonly writableDir: string;
  /** The absolute principal home (`home://`); such entries are dropped when absent. */
  readonly principalHome?: string;
  /** Values for the env names the manifest grants; names not granted are ignored. */
  readonly envValues?: Readonly<Record<string, string>>;
  /** The operator installed the capsule `unconfined` and approved that. */
  readonly unconfined?: boolean;
  /**
   * Absolute dirs shown as empty read-only dirs (e.g. `ASTRID_HOME`); they
   * must exist, or bwrap fails to start (fail closed).
   */
  readonly hiddenDirs?: readonly string[];
}

/** The result of {@linkcode sandboxLaunchArgs}. */
export type SandboxLaunch =
  | {
    /** Run `bwrap` with these arguments; the server is its last part. */
    readonly kind: "bwrap";
    /** The `bwrap` executable. */
    readonly command: string;
    /** Sandbox options, `--`, the server's command and its arguments. */
    readonly args: readonly string[];
    /** The complete environment, for `bwrap` and through it the server. */
    readonly env: Readonly<Record<string, string>>;
    /** The capsule dir (also the cwd inside the sandbox). */
    readonly cwd: string;
    /** Set when the confinement is weaker than the manifest (net grants). */
    readonly warning?: string;
  }
  | {
    /** No bubblewrap: the operator-approved unconfined launch. */
    readonly kind: "unconfined";
    /** The server's command. */
    readonly command: string;
    /** The server's arguments. */
    readonly args: readonly string[];
    /** The scrubbed environment. */
    readonly env: Readonly<Record<string, string>>;
    /** The capsule dir. */
    readonly cwd: string;
    /** Always set: the server runs without any confinement. */
    readonly warning?: string;
  };

function invalid(message: string, data?: Record<string, unknown>): KernelError {
  return new KernelError("MANIFEST_INVALID", message, data ? { data } : {});
}

function absolute(value: string, name: string): string {
  if (!path.posix.isAbsolute(value)) {
    throw new TypeError(`${name} must be an absolute path, got '${value}'`);
  }
  const clean = path.posix.normalize(value);
  return clean.length > 1 ? clean.replace(/\/+$/, "") : clean;
}

function resolveCommand(command: string, capsuleDir: string): string {
  if (command === "" || command.includes("\0") || command.startsWith("-")) {
    throw invalid(`Cannot launch '${command}' as it is not a command name`, {
      command,
    });
  }
  if (PRIVILEGE_TOOLS.has(path.posix.basename(command))) {
    throw invalid(
      `Cannot launch '${command}' as it changes privileges; an MCP server runs with the capsule's grants only`,
      { command },
    );
  }
  if (path.posix.isAbsolute(command)) return path.posix.normalize(command);
  if (!command.includes("/")) return command;
  const abs = path.posix.resolve(capsuleDir, command);
  const rel = path.posix.relative(capsuleDir, abs);
  if (rel === "" || rel.startsWith("..") || path.posix.isAbsolute(rel)) {
    throw invalid(
      `Cannot launch '${command}' as it lies outside the capsule dir`,
      { command },
    );
  }
  return abs;
}

function scrubbedEnv(
  grants: LaunchGrants,
  writableDir: string,
  values: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of grantedEnvNames(grants)) {
    const value = values?.[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH = SANDBOX_PATH;
  env.HOME = writableDir;
  env.TMPDIR = writableDir;
  return env;
}

/**
 * Builds the bubblewrap command line, environment and cwd of an MCP server
 * that is not a Deno program; see the module's security model for what the
 * sandbox contains. A bare command name is looked up on {@linkcode SANDBOX_PATH}
 * inside the sandbox, a relative one (`./server.py`) in the capsule dir, an
 * absolute one as is. `PATH`, `HOME` and `TMPDIR` are always the sandbox's,
 * even when granted. Without bubblewrap the launch is refused unless the
 * capsule is `unconfined`: then the command runs as is, with the scrubbed
 * environment, and a `warning`. With bubblewrap the sandbox is used even for
 * an `unconfined` capsule.
 *
 * @param server The `[[mcp_server]]` command and args.
 * @param grants The manifest grants (`fs_read`, `fs_write`, `net`, `env`).
 * @param options Paths, bubblewrap, env values, hidden dirs.
 * @returns The `bwrap` launch, or the `unconfined` one.
 * @throws {KernelError} `HOST_PERMISSION_DENIED` when bubblewrap is not
 *   available and the capsule is not `unconfined`; `MANIFEST_INVALID` for a
 *   privilege-changing or out-of-capsule command, or a malformed or reserved
 *   path/host/env grant.
 * @throws {TypeError} When a path option is not absolute, `writableDir` is
 *   `/`, or a hidden dir is `/` or `writableDir`.
 *
 * @example Confine a Python server without network
 * ```ts
 * import assert from "node:assert/strict";
 * import { sandboxLaunchArgs } from "./sandbox_launch.ts";
 * const launch = sandboxLaunchArgs(
 *   { command: "python3", args: ["server.py"] },
 *   { fs_read: ["cwd://docs"], fs_write: [], net: [], env: ["API_URL"] },
 *   {
 *     bwrapPath: "/usr/bin/bwrap",
 *     capsuleDir: "/caps/py",
 *     workspace: "/ws",
 *     writableDir: "/scratch/py",
 *     envValues: { API_URL: "https://x", SECRET: "no" },
 *   },
 * );
 * assert.equal(launch.kind, "bwrap");
 * assert.ok(!launch.args.includes("--share-net"));
 * assert.deepEqual(launch.args.slice(-3), ["--", "python3", "server.py"]);
 * assert.deepEqual(launch.env, {
 *   API_URL: "https://x", PATH: "/usr/local/bin:/usr/bin:/bin",
 *   HOME: "/scratch/py", TMPDIR: "/scratch/py",
 * });
 * ```
 */
export function sandboxLaunchArgs(
  server: McpServerCommand,
  grants: LaunchGrants,
  options: SandboxOptions,
): SandboxLaunch {
  const capsuleDir = absolute(options.capsuleDir, "capsuleDir");
  const workspace = absolute(options.workspace, "workspace");
  const writableDir = absolute(options.writableDir, "writableDir");
  const principalHome = options.principalHome === undefined
    ? undefined
    : absolute(options.principalHome, "principalHome");
  const hidden = (options.hiddenDirs ?? []).map((d) =>
    absolute(d, "hiddenDirs")
  );
  const command = resolveCommand(server.command, capsuleDir);
  const roots = grantedRoots(grants, {
    capsuleDir,
    workspace,
    ...(principalHome === undefined ? {} : { principalHome }),
  });
  const hosts = grantedHosts(grants);
  const net = grants.net.length > 0;
  const env = scrubbedEnv(grants, writableDir, options.envValues);
  if (options.bwrapPath === null) {
    if (options.unconfined !== true) {
      throw new KernelError(
        "HOST_PERMISSION_DENIED",
        `Cannot start MCP server '${server.command}' as it is not a Deno program and bubblewrap is not available to confine it; install bubblewrap (Debian: apt-get install bubblewrap) or reinstall the capsule as unconfined`,
        { data: { command: server.command } },
      );
    }
    return {
      kind: "unconfined",
      command,
      args: [...server.args],
      env,
      cwd: capsuleDir,
      warning:
        `MCP server '${server.command}' runs unconfined (operator-approved): no namespaces, full host file system and network`,
    };
  }
  const args = bwrapArgs({
    command,
    args: server.args,
    chdir: capsuleDir,
    workspace,
    readRoots: [...roots.read, ...roots.write],
    writableDir,
    hiddenDirs: hidden,
    revealable: principalHome === undefined
      ? [capsuleDir]
      : [capsuleDir, principalHome],
    net,
  });
  const shown = hosts.length > 0 ? hosts.join(", ") : "*";
  return {
    kind: "bwrap",
    command: options.bwrapPath,
    args,
    env,
    cwd: capsuleDir,
    ...(net
      ? {
        warning:
          `MCP server '${server.command}' gets the host's whole network (granted: ${shown}): bubblewrap cannot filter hosts`,
      }
      : {}),
  };
}
