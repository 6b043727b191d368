/**
 * Derives the `deno run` command line of an MCP server from its capsule's
 * manifest grants (issue 6, item 2).
 *
 * Security model: a Deno script or `npm:` package runs as
 * `deno run --no-prompt --deny-import --no-config`, so nothing is granted
 * unless listed and remote imports (an exfiltration channel even without
 * `--allow-net`) are refused. In `flags` mode every `--allow-*` flag carries an
 * explicit list (`--allow-read`, `--allow-write`, `--allow-net`,
 * `--allow-env`); an empty list omits the flag, never a bare flag. `run`,
 * `ffi`, `sys`, `-A` and `--allow-all` are never emitted, and the server's own
 * Deno flags are refused, so a manifest cannot smuggle them in. In `broker`
 * mode no `--allow-*` flag is passed: the kernel's permission broker decides.
 * List entries containing `,` (Deno's separator) are refused. The child's
 * environment is scrubbed to the names the manifest grants plus
 * `DENO_NO_UPDATE_CHECK`, `NO_COLOR` and the caller's `DENO_DIR`; names that
 * steer Deno itself (`DENO_*`, `LD_*`, `NPM_CONFIG_*`) are refused, since e.g.
 * `DENO_PERMISSION_BROKER_PATH` would hand permission decisions to the
 * capsule. Other commands are not run here: they get `needs_sandbox`.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleGrants } from "../../../security/manifest_grant.ts";

/** The parts of a `[[mcp_server]]` entry the launcher reads. */
export interface McpServerCommand {
  /** `deno`, a script path (`./server.ts`), an `npm:` specifier, or `npx`. */
  readonly command: string;
  /** Arguments; for `deno` they start with `run`. */
  readonly args: readonly string[];
}

/** The manifest grants the launcher reads (a subset of {@linkcode CapsuleGrants}). */
export type LaunchGrants = Pick<
  CapsuleGrants,
  "fs_read" | "fs_write" | "net" | "env"
>;

/** Options of {@linkcode denoLaunchArgs}. */
export interface LaunchOptions {
  /** The absolute path of the `deno` executable. */
  readonly denoPath: string;
  /** The capsule's absolute directory: readable, and the child's cwd. */
  readonly capsuleDir: string;
  /** The absolute workspace root (`cwd://`, `*`). */
  readonly workspace: string;
  /** The absolute principal home (`home://`); such entries are dropped when absent. */
  readonly principalHome?: string;
  /** `flags`: `--allow-*` lists; `broker`: no `--allow-*`, the broker decides. */
  readonly mode: "flags" | "broker";
  /** Values for the env names the manifest grants; names not granted are ignored. */
  readonly envValues?: Readonly<Record<string, string>>;
  /** Deno's cache dir, passed as `DENO_DIR`. */
  readonly denoDir?: string;
  /** The broker's socket, passed as `DENO_PERMISSION_BROKER_PATH` (broker mode only). */
  readonly brokerPath?: string;
  /** A `deno.json` inside the capsule dir to use; otherwise `--no-config`. */
  readonly configPath?: string;
}

/** The result of {@linkcode denoLaunchArgs}. */
export type McpLaunch =
  | {
    readonly kind: "deno";
    /** The `deno` executable. */
    readonly command: string;
    /** `run`, flags, the entry, then the server's own arguments. */
    readonly args: readonly string[];
    /** The child's complete environment. */
    readonly env: Readonly<Record<string, string>>;
    /** The capsule dir. */
    readonly cwd: string;
    /** The module Deno runs (a path or `npm:` specifier), for the import-graph check. */
    readonly entry: string;
  }
  | {
    /** Not a Deno program: must run inside bubblewrap (or be refused). */
    readonly kind: "needs_sandbox";
    readonly command: string;
    readonly args: readonly string[];
  };

/** The resolved roots of {@linkcode grantedRoots}. */
export interface GrantedRoots {
  /** Readable absolute roots, the capsule dir included. */
  readonly read: readonly string[];
  /** Writable absolute roots. */
  readonly write: readonly string[];
}

const SCRIPT_EXT = /\.(ts|mts|tsx|js|mjs|jsx)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = /^(DENO_|LD_|NPM_CONFIG_)|^NO_COLOR$/i;
const HOST_ENTRY = /^[A-Za-z0-9.\-:\[\]]+$/;

function invalid(message: string, data?: Record<string, unknown>): KernelError {
  return new KernelError("MANIFEST_INVALID", message, data ? { data } : {});
}

type RootOptions = Omit<LaunchOptions, "denoPath" | "mode">;

function resolveRoot(entry: string, options: RootOptions): string | null {
  if (entry === "*") return options.workspace;
  if (entry.startsWith("cwd://")) {
    return path.posix.join(options.workspace, entry.slice(6));
  }
  if (entry.startsWith("home://")) {
    return options.principalHome
      ? path.posix.join(options.principalHome, entry.slice(7))
      : null;
  }
  return path.posix.isAbsolute(entry) ? path.posix.normalize(entry) : null;
}

function resolveRoots(
  entries: readonly string[],
  options: RootOptions,
): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const root = resolveRoot(e, options);
    if (root === null) continue; // silent-ok: unresolvable entries grant nothing
    if (e.includes(",") || e.includes("\0") || e.split("/").includes("..")) {
      throw invalid(
        `Cannot grant path '${e}' as it contains ',', NUL or a '..' component`,
        { entry: e },
      );
    }
    const clean = root.length > 1 ? root.replace(/\/+$/, "") : root;
    if (!out.includes(clean)) out.push(clean);
  }
  return out;
}

/**
 * Resolves the manifest's `fs_read`/`fs_write` entries (`cwd://`, `home://`,
 * `*`, absolute) to absolute roots; `read` also holds the capsule dir. These
 * are the roots to check with `checkGrantedRootsForSymlinkEscape`.
 *
 * @param grants The manifest grants.
 * @param options Capsule dir, workspace and principal home.
 * @returns The read and write roots.
 * @throws {KernelError} `MANIFEST_INVALID` for an entry containing `,`, NUL
 *   or a `..` component.
 *
 * @example Resolve workspace-relative roots
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantedRoots } from "./launch_flags.ts";
 * const roots = grantedRoots(
 *   { fs_read: ["cwd://docs"], fs_write: [], net: [], env: [] },
 *   { capsuleDir: "/caps/a", workspace: "/ws" },
 * );
 * assert.deepEqual(roots, { read: ["/ws/docs", "/caps/a"], write: [] });
 * ```
 */
export function grantedRoots(
  grants: LaunchGrants,
  options: Omit<LaunchOptions, "denoPath" | "mode">,
): GrantedRoots {
  const read = resolveRoots(grants.fs_read, options);
  const cap = resolveRoots([options.capsuleDir], options);
  for (const c of cap) if (!read.includes(c)) read.push(c);
  return { read, write: resolveRoots(grants.fs_write, options) };
}

function entryOf(
  server: McpServerCommand,
  capsuleDir: string,
): { entry: string; rest: string[] } | null {
  const { command } = server;
  const args = [...server.args];
  if (command === "deno" || path.posix.basename(command) === "deno") {
    if (args[0] !== "run") {
      throw invalid(
        `Cannot launch 'deno ${args[0] ?? ""}' as only 'deno run' is allowed`,
      );
    }
    const entry = args[1];
    if (entry === undefined || entry.startsWith("-")) {
      throw invalid(
        "Cannot launch 'deno run' with its own flags: permissions come from the manifest",
        { arg: entry ?? null },
      );
    }
    return { entry: checkEntry(entry, capsuleDir), rest: args.slice(2) };
  }
  if (command === "npx") {
    while (args[0] === "-y" || args[0] === "--yes") args.shift();
    const pkg = args.shift();
    if (pkg === undefined || pkg.startsWith("-")) {
      throw invalid("Cannot launch 'npx' without a package name");
    }
    return { entry: checkEntry(`npm:${pkg}`, capsuleDir), rest: args };
  }
  if (command.startsWith("npm:") || SCRIPT_EXT.test(command)) {
    return { entry: checkEntry(command, capsuleDir), rest: args };
  }
  return null;
}

function checkEntry(entry: string, capsuleDir: string): string {
  if (entry.startsWith("npm:")) {
    if (entry.length <= 4 || /\s/.test(entry)) {
      throw invalid(`Cannot launch '${entry}' as it is not an npm specifier`);
    }
    return entry;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(entry)) {
    throw invalid(
      `Cannot launch '${entry}': only local scripts and npm: packages are allowed`,
    );
  }
  const abs = path.posix.resolve(capsuleDir, entry);
  const rel = path.posix.relative(capsuleDir, abs);
  if (rel === "" || rel.startsWith("..") || path.posix.isAbsolute(rel)) {
    throw invalid(
      `Cannot launch '${entry}' as it lies outside the capsule dir`,
      { entry },
    );
  }
  return abs;
}

/**
 * The granted env names, deduplicated; malformed names and names that steer
 * Deno or the loader (`DENO_*`, `LD_*`, `NPM_CONFIG_*`) are refused.
 *
 * @param grants The manifest grants.
 * @returns The granted names, in manifest order.
 * @throws {KernelError} `MANIFEST_INVALID` for a malformed or reserved name.
 *
 * @example Deduplicate granted names
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantedEnvNames } from "./launch_flags.ts";
 * const names = grantedEnvNames({ fs_read: [], fs_write: [], net: [], env: ["A", "A", "B"] });
 * assert.deepEqual(names, ["A", "B"]);
 * ```
 */
export function grantedEnvNames(grants: LaunchGrants): string[] {
  const names: string[] = [];
  for (const name of grants.env) {
    if (!ENV_NAME.test(name) || RESERVED_ENV.test(name)) {
      throw invalid(
        `Cannot grant env '${name}' as it is malformed or steers Deno itself`,
        { name },
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function envOf(grants: LaunchGrants, options: LaunchOptions): {
  names: string[];
  env: Record<string, string>;
} {
  const names = grantedEnvNames(grants);
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = options.envValues?.[name];
    if (value !== undefined) env[name] = value;
  }
  env.DENO_NO_UPDATE_CHECK = "1";
  env.NO_COLOR = "1";
  if (options.denoDir !== undefined) env.DENO_DIR = options.denoDir;
  if (options.mode === "broker" && options.brokerPath !== undefined) {
    env.DENO_PERMISSION_BROKER_PATH = options.brokerPath;
  }
  return { names, env };
}

function netHosts(entries: readonly string[], mode: string): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e === "*") {
      if (mode === "flags") {
        throw invalid(
          "Cannot express net '*' as flags without a bare --allow-net; use broker mode",
        );
      }
      continue;
    }
    if (!HOST_ENTRY.test(e)) {
      throw invalid(`Cannot grant host '${e}' as it is malformed`, {
        host: e,
      });
    }
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

/**
 * A net grant without a port covers only the web's default ports (80, 443),
 * as for the http host call and broker-mode checks; Deno's `--allow-net=host`
 * would allow every port, so the flag names the two ports.
 */
function defaultPorts(entry: string): string[] {
  const bracketed = entry.startsWith("[");
  const bareV6 = !bracketed && entry.split(":").length > 2;
  if (bareV6) return [`[${entry}]:80`, `[${entry}]:443`];
  if (/:\d+$/.test(entry) && (!bracketed || entry.includes("]:"))) {
    return [entry];
  }
  return [`${entry}:80`, `${entry}:443`];
}

/**
 * The granted hosts, checked and deduplicated; `*` (every host) is dropped.
 *
 * @param grants The manifest grants.
 * @returns The granted hosts, in manifest order.
 * @throws {KernelError} `MANIFEST_INVALID` for a malformed host entry.
 *
 * @example Check net grants
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantedHosts } from "./launch_flags.ts";
 * const hosts = grantedHosts({ fs_read: [], fs_write: [], net: ["a.example:443", "*"], env: [] });
 * assert.deepEqual(hosts, ["a.example:443"]);
 * ```
 */
export function grantedHosts(grants: LaunchGrants): string[] {
  return netHosts(grants.net, "broker");
}

/**
 * Builds the command line, environment and cwd of an MCP server.
 *
 * @param server The `[[mcp_server]]` command and args.
 * @param grants The manifest grants (`fs_read`, `fs_write`, `net`, `env`).
 * @param options Paths, mode and environment values.
 * @returns `deno` with its args, env and cwd; or `needs_sandbox` for a
 *   command that is not a Deno program.
 * @throws {KernelError} `MANIFEST_INVALID` for `deno` with a subcommand other
 *   than `run` or with its own flags, a remote or out-of-capsule entry, net
 *   `*` in flags mode, or a malformed or reserved env/host/path entry.
 * @throws {TypeError} When `capsuleDir` or `workspace` is not absolute.
 *
 * @example Flags for a server that reads one workspace dir
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoLaunchArgs } from "./launch_flags.ts";
 * const launch = denoLaunchArgs(
 *   { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/ws/docs"] },
 *   { fs_read: ["cwd://docs"], fs_write: [], net: [], env: [] },
 *   { denoPath: "/usr/bin/deno", capsuleDir: "/caps/fs", workspace: "/ws", mode: "flags" },
 * );
 * assert.equal(launch.kind, "deno");
 * if (launch.kind === "deno") {
 *   assert.deepEqual(launch.args, [
 *     "run", "--no-prompt", "--deny-import", "--no-config",
 *     "--allow-read=/ws/docs,/caps/fs",
 *     "npm:@modelcontextprotocol/server-filesystem", "/ws/docs",
 *   ]);
 * }
 * ```
 */
export function denoLaunchArgs(
  server: McpServerCommand,
  grants: LaunchGrants,
  options: LaunchOptions,
): McpLaunch {
  if (
    !path.posix.isAbsolute(options.capsuleDir) ||
    !path.posix.isAbsolute(options.workspace)
  ) {
    throw new TypeError("capsuleDir and workspace must be absolute paths");
  }
  const capsuleDir = path.posix.normalize(options.capsuleDir);
  const found = entryOf(server, capsuleDir);
  if (found === null) {
    return {
      kind: "needs_sandbox",
      command: server.command,
      args: [...server.args],
    };
  }
  const { names, env } = envOf(grants, options);
  const args = ["run", "--no-prompt", "--deny-import"];
  if (options.configPath !== undefined) {
    args.push(`--config=${checkEntry(options.configPath, capsuleDir)}`);
  } else {
    args.push("--no-config");
  }
  if (options.mode === "flags") {
    const roots = grantedRoots(grants, options);
    const hosts = netHosts(grants.net, options.mode);
    if (roots.read.length > 0) args.push(`--allow-read=${roots.read.join()}`);
    if (roots.write.length > 0) {
      args.push(`--allow-write=${roots.write.join()}`);
    }
    if (hosts.length > 0) {
      args.push(`--allow-net=${hosts.flatMap(defaultPorts).join()}`);
    }
    if (names.length > 0) args.push(`--allow-env=${names.join()}`);
  } else {
    netHosts(grants.net, options.mode);
    grantedRoots(grants, options);
  }
  args.push(found.entry, ...found.rest);
  return {
    kind: "deno",
    command: options.denoPath,
    args,
    env,
    cwd: capsuleDir,
    entry: found.entry,
  };
}
