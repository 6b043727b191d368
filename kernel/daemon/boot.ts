/**
 * The composition root: the only place that builds real host adapters and
 * hands them down as ports. Today it boots the foundation (home layout,
 * configuration, runtime key, state store); later issues add the gate, the bus
 * and the capsules on top of the same handle.
 *
 * @module
 */
import * as path from "node:path";
import type { PrincipalId } from "../core/ids.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { Clock, Env, FileSystem, Logger, Random } from "../core/ports.ts";

import { loadConfig } from "../config/load_config.ts";
import type { EffectiveConfig } from "../config/effective_config.ts";
import {
  loadKeyFile,
  loadOrCreateKeyFile,
  saveKeyFile,
} from "../crypto/key_file.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Store } from "../store/store.ts";
import {
  astridHomePaths,
  createDenoEnv,
  createDenoFs,
  createStderrLogger,
  cryptoRandom,
  ensureLayout,
  MEMORY_KV,
  openKv,
  resolveAstridHome,
} from "../host/mod.ts";
import type { AstridHome } from "../host/mod.ts";
import { systemClock } from "../host/mod.ts";
import { buildSecurity, type SecurityLayers } from "./build_gate.ts";

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

/** Options of {@linkcode startKernel}. */
export interface StartKernelOptions extends HomeOptions {
  /** Keep state in memory instead of `var/state.kv` (throwaway kernels). */
  inMemoryStore?: boolean;
  /** Logger; default: JSON lines on stderr at the configured level. */
  logger?: Logger;
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

/** A running kernel (foundation part). */
export interface KernelHandle extends KernelPaths, AsyncDisposable {
  /** The effective configuration with provenance. */
  readonly config: EffectiveConfig;
  /** The runtime key (signs tokens and audit entries). */
  readonly runtimeKey: KeyPair;
  /** `true` when this boot generated the runtime key. */
  readonly keyCreated: boolean;
  /** The state store (Deno KV). */
  readonly store: Store;
  /** The principal this kernel serves. */
  readonly principal: PrincipalId;
  /** The five-layer gate and its layers (audit chain, tokens, budgets, approvals). */
  readonly security: SecurityLayers;
  /** The real host ports the kernel was built with. */
  readonly ports: {
    readonly fs: FileSystem;
    readonly clock: Clock;
    readonly random: Random;
    readonly logger: Logger;
  };
  /** Stops the kernel and closes the store. */
  close(): Promise<void>;
}

interface Ports {
  fs: FileSystem;
  env: Env;
  random: Random;
}

function ports(options: HomeOptions): Ports {
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

/**
 * Generates a runtime key and writes it with mode 0600. Refuses to replace an
 * existing key unless `overwrite` is set (replacing the key invalidates every
 * persistent token it signed; rotation with an audit entry comes with the audit chain).
 *
 * @param options Environment and whether to overwrite.
 * @returns The new key pair.
 * @throws {KernelError} `KEY_EXISTS` when a key is present and `overwrite` is not set.
 */
export async function generateRuntimeKey(
  options: HomeOptions & { overwrite?: boolean } = {},
): Promise<KeyPair> {
  const p = ports(options);
  const { home } = kernelPaths({ ...options, env: p.env });
  await ensureLayout(p.fs, home, {
    principal: options.principal ?? DEFAULT_PRINCIPAL,
  });
  const keyPair = generateKeyPair(p.random);
  await saveKeyFile(home.runtimeKey, keyPair, {
    fs: p.fs,
    random: p.random,
    overwrite: options.overwrite ?? false,
  });
  return keyPair;
}

/**
 * Boots the kernel foundation: creates the `ASTRID_HOME` layout (0700), loads the
 * layered config, loads or creates the runtime key (0600) and opens the store.
 *
 * @param options Environment, workspace and store choice.
 * @returns A handle; call `close()` (or `await using`) to stop.
 * @throws {KernelError} `HOME_INVALID`, `CONFIG_*`, `KEY_*`, `STORE_UNAVAILABLE`.
 */
export async function startKernel(
  options: StartKernelOptions = {},
): Promise<KernelHandle> {
  const p = ports(options);
  const paths = kernelPaths({ ...options, env: p.env });
  const principal = options.principal ?? DEFAULT_PRINCIPAL;
  await ensureLayout(p.fs, paths.home, {
    principal,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const config = await readKernelConfig({ ...options, env: p.env });
  const logger = options.logger ??
    createStderrLogger({ level: config.values.logging.level });
  const key = await loadOrCreateKeyFile(paths.home.runtimeKey, {
    fs: p.fs,
    random: p.random,
  });
  const store = new KvStore(
    await openKv(options.inMemoryStore ? MEMORY_KV : paths.home.stateKv),
  );
  const clock = systemClock();
  // Both spellings of ASTRID_HOME are hard-denied to capsules (a home reached
  // through a symlinked path must not slip past a lexical check).
  const kernelHome = [
    ...new Set([paths.home.root, await p.fs.realPath(paths.home.root)]),
  ];
  const security = buildSecurity({
    kernelHome,
    store,
    clock,
    random: p.random,
    logger,
    runtimeKey: key.keyPair,
    config,
    principalHome: (pr) => paths.home.home(pr).root,
  });
  logger.log("info", "kernel started", {
    keyId: key.keyPair.keyId,
    keyCreated: key.created,
    publicKey: publicKeyToBase64(key.keyPair.publicKey),
  });
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    try {
      await security.gate.flush();
    } finally {
      await store.close();
    }
  }
  return {
    ...paths,
    config,
    runtimeKey: key.keyPair,
    keyCreated: key.created,
    store,
    principal,
    security,
    ports: { fs: p.fs, clock, random: p.random, logger },
    close,
    [Symbol.asyncDispose]: close,
  };
}
