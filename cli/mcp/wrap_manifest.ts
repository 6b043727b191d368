/**
 * The least-privilege `Capsule.toml` that `astrid mcp wrap` generates from a
 * server's command line when no reviewed manifest is given.
 *
 * Security model: the manifest grants exactly what the command line names
 * and nothing else. An npm server (`npx -y <pkg>`, `npm:<pkg>`,
 * `deno run npm:<pkg>`) gets a `[[mcp_server]]` in `broker` mode (every
 * permission check of the server is a gate decision, audited), a
 * `host_process` entry naming the package, `fs_read` for each path argument
 * (absolute, normalised — `..` applied once, lexically — and only when it
 * exists and is not reached through a symlink), `fs_write` for the same paths
 * only with `writable`, and the env names the operator listed. A path
 * argument is rewritten to its absolute form in the server's args, so the
 * server is told exactly the directory that is granted. Refused: any other
 * command (a local script or binary needs a reviewed manifest, `--manifest`),
 * npx options other than `-y`, `deno run` with its own flags, `/` itself, a
 * path that does not exist or resolves elsewhere, control characters. The
 * kernel then applies the engine's own launch checks (`checkWrapManifest`).
 * Nothing is ever added that the command line did not name.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../../kernel/api/client_kit.ts";

/** What a path argument names on the host (see {@linkcode GenerateOptions.inspect}). */
export interface PathInfo {
  /** `missing` when nothing is there. */
  readonly kind: "dir" | "file" | "missing";
  /** The real path (symlinks resolved), when it exists. */
  readonly real: string | null;
}

/** Options of {@linkcode generateWrapManifest}. */
export interface GenerateOptions {
  /** The absolute directory relative path arguments are resolved against. */
  readonly cwd: string;
  /** The user's home, for `~/` arguments (refused without it). */
  readonly home?: string;
  /** Env names the server may read (nothing else is granted). */
  readonly env?: readonly string[];
  /** Also grant `fs_write` on the named paths. */
  readonly writable?: boolean;
  /** The capsule name; default `wrap-<package>-<hash of the command line>`. */
  readonly name?: string;
  /** Looks a path up on the host. */
  readonly inspect: (absolute: string) => Promise<PathInfo>;
}

/** A generated wrap manifest. */
export interface GeneratedManifest {
  /** The capsule name. */
  readonly name: string;
  /** The `Capsule.toml` text. */
  readonly toml: string;
  /** The server's command and args as they will run (paths made absolute). */
  readonly command: string;
  readonly args: readonly string[];
  /** The paths granted for reading (and for writing with `writable`). */
  readonly fsRead: readonly string[];
  readonly fsWrite: readonly string[];
  /** The env names granted. */
  readonly env: readonly string[];
  /** What the operator should know (an unpinned package, a path in an option). */
  readonly warnings: readonly string[];
}

const PACKAGE =
  /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9._+-]+)?$/i;
const EXACT_VERSION = /@\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = /^[a-z][a-z0-9-]{0,63}$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(message: string, data?: Record<string, unknown>): KernelError {
  return new KernelError("MANIFEST_INVALID", message, data ? { data } : {});
}

/** The npm package a command line runs, and the server's own arguments. */
function npmEntry(
  command: string,
  args: readonly string[],
): { pkg: string; run: string[]; host: string; rest: string[] } {
  const rest = [...args];
  if (command === "npx") {
    while (rest[0] === "-y" || rest[0] === "--yes") rest.shift();
    const pkg = rest.shift();
    if (pkg === undefined || pkg.startsWith("-")) {
      throw refuse(
        `Cannot wrap 'npx ${
          pkg ?? ""
        }': only 'npx -y <package> [args]' is understood (write a manifest for other npx options)`,
      );
    }
    return { pkg, run: ["-y", pkg], host: `npx -y ${pkg}`, rest };
  }
  if (command === "deno") {
    const [sub, entry] = rest;
    if (sub !== "run" || entry === undefined || !entry.startsWith("npm:")) {
      throw refuse(
        entry?.startsWith("-")
          ? "Cannot wrap 'deno run' with its own flags: permissions come from the manifest"
          : "Cannot generate a manifest for a local Deno script: put a reviewed Capsule.toml beside it and pass --manifest",
      );
    }
    return {
      pkg: entry.slice(4),
      run: ["run", entry],
      host: `deno run ${entry}`,
      rest: rest.slice(2),
    };
  }
  if (command.startsWith("npm:")) {
    return { pkg: command.slice(4), run: [], host: command, rest };
  }
  throw refuse(
    `Cannot generate a manifest for '${command}': only npm servers ('npx -y <package>', 'npm:<package>', 'deno run npm:<package>') are wrapped without --manifest; other commands need a reviewed Capsule.toml (they run inside bubblewrap)`,
    { command },
  );
}

function isPathArg(arg: string): boolean {
  return arg.startsWith("/") || arg.startsWith("./") ||
    arg.startsWith("../") || arg.startsWith("~/") ||
    [".", "..", "~"].includes(arg);
}

function absoluteOf(arg: string, options: GenerateOptions): string {
  if (arg === "~" || arg.startsWith("~/")) {
    if (options.home === undefined) {
      throw refuse(`Cannot grant '${arg}': the home directory is unknown`);
    }
    return path.posix.join(options.home, arg.slice(1));
  }
  return path.posix.resolve(options.cwd, arg);
}

function baseName(pkg: string): string {
  const bare = pkg.replace(/^@[^/]+\//, "").replace(/@[^@]*$/, "");
  const clean = bare.toLowerCase().replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  return /^[a-z]/.test(clean) ? clean : `s-${clean}`.replace(/-+$/, "");
}

async function shortHash(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function tomlList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}

/**
 * Generates the least-privilege manifest of a wrapped npm MCP server.
 *
 * @param argv The server's command line (`argv[0]` is the command).
 * @param options Where relative paths start, env names, `writable`, the
 *   name, and how to look paths up.
 * @returns The manifest text and what it grants.
 * @throws {KernelError} `MANIFEST_INVALID` for a command that is not an npm
 *   server, a malformed package or env name, control characters, `/`, a
 *   path that is missing or reached through a symlink, or a bad name.
 *
 * @example Wrap server-filesystem for one directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateWrapManifest } from "./wrap_manifest.ts";
 * const m = await generateWrapManifest(
 *   ["npx", "-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "./docs"],
 *   { cwd: "/ws", inspect: (p) => Promise.resolve({ kind: "dir", real: p }) },
 * );
 * assert.deepEqual(m.fsRead, ["/ws/docs"]);
 * assert.deepEqual(m.args, ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/ws/docs"]);
 * ```
 */
export async function generateWrapManifest(
  argv: readonly string[],
  options: GenerateOptions,
): Promise<GeneratedManifest> {
  const [command, ...given] = argv;
  if (command === undefined || command === "") {
    throw refuse("Cannot wrap an empty command");
  }
  for (const a of argv) {
    if (CONTROL.test(a)) {
      throw refuse("Cannot wrap a command line with control characters");
    }
  }
  const entry = npmEntry(command, given);
  if (!PACKAGE.test(entry.pkg)) {
    throw refuse(`Cannot wrap '${entry.pkg}': not an npm package name`, {
      package: entry.pkg,
    });
  }
  const warnings: string[] = [];
  if (!EXACT_VERSION.test(entry.pkg)) {
    warnings.push(
      `'${entry.pkg}' names no exact version: the install pins this manifest, not the package's code (use e.g. ${entry.pkg}@1.2.3)`,
    );
  }
  const env = [...new Set(options.env ?? [])];
  for (const name of env) {
    if (!ENV_NAME.test(name)) {
      throw refuse(`Cannot grant env '${name}': not a variable name`);
    }
  }
  const granted: string[] = [];
  const rest: string[] = [];
  for (const arg of entry.rest) {
    if (!isPathArg(arg)) {
      if (/=[~.]?\//.test(arg)) {
        warnings.push(
          `'${arg}' looks like it names a path inside an option: it is passed as is and granted nothing`,
        );
      }
      rest.push(arg);
      continue;
    }
    const abs = absoluteOf(arg, options);
    if (abs === "/") {
      throw refuse(
        "Cannot grant '/' (the whole file system): name the directories the server needs, or write a manifest",
      );
    }
    const info = await options.inspect(abs);
    if (info.kind === "missing") {
      throw refuse(`Cannot grant '${abs}': it does not exist`, { path: abs });
    }
    if (info.real !== abs) {
      throw refuse(
        `Cannot grant '${abs}': it is reached through a symbolic link (name the real path${
          info.real ? ` '${info.real}'` : ""
        })`,
        { path: abs },
      );
    }
    if (!granted.includes(abs)) granted.push(abs);
    rest.push(abs);
  }
  const args = [...entry.run, ...rest];
  const runCommand = command;
  const fsWrite = options.writable === true ? [...granted] : [];
  const name = options.name ?? `wrap-${baseName(entry.pkg)}-${await shortHash({
    command: runCommand,
    args,
    env,
    writable: options.writable === true,
  })}`;
  if (!NAME.test(name) || name.endsWith("-")) {
    throw refuse(
      `Invalid capsule name '${name}': use 1-64 of a-z, 0-9 and '-', starting with a letter`,
    );
  }
  const toml = [
    "# Generated by `astrid mcp wrap`: review every grant before you approve it.",
    `# Command: ${[runCommand, ...args].join(" ")}`,
    "[package]",
    `name = ${JSON.stringify(name)}`,
    'version = "1.0.0"',
    `description = ${JSON.stringify(`MCP server ${entry.pkg}, wrapped`)}`,
    "",
    "[capabilities]",
    "# Exactly the paths named on the command line.",
    `fs_read = ${tomlList(granted)}`,
    ...(fsWrite.length > 0 ? [`fs_write = ${tomlList(fsWrite)}`] : []),
    `host_process = ${tomlList([entry.host])}`,
    "",
    ...env.flatMap((n) => [`[env.${n}]`, 'type = "string"', ""]),
    "[[mcp_server]]",
    'id = "server"',
    `command = ${JSON.stringify(runCommand)}`,
    `args = ${tomlList(args)}`,
    "# broker: every permission check of the server is a gate decision, audited.",
    'mode = "broker"',
    "",
  ].join("\n");
  return {
    name,
    toml,
    command: runCommand,
    args,
    fsRead: granted,
    fsWrite,
    env,
    warnings,
  };
}
