/**
 * The command line of `astrid mcp wrap`: its own options, then `--`, then
 * the wrapped server's command line, which is never parsed as options. And
 * the line an MCP host runs for a wrap.
 *
 * @module
 */
import * as path from "node:path";
import { parseArgv } from "../argv.ts";
import { UsageError } from "../output.ts";

/** The parsed command line of `astrid mcp wrap`. */
export interface WrapArgs {
  readonly command: readonly string[];
  readonly manifest?: string;
  readonly env: readonly string[];
  readonly writable: boolean;
  readonly name?: string;
  readonly installOnly: boolean;
  readonly learn: boolean;
  readonly yes: boolean;
  readonly workspace?: string;
  readonly help: boolean;
}

/**
 * Parses `astrid mcp wrap`'s arguments: options, then `--`, then the
 * server's command line (never parsed as options).
 *
 * @param argv The arguments after `wrap`.
 * @returns The parsed arguments.
 * @throws {UsageError} Without `--`, with an empty command, an unknown
 *   option, or a generation option together with `--manifest`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWrapArgs } from "./wrap_args.ts";
 * const a = parseWrapArgs(["--install-only", "--", "npx", "-y", "pkg@1.0.0"]);
 * assert.deepEqual(a.command, ["npx", "-y", "pkg@1.0.0"]);
 * assert.equal(a.installOnly, true);
 * ```
 */
export function parseWrapArgs(argv: readonly string[]): WrapArgs {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgv(own, {
      manifest: { type: "string" },
      env: { type: "string", multiple: true },
      writable: { type: "boolean" },
      name: { type: "string" },
      "install-only": { type: "boolean" },
      learn: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      workspace: { type: "string", short: "w" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const help = values["help"] === true;
  const str = (k: string) =>
    typeof values[k] === "string" ? values[k] as string : undefined;
  const base = {
    env: Array.isArray(values["env"]) ? values["env"] : [],
    writable: values["writable"] === true,
    installOnly: values["install-only"] === true,
    learn: values["learn"] === true,
    yes: values["yes"] === true,
    help,
    ...(str("manifest") ? { manifest: str("manifest")! } : {}),
    ...(str("name") ? { name: str("name")! } : {}),
    ...(str("workspace") ? { workspace: str("workspace")! } : {}),
  };
  if (help) return { ...base, command: [] };
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${
        positionals[0]
      }': the server's command goes after '--' (astrid mcp wrap -- <command> [args])`,
    );
  }
  if (split === -1) {
    throw new UsageError(
      "Missing '--' before the server's command: astrid mcp wrap [options] -- <command> [args]",
    );
  }
  const command = argv.slice(split + 1);
  if (command.length === 0 || command[0] === "") {
    throw new UsageError(
      "Missing the server's command after '--': astrid mcp wrap [options] -- <command> [args]",
    );
  }
  if (
    base.manifest !== undefined &&
    (base.env.length > 0 || base.writable || base.name !== undefined ||
      base.learn)
  ) {
    throw new UsageError(
      "--env, --writable, --name and --learn shape a generated manifest; with --manifest, edit the manifest instead",
    );
  }
  if (base.learn && !base.installOnly) {
    throw new UsageError(
      "--learn runs the server once to write its manifest: use it with --install-only",
    );
  }
  return { ...base, command };
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg)
    ? arg
    : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The `astrid mcp wrap` line an MCP host runs for these arguments (without
 * `--install-only`, `--learn`, `--yes`), quoted for a POSIX shell.
 *
 * @param args The parsed arguments.
 * @param options The workspace to name with `-w`, and extra options first.
 * @returns The command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostLine, parseWrapArgs } from "./wrap_args.ts";
 * const line = hostLine(parseWrapArgs(["--env", "A", "--", "npx", "-y", "p@1.0.0", "/my dir"]), { workspace: "/ws" });
 * assert.equal(line, "astrid mcp wrap -w /ws --env A -- npx -y p@1.0.0 '/my dir'");
 * ```
 */
export function hostLine(
  args: WrapArgs,
  options: { workspace?: string; first?: readonly string[] } = {},
): string {
  const opts = [
    ...(options.first ?? []),
    ...(options.workspace ? ["-w", options.workspace] : []),
    ...(args.manifest ? ["--manifest", path.resolve(args.manifest)] : []),
    ...args.env.flatMap((e) => ["--env", e]),
    ...(args.writable ? ["--writable"] : []),
    ...(args.name ? ["--name", args.name] : []),
  ];
  return ["astrid", "mcp", "wrap", ...opts, "--", ...args.command].map(quote)
    .join(" ");
}
