/**
 * A host dispatcher over a real gate, real Deno KV, a real temp workspace,
 * real fetch and real subprocesses, for the ABI tests.
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
import type {
  CallerIdentity,
  GuestFs,
  HostDeps,
  SecretStore,
} from "./ports.ts";
import { hostPathOf } from "./guest_path.ts";

/** A direct host-directory GuestFs (the VFS overlay replaces it in the kernel). */
export function hostDirFs(caller: CallerIdentity): GuestFs {
  const abs = (p: string) => path.resolve(hostPathOf(p, caller));
  return {
    read: (p) => Deno.readFile(abs(p)),
    write: async (p, data) => {
      await Deno.mkdir(path.dirname(abs(p)), { recursive: true });
      await Deno.writeFile(abs(p), data);
    },
    exists: async (p) => (await Deno.stat(abs(p)).catch(() => null)) !== null,
    readDir: async (p) => {
      const out: { name: string; is_dir: boolean }[] = [];
      for await (const e of Deno.readDir(abs(p))) {
        out.push({ name: e.name, is_dir: e.isDirectory });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    stat: async (p) => {
      const s = await Deno.stat(abs(p));
      return {
        size: s.size,
        is_dir: s.isDirectory,
        mtime_ms: s.mtime?.getTime() ?? null,
      };
    },
    mkdir: (p) => Deno.mkdir(abs(p), { recursive: true }),
    remove: (p) => Deno.remove(abs(p)),
  };
}

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
  } = {},
): Promise<AbiFixture> {
  const workspace = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-abi-" }),
  );
  const scratch = await Deno.makeTempDir({ prefix: "astrid-abi-scratch-" });
  const {
    bubblewrap: _b,
    allowUnsandboxed: _u,
    unshare: _s,
    ...gateOptions
  } = options;
  const gate = await makeGate({ mode: { mode: "autonomous" }, ...gateOptions });
  const secrets = new MemorySecrets();
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
    fs: hostDirFs,
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
  };
  const random = new SeededRandom(3n);
  function dispatcher(capsule = "fs", config: Record<string, string> = {}) {
    const ac = new AbortController();
    const caller: CallerIdentity = {
      capsule: capsule as CapsuleId,
      principal: "default" as PrincipalId,
      session: SESSION,
      workspace,
      principalHome: path.join(workspace, ".home"),
    };
    return {
      call: createHostDispatcher(deps, caller, {
        config,
        signal: ac.signal,
        random,
      }),
      unload: () => ac.abort(),
    };
  }
  return {
    ...gate,
    workspace,
    secrets,
    deps,
    dispatcher,
    call: (fn, payload, capsule) =>
      dispatcher(capsule).call(fn, payload as never, {
        signal: new AbortController().signal,
      }),
    async dispose() {
      await gate.close();
      await Deno.remove(workspace, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    },
  };
}
