/**
 * The home and its configuration, without booting anything: where
 * `ASTRID_HOME` is, the config files of every layer, the effective config,
 * the runtime key. A module of its own so that what only needs these (the
 * daemon's flag computation, `astrid doctor`) does not load the gate, the
 * store and the engines.
 *
 * @module
 */
import * as path from "node:path";
import type { PrincipalId } from "../core/ids.ts";
import type { Env, FileSystem, Random } from "../core/ports.ts";
import { loadConfig } from "../config/load_config.ts";
import type { EffectiveConfig } from "../config/effective_config.ts";
import { loadKeyFile } from "../crypto/key_file.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import {
  astridHomePaths,
  createDenoEnv,
  createDenoFs,
  cryptoRandom,
  resolveAstridHome,
} from "../host/mod.ts";
import type { AstridHome } from "../host/mod.ts";

/** Where the system-wide config layer lives. */
export const SYSTEM_CONFIG_PATH = "/etc/astrid/config.toml";

/** Options shared by the boot functions. */
export interface HomeOptions {
  /** Environment variables; default: the process environment. */
  env?: Env;
  /** The workspace (project) directory; default: none (no workspace layer). */
  workspace?: string;
  /** The principal; default `default`. */
  principal?: PrincipalId;
  /** Skip the system config file (tests, throwaway homes). */
  ignoreSystemConfig?: boolean;
  /** Cancels the boot. */
  signal?: AbortSignal;
}

/** The files and layers a kernel would use, without opening the store. */
export interface KernelPaths {
  /** The resolved `ASTRID_HOME` layout. */
  readonly home: AstridHome;
  /** The config files of each layer, in order (missing files are skipped). */
  readonly configFiles: {
    readonly system?: string;
    readonly user: string;
    readonly workspace?: string;
  };
}

/** The real host ports the boot functions use. */
export interface Ports {
  fs: FileSystem;
  env: Env;
  random: Random;
}

/**
 * The real ports, with the given environment.
 *
 * @param options The environment (default: the process's).
 * @returns File system, environment, randomness.
 */
export function ports(options: HomeOptions): Ports {
  return {
    fs: createDenoFs(),
    env: options.env ?? createDenoEnv(),
    random: cryptoRandom(),
  };
}

/**
 * Resolves `ASTRID_HOME` and the config files of every layer without touching disk.
 *
 * @param options Environment and workspace.
 * @returns The paths.
 * @throws {KernelError} `HOME_INVALID` when ASTRID_HOME/HOME is unusable.
 */
export function kernelPaths(options: HomeOptions = {}): KernelPaths {
  const env = options.env ?? createDenoEnv();
  const home = astridHomePaths(resolveAstridHome(env));
  return {
    home,
    configFiles: {
      ...(options.ignoreSystemConfig ? {} : { system: SYSTEM_CONFIG_PATH }),
      user: home.configToml,
      ...(options.workspace
        ? {
          workspace: path.join(
            path.resolve(options.workspace),
            ".astrid",
            "config.toml",
          ),
        }
        : {}),
    },
  };
}

/**
 * Loads the effective configuration of every layer, with provenance.
 *
 * @param options Environment and workspace.
 * @returns The effective configuration.
 * @throws {KernelError} `CONFIG_PARSE`, `CONFIG_INVALID`, `CONFIG_WIDENING`, `HOME_INVALID`.
 */
export async function readKernelConfig(
  options: HomeOptions = {},
): Promise<EffectiveConfig> {
  const p = ports(options);
  const { configFiles } = kernelPaths({ ...options, env: p.env });
  return await loadConfig({ fs: p.fs, env: p.env }, {
    ...(configFiles.system ? { systemPath: configFiles.system } : {}),
    userPath: configFiles.user,
    ...(configFiles.workspace ? { workspacePath: configFiles.workspace } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Reads the runtime key without creating it.
 *
 * @param options Environment.
 * @returns The key pair.
 * @throws {KernelError} `KEY_NOT_FOUND`, `KEY_PERMISSIONS_TOO_OPEN`, `KEY_INVALID`.
 */
export async function readRuntimeKey(
  options: HomeOptions = {},
): Promise<KeyPair> {
  const p = ports(options);
  const { home } = kernelPaths({ ...options, env: p.env });
  return await loadKeyFile(home.runtimeKey, {
    fs: p.fs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
