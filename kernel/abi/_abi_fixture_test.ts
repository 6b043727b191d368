/**
 * A host dispatcher over a real gate, real Deno KV, a real temp workspace
 * seen through a real session VFS (overlay, `home://`, `/tmp`), real fetch
 * and real subprocesses, for the ABI tests.
 */
import * as path from "node:path";
import type { CapsuleId, PrincipalId } from "../core/ids.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import type { OverlaySource } from "../capsule/sandbox/view_layer.ts";
import type { HostCallDispatcher } from "../capsule/engine.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import {
  type FixtureOptions,
  type GateFixture,
  makeGate,
  SESSION,
} from "../security/_gate_fixture_test.ts";
import { createHostDispatcher } from "./host_table.ts";
import type { CallerIdentity, HostDeps, SecretStore } from "./ports.ts";
import { guestFsOf } from "./guest_fs.ts";
import { OverlayManager } from "../vfs/overlay_manager.ts";
import type { SessionVfs } from "../vfs/session_vfs.ts";
import { Bus } from "../bus/bus.ts";
import { auditDenials } from "../bus/audit_denials.ts";
import { busPortOf } from "./bus_port.ts";

export class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  get(capsule: CapsuleId, name: string): Promise<string | null> {
    return Promise.resolve(this.values.get(`${capsule}/${name}`) ?? null);
  }
  set(capsule: CapsuleId, name: string, value: string): Promise<void> {
    this.values.set(`${capsule}/${name}`, value);
    return Promise.resolve();
  }
}

export interface AbiFixture extends GateFixture {
  workspace: string;
  /** The principal home (`home://`). */
  home: string;
  /** The session VFS the host calls go through. */
  vfs(): Promise<SessionVfs>;
  /** The real bus, with `withBus`. */
  bus?: Bus;
  secrets: MemorySecrets;
  deps: HostDeps;
  dispatcher(
    capsule?: string,
    config?: Record<string, string>,
  ): { call: HostCallDispatcher; unload: () => void };
  call(fn: string, payload: unknown, capsule?: string): Promise<unknown>;
  dispose(): Promise<void>;
}

/** The session overlay of a fixture without one: nothing changed. */
const NO_OVERLAY: OverlaySource = {
  dirtyPaths: () => [],
  exists: () => Promise.resolve(false),
  stat: () => Promise.reject(new Error("no overlay in this fixture")),
  readFile: () => Promise.reject(new Error("no overlay in this fixture")),
  readDir: () => Promise.resolve([]),
};

export async function makeAbi(
  options: FixtureOptions & {
    /** `null`: no sandbox here (default: /usr/bin/bwrap). */
    bubblewrap?: string | null;
    /** `security.allow_unsandboxed_spawn`. */
    allowUnsandboxed?: boolean;
    /** The `unshare` tool (default /usr/bin/unshare). */
    unshare?: string;
    /** Give the dispatcher a real bus (denials audited). */
    withBus?: boolean;
    deps?: Partial<HostDeps>;
  } = {},
): Promise<AbiFixture> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-abi-" }),
  );
  const workspace = path.join(root, "ws");
  const homes = path.join(root, "home");
  const scratch = path.join(root, "scratch");
  await Deno.mkdir(workspace);
  await Deno.mkdir(scratch);
  await Deno.mkdir(path.join(homes, "default"), { recursive: true });
  const {
    bubblewrap: _b,
    allowUnsandboxed: _u,
    unshare: _s,
    ...gateOptions
  } = options;
  const gate = await makeGate({ mode: { mode: "autonomous" }, ...gateOptions });
  const secrets = new MemorySecrets();
  const overlays = new OverlayManager({
    fs: createDenoFs(),
    gate: gate.gate,
    audit: gate.audit,
    logger: gate.logger,
  }, { homes });
  const bus = options.withBus
    ? new Bus({
      clock: gate.clock,
      random: new SeededRandom(5n),
      logger: gate.logger,
      onDenied: auditDenials(gate.audit),
    })
    : undefined;
  let vfsPromise: Promise<SessionVfs> | null = null;
  const vfs = () => (vfsPromise ??= overlays.vfs(
    "default" as PrincipalId,
    SESSION,
    { workspace },
  ));
  const deps: HostDeps = {
    gate: gate.gate,
    audit: gate.audit,
    approvals: gate.approvals,
    store: gate.store,
    clock: gate.clock,
    logger: gate.logger,
    fetch: globalThis.fetch,
    spawner: createDenoSpawner(),
    secrets,
    fs: () => guestFsOf(vfs),
    process: {
      sandbox: {
        bwrap: options.bubblewrap === undefined
          ? "/usr/bin/bwrap"
          : options.bubblewrap,
        unshare: options.unshare ?? "/usr/bin/unshare",
        hiddenDirs: [],
        scratchRoot: `${scratch}/spawn`,
      },
      allowUnsandboxed: options.allowUnsandboxed ?? false,
      hostFs: createDenoFs(),
      overlay: () => Promise.resolve(NO_OVERLAY),
    },
    ...(bus ? { bus: busPortOf(bus) } : {}),
    ...options.deps,
  };
  const random = new SeededRandom(3n);
  function dispatcher(capsule = "fs", config: Record<string, string> = {}) {
    const ac = new AbortController();
    const caller: CallerIdentity = {
      capsule: capsule as CapsuleId,
      principal: "default" as PrincipalId,
      session: SESSION,
      workspace,
      principalHome: path.join(homes, "default"),
    };
    const grants = gate.grants.get(capsule);
    return {
      call: createHostDispatcher(deps, caller, {
        config,
        signal: ac.signal,
        random,
        ...(grants ? { grants } : {}),
      }),
      unload: () => ac.abort(),
    };
  }
  return {
    ...gate,
    workspace,
    home: path.join(homes, "default"),
    vfs,
    ...(bus ? { bus } : {}),
    secrets,
    deps,
    dispatcher,
    call: (fn, payload, capsule) =>
      dispatcher(capsule).call(fn, payload as never, {
        signal: new AbortController().signal,
      }),
    async dispose() {
      bus?.close();
      await gate.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}
