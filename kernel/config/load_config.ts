/**
 * Loads the layered config from the file system and the environment.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { Env, FileSystem } from "../core/ports.ts";
import type { EffectiveConfig } from "./effective_config.ts";
import { readEnvLayer } from "./env_layer.ts";
import { expandVars, isWorkspaceVariable } from "./expand_vars.ts";
import { configError, type ConfigIssue } from "./issues.ts";
import type { Layer, LayerName } from "./layer.ts";
import { resolveLayers } from "./resolve_layers.ts";

/** Config files larger than this many bytes are rejected (1 MiB). */
export const MAX_CONFIG_BYTES: number = 1024 * 1024;

/** The ports `loadConfig()` needs. */
export interface LoadConfigDeps {
  /** Reads the config files. */
  fs: FileSystem;
  /** The env layer and `${VAR}` values. */
  env: Env;
}

/** Which files to read; an absent path or a missing file means the layer is absent. */
export interface LoadConfigOptions {
  /** E.g. `/etc/astrid/config.toml`. */
  systemPath?: string;
  /** E.g. `~/.astrid/config.toml`. */
  userPath?: string;
  /** E.g. `<workspace>/.astrid/config.toml`; tighten-only. */
  workspacePath?: string;
  /** Cancels loading. */
  signal?: AbortSignal;
}

type FileResult =
  | { kind: "absent" }
  | { kind: "parsed"; values: Record<string, unknown> }
  | { kind: "error"; issue: ConfigIssue };

/**
 * Loads defaults < env < system < user < workspace. `${VAR}` references in
 * file values are expanded (workspace files: `ASTRID_*`/`ANTHROPIC_*` only).
 * All problems of one kind are collected and thrown together.
 *
 * @param deps The file system and environment ports.
 * @param options The file paths and an optional signal.
 * @returns The effective config with provenance.
 * @throws {KernelError} `CONFIG_PARSE` when a file is larger than 1 MiB, not a
 *   regular file, not UTF-8 or not TOML (naming the file, and line and column);
 *   `CONFIG_INVALID` for unknown keys, type and range errors, bad env values
 *   and bad `${VAR}` references (naming file or variable and key);
 *   `CONFIG_WIDENING` when the workspace file loosens a security setting;
 *   `ABORTED` when the signal fires; `HOST_IO`/`HOST_PERMISSION_DENIED` from
 *   the file system.
 *
 * @example Load with no files present
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load_config.ts";
 * import type { FileSystem } from "../core/ports.ts";
 * const fs = { stat: () => Promise.resolve(null) } as unknown as FileSystem;
 * const env = { get: (name: string) => (name === "ASTRID_WORKSPACE_MODE" ? "guided" : undefined) };
 * const config = await loadConfig({ fs, env }, { userPath: "/home/u/.astrid/config.toml" });
 * assert(config.get("workspace.mode") === "guided");
 * assert(config.origin("workspace.mode").source === "ASTRID_WORKSPACE_MODE");
 * ```
 */
export async function loadConfig(
  deps: LoadConfigDeps,
  options: LoadConfigOptions = {},
): Promise<EffectiveConfig> {
  const { signal } = options;
  throwIfAborted(signal, "loading config");
  const env = readEnvLayer(deps.env);
  const files: [LayerName, string | undefined][] = [
    ["system", options.systemPath],
    ["user", options.userPath],
    ["workspace", options.workspacePath],
  ];
  const parseIssues: ConfigIssue[] = [];
  const parsed: {
    name: LayerName;
    path: string;
    values: Record<string, unknown>;
  }[] = [];
  for (const [name, path] of files) {
    if (path === undefined) continue;
    const result = await readConfigFile(deps.fs, path, signal);
    if (result.kind === "error") parseIssues.push(result.issue);
    if (result.kind === "parsed") {
      parsed.push({ name, path, values: result.values });
    }
  }
  if (parseIssues.length > 0) throw configError("CONFIG_PARSE", parseIssues);

  const issues: ConfigIssue[] = [...env.issues];
  const layers: Layer[] = [env.layer];
  for (const { name, path, values } of parsed) {
    const expanded = expandVars(values, {
      env: deps.env,
      file: path,
      ...(name === "workspace" ? { allow: isWorkspaceVariable } : {}),
    });
    issues.push(...expanded.issues);
    layers.push({
      name,
      source: path,
      values: expanded.values,
      sensitiveKeys: expanded.expandedKeys,
    });
  }
  return resolveLayers(layers, { issues });
}

async function readConfigFile(
  fs: FileSystem,
  path: string,
  signal: AbortSignal | undefined,
): Promise<FileResult> {
  const fail = (message: string): FileResult => ({
    kind: "error",
    issue: { file: path, key: "", message },
  });
  const info = await fs.stat(path);
  if (info === null) return { kind: "absent" };
  if (!info.isFile) return fail("is not a regular file");
  if (info.size > MAX_CONFIG_BYTES) return fail(tooLarge(info.size));
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path, signal === undefined ? {} : { signal });
  } catch (err) {
    // silent-ok: the file vanished between stat and read; a missing file means the layer is absent.
    if (KernelError.is(err, "NOT_FOUND")) return { kind: "absent" };
    throw err;
  }
  throwIfAborted(signal, "loading config");
  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    return fail(tooLarge(bytes.byteLength));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    if (err instanceof TypeError) return fail("is not valid UTF-8");
    throw err;
  }
  try {
    return { kind: "parsed", values: parse(text) as Record<string, unknown> };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split("\n")[0] ?? "").replace(
      /^Invalid TOML document: /,
      "",
    );
    return fail(
      `is not valid TOML at line ${err.line}, column ${err.column}: ${reason}`,
    );
  }
}

function tooLarge(size: number): string {
  return `is ${size} bytes, larger than the ${MAX_CONFIG_BYTES}-byte (1 MiB) limit`;
}
