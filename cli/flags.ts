/**
 * Global flag parsing for the CLI (strict; `cli/argv.ts`).
 *
 * @module
 */
import { parseArgv } from "./argv.ts";
import { UsageError } from "./output.ts";

/** Flags every command understands. */
export interface GlobalFlags {
  /** Print help. */
  help: boolean;
  /** Print the version. */
  version: boolean;
  /** Machine-readable output. */
  json: boolean;
  /** `chat --snapshot-tui`: print one rendered frame for turn events (JSON lines from `--file` or stdin). */
  snapshotTui: boolean;
  /** Replace / overwrite where a command supports it. */
  force: boolean;
  /** Keep the throwaway home of `demo` for inspection. */
  keep: boolean;
  /** The workspace directory. */
  workspace?: string;
  /** `capsule new`: the parent directory of the new capsule. */
  dir?: string;
  /** `capsule new`: what to scaffold (`tool`, `interceptor`). */
  kind?: string;
  /** `init`, `distro`: the `Distro.toml` to use. */
  distro?: string;
  /** `agent`, `-p`, `workspace`: the session to continue (its history and overlay). */
  session?: string;
  /** `-p, --print`: run one prompt (the positionals, else stdin) headless through the daemon. */
  print: boolean;
  /** `-p`: answer every approval request with Allow Once (policy blocks still apply). */
  yes: boolean;
  /** `-p`: print the session id (to stderr) when done. */
  printSession: boolean;
  /** `audit verify --file`: an exported chain (JSON lines) to verify offline. */
  file?: string;
  /** `audit verify --key`: the public key (base64) the export must verify against. */
  key?: string;
  /** `capsule install --unconfined`: run an MCP capsule without bubblewrap. */
  unconfined: boolean;
  /** `audit list`, `sessions list`: how many to show. */
  limit?: string;
  /** A headless server to use instead of the local daemon (`http://host:port`; token from `ASTRID_TOKEN`). */
  url?: string;
  /** `init`: the providers (group `llm`) to install, comma-separated. */
  providers?: string;
  /** `init`: distro variable values, `NAME=VALUE` (repeatable). */
  vars: string[];
  /** `start --foreground`: run the daemon in this process. */
  foreground: boolean;
  /** `mcp serve --http`: Streamable HTTP instead of stdio. */
  http: boolean;
  /** `mcp serve --http --port N`: the port (0 = pick). */
  port?: string;
  /** `mcp serve --http --host H`: the address (default 127.0.0.1). */
  host?: string;
  /** `mcp serve --capsule NAME` (repeatable): only these capsules' tools. */
  capsules: string[];
}

/**
 * Splits argv into positionals and global flags; unknown flags are usage errors.
 *
 * @param argv The process arguments.
 * @returns The positionals and flags.
 * @throws {UsageError} On an unknown flag or a missing flag value.
 */
export function parseFlags(
  argv: readonly string[],
): { positionals: string[]; flags: GlobalFlags } {
  try {
    const { values: raw, positionals } = parseArgv(argv, {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
      json: { type: "boolean" },
      "snapshot-tui": { type: "boolean" },
      force: { type: "boolean" },
      keep: { type: "boolean" },
      workspace: { type: "string", short: "w" },
      session: { type: "string" },
      dir: { type: "string" },
      kind: { type: "string" },
      distro: { type: "string" },
      print: { type: "boolean", short: "p" },
      yes: { type: "boolean", short: "y" },
      "print-session": { type: "boolean" },
      file: { type: "string" },
      key: { type: "string" },
      unconfined: { type: "boolean" },
      limit: { type: "string" },
      foreground: { type: "boolean" },
      url: { type: "string" },
      providers: { type: "string" },
      var: { type: "string", multiple: true },
      http: { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      capsule: { type: "string", multiple: true },
    });
    const bool = (k: string) => raw[k] === true;
    const str = (k: string) =>
      typeof raw[k] === "string" ? raw[k] as string : undefined;
    return {
      positionals,
      flags: {
        help: bool("help"),
        version: bool("version"),
        json: bool("json"),
        snapshotTui: bool("snapshot-tui"),
        force: bool("force"),
        keep: bool("keep"),
        print: bool("print"),
        yes: bool("yes"),
        printSession: bool("print-session"),
        unconfined: bool("unconfined"),
        foreground: bool("foreground"),
        vars: Array.isArray(raw["var"]) ? raw["var"] : [],
        http: bool("http"),
        capsules: Array.isArray(raw["capsule"]) ? raw["capsule"] : [],
        ...(str("port") ? { port: str("port")! } : {}),
        ...(str("host") ? { host: str("host")! } : {}),
        ...(str("workspace") ? { workspace: str("workspace")! } : {}),
        ...(str("dir") ? { dir: str("dir")! } : {}),
        ...(str("kind") ? { kind: str("kind")! } : {}),
        ...(str("distro") ? { distro: str("distro")! } : {}),
        ...(str("session") ? { session: str("session")! } : {}),
        ...(str("file") ? { file: str("file")! } : {}),
        ...(str("key") ? { key: str("key")! } : {}),
        ...(str("limit") ? { limit: str("limit")! } : {}),
        ...(str("url") ? { url: str("url")! } : {}),
        ...(str("providers") ? { providers: str("providers")! } : {}),
      },
    };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
