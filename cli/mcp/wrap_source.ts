/**
 * The capsule source of `astrid mcp wrap`: a reviewed `Capsule.toml`
 * (`--manifest`) or one generated from the command line and written where
 * the operator can read it. Either way the wrapped server is an ordinary MCP
 * capsule installed from a directory.
 *
 * Security model: a reviewed manifest must run exactly the command line
 * after `--` (one `[[mcp_server]]`, same command and args), so the host's
 * configuration shows what runs. A generated manifest is written to
 * `$ASTRID_HOME/wrap/<name>/Capsule.toml`; a file there that differs from
 * what would be generated (the operator edited it) is never overwritten —
 * install the edit with `--manifest`. The source directory of a generated
 * manifest holds nothing else (an MCP capsule pins every file of its dir).
 *
 * @module
 */
import * as path from "node:path";
import { parse } from "smol-toml";
import { KernelError } from "../../kernel/api/client_kit.ts";
import {
  type GeneratedManifest,
  generateWrapManifest,
  type PathInfo,
} from "./wrap_manifest.ts";

/** What `astrid mcp wrap` installs or serves. */
export interface WrapSource {
  /** The directory holding `Capsule.toml`. */
  readonly dir: string;
  /** The capsule name. */
  readonly name: string;
  /** The manifest text. */
  readonly toml: string;
  /** Set when the manifest was generated. */
  readonly generated?: GeneratedManifest;
}

/** Options of {@linkcode wrapSource}. */
export interface WrapSourceOptions {
  /** A reviewed manifest (a `Capsule.toml` or its directory). */
  readonly manifest?: string;
  /** Where generated manifests go (`$ASTRID_HOME/wrap`). */
  readonly wrapRoot: string;
  /** The current directory. */
  readonly cwd: string;
  readonly home?: string;
  readonly env?: readonly string[];
  readonly writable?: boolean;
  readonly name?: string;
  /** `false`: write a generated manifest to a fresh temporary dir (host mode). */
  readonly persist: boolean;
}

async function inspect(p: string): Promise<PathInfo> {
  try {
    const info = await Deno.stat(p);
    return {
      kind: info.isDirectory ? "dir" : "file",
      real: await Deno.realPath(p),
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { kind: "missing", real: null };
    }
    throw err;
  }
}

async function readIfFile(file: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function sameCommand(toml: string, argv: readonly string[], file: string) {
  let servers: unknown;
  let name: unknown;
  try {
    const t = parse(toml) as Record<string, unknown>;
    servers = t["mcp_server"];
    name = (t["package"] as Record<string, unknown> | undefined)?.["name"];
  } catch (cause) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot read '${file}': ${
        cause instanceof Error ? cause.message.split("\n")[0] : String(cause)
      }`,
    );
  }
  const list = Array.isArray(servers) ? servers : [];
  const s = list[0] as { command?: unknown; args?: unknown } | undefined;
  const runs = s === undefined
    ? []
    : [String(s.command), ...(Array.isArray(s.args) ? s.args.map(String) : [])];
  if (list.length !== 1 || runs.join("\0") !== argv.join("\0")) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `The manifest '${file}' must declare exactly one [[mcp_server]] that runs the command after '--'; it runs: ${
        runs.join(" ") || "(nothing)"
      }`,
    );
  }
  if (typeof name !== "string") {
    throw new KernelError(
      "MANIFEST_INVALID",
      `The manifest '${file}' has no [package] name`,
    );
  }
  return name;
}

/**
 * Resolves the capsule source of a wrap.
 *
 * @param argv The server's command line (after `--`).
 * @param options The reviewed manifest, or what to generate and where.
 * @returns The source directory, name and manifest text.
 * @throws {KernelError} `MANIFEST_INVALID` (see `generateWrapManifest`; a
 *   reviewed manifest that runs another command; a generated file that was
 *   edited), `NOT_FOUND` for a missing `--manifest`.
 */
export async function wrapSource(
  argv: readonly string[],
  options: WrapSourceOptions,
): Promise<WrapSource> {
  if (options.manifest !== undefined) {
    let file = path.resolve(options.cwd, options.manifest);
    const info = await Deno.stat(file).catch(() => null);
    if (info?.isDirectory) file = path.join(file, "Capsule.toml");
    if (path.basename(file) !== "Capsule.toml") {
      throw new KernelError(
        "INVALID_INPUT",
        `--manifest must name a Capsule.toml or its directory, not '${file}'`,
      );
    }
    const toml = await readIfFile(file);
    if (toml === null) {
      throw new KernelError("NOT_FOUND", `No manifest at '${file}'`);
    }
    return {
      dir: path.dirname(file),
      name: sameCommand(toml, argv, file),
      toml,
    };
  }
  const generated = await generateWrapManifest(argv, {
    cwd: options.cwd,
    inspect,
    ...(options.home ? { home: options.home } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.writable ? { writable: true } : {}),
    ...(options.name ? { name: options.name } : {}),
  });
  let dir: string;
  if (options.persist) {
    dir = path.join(options.wrapRoot, generated.name);
    const file = path.join(dir, "Capsule.toml");
    const existing = await readIfFile(file);
    if (existing !== null && existing !== generated.toml) {
      throw new KernelError(
        "MANIFEST_INVALID",
        `'${file}' was edited since it was generated: install your edit with --manifest ${file}, or delete it to generate it again`,
      );
    }
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    if (existing === null) {
      await Deno.writeTextFile(file, generated.toml, { mode: 0o600 });
    }
  } else {
    dir = await Deno.makeTempDir({ prefix: "astrid-wrap-" });
    await Deno.writeTextFile(path.join(dir, "Capsule.toml"), generated.toml);
  }
  return { dir, name: generated.name, toml: generated.toml, generated };
}
