/**
 * The capsule registry: boot (discover, validate, resolve, load in order,
 * publish `astrid.v1.capsules_loaded`), invoke, health supervision with
 * restart and exponential backoff, and unload that cancels pending host calls.
 *
 * Security model: an installed capsule loads only when its install record
 * (`meta.json`) is signed by the runtime key, its manifest validates and every
 * pinned artifact matches its BLAKE3; a capsule found in a workspace loads
 * only after the operator approved the exact record the kernel computed for
 * it (see `workspace_consent.ts`), and never unconfined. A capsule that runs
 * code in place (MCP) has its whole directory checked at every load and
 * before every (re)launch of a server. Every refusal is logged and reported
 * to `onRefused` (the runtime audits it). Its manifest grants and IPC ACLs
 * are registered before its code runs; its host calls go through the gate
 * with its own identity; unloading aborts every host call it has pending.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { CapsuleId } from "../../core/ids.ts";
import type { Clock, FileSystem, Logger, Random } from "../../core/ports.ts";
import type { JsonValue } from "../../store/store.ts";
import type { Bus } from "../../bus/bus.ts";
import type { CapsuleGrants } from "../../security/manifest_grant.ts";
import type {
  Capsule,
  CapsuleHealth,
  Engine,
  EngineLimits,
  HostCallDispatcher,
} from "../engine.ts";
import { DEFAULT_ENGINE_LIMITS } from "../engine.ts";
import { type CapsuleDir, readArtifact } from "../manifest/load_capsule_dir.ts";
import type { InstallTrust } from "../manifest/install_record.ts";
import { checkPinnedFiles, runsCodeInPlace } from "../manifest/pinned_files.ts";
import type { CapsuleConsent } from "./workspace_consent.ts";
import {
  type BootRoot,
  collectCapsuleDirs,
  describe,
  type Refusal,
} from "./collect_dirs.ts";

export type { BootRoot, Refusal } from "./collect_dirs.ts";
import {
  grantsFromManifest,
  ipcAclFromManifest,
} from "../manifest/grants_from_manifest.ts";
import type {
  CapsuleManifest,
  InterceptorDef,
} from "../manifest/manifest_types.ts";
import { resolveCapsules } from "../resolver/resolve_capsules.ts";
import type { ResolveTreeNode } from "../resolver/resolve_types.ts";
import { staticBundle } from "./static_bundle.ts";
import { capsuleConfig, type CapsuleConfigValues } from "./capsule_config.ts";
import { CAPSULES_LOADED_TOPIC, interceptorFor } from "./_wiring.ts";

/** What the registry needs. */
export interface RegistryDeps {
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly bus: Bus;
  /** Engines by name (`js`, `wasm`, `static`, later `mcp`). */
  readonly engines: Readonly<
    Partial<Record<CapsuleManifest["engine"], Engine>>
  >;
  /** Registers (or removes) a capsule's manifest grants with the gate. */
  setGrants(capsule: CapsuleId, grants: CapsuleGrants | undefined): void;
  /** Builds the host-call dispatcher of a capsule; aborting `signal` cancels its pending calls. */
  hostFor(
    capsule: CapsuleId,
    config: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): HostCallDispatcher;
  /** The operator's configuration of capsules (over their `[env]` defaults). */
  readonly capsuleConfig?: CapsuleConfigValues;
  /** The running kernel's version (`astrid-version` checks). */
  readonly kernelVersion: string;
  /** Principal and session stamped on kernel publications. */
  readonly context: { readonly principal: string; readonly session: string };
  /** The key install records must be signed with (the runtime key). */
  readonly trust: InstallTrust;
  /** Decides on capsules found in a workspace; without it none loads. */
  readonly consent?: CapsuleConsent;
  /** Called for every refused capsule (the runtime audits it). */
  onRefused?(refusal: Refusal): Promise<void>;
}

/** What boot did. */
export interface BootReport {
  readonly loaded: readonly CapsuleId[];
  readonly refused: readonly Refusal[];
  readonly tree: readonly ResolveTreeNode[];
}

interface Entry {
  dir: CapsuleDir;
  capsule: Capsule;
  abort: AbortController;
  unsubscribe: (() => void)[];
  failures: number;
  nextRestartAt: number;
}

const MAX_BACKOFF_MS = 60_000;
const BASE_BACKOFF_MS = 1_000;

/** Loaded capsules of one kernel session. */
export class CapsuleRegistry {
  #deps: RegistryDeps;
  #limits: EngineLimits;
  #entries = new Map<CapsuleId, Entry>();

  /**
   * @param deps Ports, bus, engines and gate hooks.
   * @param limits Engine limits for every capsule (default 5 s, 64 MiB).
   */
  constructor(
    deps: RegistryDeps,
    limits: EngineLimits = DEFAULT_ENGINE_LIMITS,
  ) {
    this.#deps = deps;
    this.#limits = limits;
  }

  /** Ids of the loaded capsules, in load order. */
  get loaded(): CapsuleId[] {
    return [...this.#entries.keys()];
  }

  /**
   * The bus topics a loaded capsule intercepts: its manifest's
   * `[[interceptor]]` events and the ones its engine adds (an MCP capsule's
   * `tool.v1.execute.<name>` per tool), with its engine.
   *
   * @param id The capsule.
   * @returns Its engine and events, or `undefined` when it is not loaded.
   */
  interceptedBy(
    id: CapsuleId,
  ): { engine: string; events: string[] } | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    const m = entry.dir.manifest;
    return {
      engine: m.engine,
      events: [
        ...m.interceptors.map((i) => i.event),
        ...(entry.capsule.interceptors?.() ?? []).map((i) => i.event),
      ],
    };
  }

  /**
   * Boots every capsule found under `roots` (user dir first, then workspace).
   * A capsule that fails validation, integrity, resolution or loading is
   * refused with a reason; the others still load.
   *
   * @param roots Capsule directories, in priority order.
   * @returns Loaded and refused capsules and the dependency tree.
   */
  async boot(roots: readonly BootRoot[]): Promise<BootReport> {
    const d = this.#deps;
    const { dirs, refused } = await collectCapsuleDirs(d, roots);
    const resolved = resolveCapsules(dirs.map((c) => c.manifest));
    for (const r of resolved.refused) {
      refused.push({ capsule: r.capsule, code: r.code, reason: r.reason });
    }
    const byName = new Map<CapsuleId, CapsuleDir>();
    for (const c of dirs) {
      // The first discovered copy (user-level before workspace) wins, as in the resolver.
      if (!byName.has(c.manifest.package.name)) {
        byName.set(c.manifest.package.name, c);
      }
    }
    const loaded: CapsuleId[] = [];
    for (const id of resolved.order) {
      const dir = byName.get(id);
      if (!dir) continue;
      try {
        await this.load(dir);
        loaded.push(id);
      } catch (err) {
        refused.push({ capsule: id, ...describe(err) });
      }
    }
    for (const r of refused) {
      d.logger.log("warn", `capsule refused: ${r.reason}`, {
        capsule: r.capsule,
        code: r.code,
      });
      await d.onRefused?.(r);
    }
    await d.bus.publish("kernel", {
      topic: CAPSULES_LOADED_TOPIC,
      payload: {
        loaded,
        refused: refused.map((r) => ({
          capsule: r.capsule,
          code: r.code,
          reason: r.reason,
        })),
      } as unknown as JsonValue,
      principal: d.context.principal as never,
      session: d.context.session as never,
    });
    return { loaded, refused, tree: resolved.tree };
  }

  /**
   * Loads one validated capsule: reads its integrity-checked artifact,
   * registers grants and ACLs, starts it in its engine, wires its interceptors.
   *
   * @param dir The validated capsule directory.
   * @throws {KernelError} `CAPSULE_INTEGRITY`, `CAPSULE_NOT_FOUND` (no engine), engine errors.
   */
  async load(dir: CapsuleDir): Promise<void> {
    const d = this.#deps;
    const m = dir.manifest;
    const id = m.package.name;
    if (this.#entries.has(id)) {
      throw new KernelError(
        "INVALID_INPUT",
        `Capsule '${id}' is already loaded`,
      );
    }
    const engine = d.engines[m.engine];
    if (!engine) {
      throw new KernelError(
        "CAPSULE_NOT_FOUND",
        `Cannot load capsule '${id}': the ${m.engine} engine is not available`,
      );
    }
    const artifact = m.component
      ? await readArtifact(d.fs, {
        dir: dir.dir,
        meta: dir.meta,
        file: m.component.file,
      })
      : await staticBundle(d.fs, dir);
    const config = capsuleConfig(m, d.capsuleConfig ?? {});
    const acl = ipcAclFromManifest(m, { engine: m.engine });
    d.setGrants(id, grantsFromManifest(m));
    d.bus.registerCapsule(id, {
      publish: acl.publish,
      subscribe: acl.subscribe,
    });
    const abort = new AbortController();
    // Checks the pins again; a refusal (at load or before an MCP server's
    // relaunch) is reported like a boot refusal, so it is audited too.
    const verify = async (signal?: AbortSignal): Promise<void> => {
      try {
        await checkPinnedFiles(d.fs, dir.dir, {
          manifest: m,
          artifacts: dir.meta.artifacts,
          signal,
        });
      } catch (err) {
        if (KernelError.is(err, "CAPSULE_INTEGRITY")) {
          await d.onRefused?.({
            capsule: id,
            ...describe(err),
            dir: dir.dir,
          });
        }
        throw err;
      }
    };
    try {
      if (runsCodeInPlace(m)) await verify(abort.signal);
      const capsule = await engine.load({
        capsule: id,
        artifact,
        host: d.hostFor(id, config, abort.signal),
        limits: this.#limits,
        config,
        dir: dir.dir,
        manifest: m,
        instances: m.component?.instances ?? 1,
        unconfined: dir.origin !== "workspace" &&
          dir.meta.unconfined !== undefined,
        verify,
      });
      const wire = (defs: readonly InterceptorDef[]): (() => void)[] =>
        defs.map((i) =>
          d.bus.intercept(id, {
            pattern: i.event,
            priority: i.priority,
            handler: interceptorFor(
              () => this.#entries.get(id)?.capsule,
              i.action,
            ),
          })
        );
      const unsubscribe = wire(m.interceptors);
      let dynamic = wire(capsule.interceptors?.() ?? []);
      const stopWatching = capsule.onInterceptorsChanged?.(() => {
        for (const u of dynamic) u();
        dynamic = this.#entries.has(id)
          ? wire(capsule.interceptors?.() ?? [])
          : [];
      });
      unsubscribe.push(() => {
        stopWatching?.();
        for (const u of dynamic) u();
      });
      this.#entries.set(id, {
        dir,
        capsule,
        abort,
        unsubscribe,
        failures: 0,
        nextRestartAt: 0,
      });
    } catch (err) {
      abort.abort();
      d.bus.unregisterCapsule(id);
      d.setGrants(id, undefined);
      throw err;
    }
  }

  /**
   * Calls an exported action of a loaded capsule.
   *
   * @param id The capsule.
   * @param action The exported action.
   * @param payload JSON input.
   * @param options Cancellation.
   * @returns The capsule's JSON result.
   * @throws {KernelError} `CAPSULE_NOT_FOUND` when not loaded; the engine's codes.
   */
  async invoke(
    id: CapsuleId,
    action: string,
    payload: JsonValue,
    options: { signal?: AbortSignal } = {},
  ): Promise<JsonValue> {
    const entry = this.#entries.get(id);
    if (!entry) {
      throw new KernelError(
        "CAPSULE_NOT_FOUND",
        `No capsule '${id}' is loaded`,
      );
    }
    return await entry.capsule.invoke(action, payload, options);
  }

  /**
   * Unloads a capsule: cancels its pending host calls, removes its
   * interceptors, ACLs and grants, stops its engine instance. Idempotent.
   *
   * @param id The capsule.
   */
  async unload(id: CapsuleId): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    entry.abort.abort(
      new KernelError("ABORTED", `Capsule '${id}' was unloaded`),
    );
    try {
      for (const u of entry.unsubscribe) u();
      this.#deps.bus.unregisterCapsule(id);
      this.#deps.setGrants(id, undefined);
    } finally {
      await entry.capsule.unload();
    }
  }

  /**
   * The health of a loaded capsule.
   *
   * @param id The capsule.
   * @returns Its health, or `undefined` when it is not loaded.
   */
  health(id: CapsuleId): CapsuleHealth | undefined {
    return this.#entries.get(id)?.capsule.health();
  }

  /** Unloads every capsule, last loaded first. */
  async unloadAll(): Promise<void> {
    for (const id of this.loaded.reverse()) await this.unload(id);
  }

  /**
   * One supervision pass: a capsule whose health is `failed` is restarted once
   * its backoff (1 s, 2 s, 4 s … capped at 60 s) has passed; a successful
   * restart keeps the failure count so a flapping capsule backs off further.
   *
   * @returns The capsules restarted in this pass.
   */
  async supervise(): Promise<CapsuleId[]> {
    const now = this.#deps.clock.now();
    const restarted: CapsuleId[] = [];
    for (const [id, entry] of [...this.#entries]) {
      if (
        entry.capsule.health().status !== "failed" || now < entry.nextRestartAt
      ) continue;
      const failures = entry.failures + 1;
      await this.unload(id);
      try {
        await this.load(entry.dir);
        restarted.push(id);
      } catch (err) {
        this.#deps.logger.log("error", "capsule restart failed", {
          capsule: id,
          ...describe(err),
        });
        continue;
      }
      const next = this.#entries.get(id)!;
      next.failures = failures;
      next.nextRestartAt = now +
        Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (failures - 1));
    }
    return restarted;
  }
}
