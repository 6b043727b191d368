/**
 * The composition root: the only place that builds real host adapters and
 * hands them down as ports. Today it boots the foundation (home layout,
 * configuration, runtime key, state store); later issues add the gate, the bus
 * and the capsules on top of the same handle.
 *
 * @module
 */
import type { PrincipalId } from "../core/ids.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { Clock, FileSystem, Logger, Random } from "../core/ports.ts";
import { memo } from "../core/bounded_memo.ts";

import type { EffectiveConfig } from "../config/effective_config.ts";
import { loadOrCreateKeyFile, saveKeyFile } from "../crypto/key_file.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import type { Store } from "../store/store.ts";
import { createStderrLogger, ensureLayout } from "../host/mod.ts";
import { systemClock } from "../host/mod.ts";
import { buildSecurity, type SecurityLayers } from "./build_gate.ts";
import { openKernelStore } from "./open_store.ts";
import {
  type HomeOptions,
  type KernelPaths,
  kernelPaths,
  ports,
  readKernelConfig,
} from "./home_config.ts";

export {
  kernelPaths,
  readKernelConfig,
  readRuntimeKey,
  SYSTEM_CONFIG_PATH,
} from "./home_config.ts";
export type { HomeOptions, KernelPaths } from "./home_config.ts";

/** Options of {@linkcode startKernel}. */
export interface StartKernelOptions extends HomeOptions {
  /** Keep state in memory instead of `var/state.kv` (throwaway kernels). */
  inMemoryStore?: boolean;
  /** Logger; default: JSON lines on stderr at the configured level. */
  logger?: Logger;
}

/** A running kernel (foundation part). */
export interface KernelHandle extends KernelPaths, AsyncDisposable {
  /** The effective configuration with provenance. */
  readonly config: EffectiveConfig;
  /** The runtime key (signs tokens and audit entries). */
  readonly runtimeKey: KeyPair;
  /** `true` when this boot generated the runtime key. */
  readonly keyCreated: boolean;
  /** The state store (Deno KV, or PostgreSQL when `store.url` is set). */
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
  const store = await openKernelStore({
    url: config.values.store.url,
    inMemory: options.inMemoryStore === true,
    stateKv: paths.home.stateKv,
    passwordFile: paths.home.storePassword,
    env: p.env,
    fs: p.fs,
  });
  const clock = systemClock();
  // Both spellings of ASTRID_HOME are hard-denied to capsules (a home reached
  // through a symlinked path must not slip past a lexical check).
  const kernelHome = [
    ...new Set([paths.home.root, await p.fs.realPath(paths.home.root)]),
  ];
  const homeRoots = new Map<string, string>();
  const security = buildSecurity({
    kernelHome,
    store,
    clock,
    random: p.random,
    logger,
    runtimeKey: key.keyPair,
    config,
    // Asked on every gate decision: one string per principal, remembered.
    principalHome: (pr) =>
      memo(homeRoots, pr, (k) => paths.home.home(k as PrincipalId).root),
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
