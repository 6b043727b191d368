/**
 * Shared set-up of the tests of the first-party agent capsules
 * (`capsules/<name>/*_test.ts`, `tests/agent_*_test.ts`): a REAL kernel in a
 * throwaway home and workspace, the named capsules from `capsules/<name>/`
 * bundled from their TypeScript sources (once per test process) and
 * installed with signed records exactly as `astrid capsule install` does, the
 * session runtime booted, and helpers to talk to the capsules over the bus
 * the way another capsule or the turn API would.
 *
 * @module
 */
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { createDenoEnv } from "../kernel/host/deno_env.ts";
import { denoToolchain } from "../kernel/host/deno_toolchain.ts";
import { buildJsCapsule } from "../kernel/capsule/engines/js/build.ts";
import { installCapsule } from "../kernel/daemon/install.ts";
import type { BootReport } from "../kernel/capsule/registry/registry.ts";
import {
  type Runtime,
  type RuntimeOptions,
  startRuntime,
} from "../kernel/daemon/runtime.ts";
import type { ApprovalHandler } from "../kernel/security/approval/handler.ts";
import type { BusEnvelope } from "../kernel/bus/envelope.ts";
import { startTestKernel, type TestKernel } from "./test_kernel_test.ts";
import { type KernelHandle, startKernel } from "../kernel/daemon/boot.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
/** `capsules/` of this repository. */
export const CAPSULES_DIR: string = path.join(ROOT, "capsules");

/**
 * What an agent capsule test needs: files (home, workspace, bundles), the
 * environment (toolchain, engine worker) and `run` (the bundler). No `net`.
 */
export const AGENT_PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

/**
 * Declares a test of agent capsules with {@linkcode AGENT_PERMS}.
 *
 * @param name The behaviour, symbol first.
 * @param fn The test.
 */
export function agentTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, permissions: AGENT_PERMS, fn });
}

/** The deadline of a capsule's own running time per call in these tests. */
export const AGENT_TIMEOUT_MS = 5_000;

const built = new Map<string, Promise<string>>();

/** Bundles shared by every test process: content-addressed by their sources. */
const BUILD_CACHE = path.join(ROOT, ".test-tmp", "capsule-builds");

async function sourcesOf(dir: string, rel = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of Deno.readDir(path.join(dir, rel))) {
    const r = path.join(rel, e.name);
    if (e.isDirectory && e.name !== "node_modules") {
      out.push(...await sourcesOf(dir, r));
    } else if (e.isFile && /\.(ts|json|toml)$/.test(e.name)) {
      out.push([r, await Deno.readTextFile(path.join(dir, r))]);
    }
  }
  return out;
}

/** The cache key of a bundle: Deno's version, the capsule's and the SDK's sources. */
async function buildKey(dir: string): Promise<string> {
  const parts = [
    ...(await sourcesOf(dir)).map(([f, t]) => `capsule/${f}\0${t}`),
    ...(await sourcesOf(path.join(ROOT, "sdk"))).map(([f, t]) =>
      `sdk/${f}\0${t}`
    ),
  ].sort();
  const bytes = new TextEncoder().encode(
    `${Deno.version.deno}\0${parts.join("\0")}`,
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bundles `<capsule dir>/main.ts` — once per content across test processes
 * (`.test-tmp/capsule-builds/<sha256 of the sources>.js`, written atomically),
 * so parallel test files do not each run the bundler for the same capsule.
 *
 * @param name The capsule's directory name (or absolute dir).
 * @returns The path of the bundle.
 */
export function buildCapsule(name: string): Promise<string> {
  let p = built.get(name);
  if (p === undefined) {
    p = (async () => {
      const dir = capsuleDir(name);
      const out = path.join(BUILD_CACHE, `${await buildKey(dir)}.js`);
      if (await Deno.stat(out).then(() => true, () => false)) return out;
      await Deno.mkdir(BUILD_CACHE, { recursive: true });
      const tmp = `${out}.${crypto.randomUUID()}.tmp`;
      await buildJsCapsule({
        spawner: createDenoSpawner(),
        fs: createDenoFs(),
        toolchain: denoToolchain(createDenoEnv()),
      }, { entry: path.join(dir, "main.ts"), outFile: tmp });
      await Deno.rename(tmp, out);
      return out;
    })();
    built.set(name, p);
  }
  return p;
}

/**
 * Where a capsule's sources are: `capsules/<name>`, or the directory itself
 * when `name` is an absolute path (a test fixture capsule).
 *
 * @param name A directory name under `capsules/` or an absolute path.
 * @returns The capsule's source directory.
 */
export function capsuleDir(name: string): string {
  return path.isAbsolute(name) ? name : path.join(CAPSULES_DIR, name);
}

/**
 * Bundles the named capsules and installs them with signed records, as
 * `astrid capsule install` does.
 *
 * @param kernel The kernel whose home they go to.
 * @param names Directory names under `capsules/` or absolute fixture dirs.
 */
export async function installAgentCapsules(
  kernel: KernelHandle,
  names: readonly string[],
): Promise<void> {
  for (const name of names) {
    const source = capsuleDir(name);
    const bundle = await buildCapsule(name);
    const toml = await Deno.readTextFile(path.join(source, "Capsule.toml"));
    const file = /^\s*file\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
    if (!file) throw new Error(`${source}: no component file`);
    await installCapsule(kernel, { source, files: { [file]: bundle } });
  }
}

/** Options of {@linkcode startAgentFixture}. */
export interface AgentFixtureOptions {
  /** Temp dir prefix. */
  readonly prefix: string;
  /** Capsule directory names under `capsules/` (or absolute dirs of test fixtures) to install. */
  readonly capsules: readonly string[];
  /**
   * Configuration per capsule (keyed by its package name), over the
   * manifest's `[env.<KEY>]` defaults: the operator's capsule config
   * (`capsuleConfig` of the runtime), merged with `runtime.capsuleConfig`.
   */
  readonly env?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Files to create in the workspace before boot (relative path → text). */
  readonly files?: Readonly<Record<string, string>>;
  /** More user-config TOML (the workspace runs in `autonomous` mode). */
  readonly config?: string;
  /** Answers approval requests (default: none registered, so they defer). */
  readonly approvals?: ApprovalHandler;
  /** Secrets to store before boot: capsule name → secret name → value. */
  readonly secrets?: Readonly<
    Record<string, Readonly<Record<string, string>>>
  >;
  /** Keep the store in a file under the home, so that {@linkcode AgentFixture.restart} keeps KV. */
  readonly fileStore?: boolean;
  /** Runtime options passed through (fetch, resolveDns, limits, bubblewrap). */
  readonly runtime?: Partial<Omit<RuntimeOptions, "workspace">>;
}

/** A booted kernel with agent capsules installed. */
export interface AgentFixture extends AsyncDisposable {
  readonly tk: TestKernel;
  readonly runtime: Runtime;
  readonly report: BootReport;
  /**
   * Sends a bus request as the kernel (the way the turn API does).
   *
   * @param topic The topic.
   * @param payload The payload.
   * @param options Deadline and cancellation.
   * @returns The answer.
   */
  request<T = unknown>(
    topic: string,
    payload: unknown,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<T>;
  /**
   * Records every message published on topics matching `pattern`.
   *
   * @param pattern A bus topic pattern.
   * @returns The live list of envelopes seen so far.
   */
  watch(pattern: string): BusEnvelope[];
  /**
   * Stops the runtime and the kernel (keeping the home and workspace) and
   * boots both again on the same home: a restart. This fixture is closed
   * then; close the returned one.
   *
   * @returns The fixture of the restarted kernel.
   */
  restart(): Promise<AgentFixture>;
  /** Reads a workspace file as the session sees it (overlay first). */
  readSession(relPath: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots a kernel with the named capsules installed and the runtime booted.
 *
 * @param options Capsules, workspace files, config, approvals, secrets.
 * @returns The fixture; `close()` (or `await using`) removes everything.
 * @throws {Error} When a capsule fails to load (with the boot report).
 */
export async function startAgentFixture(
  options: AgentFixtureOptions,
): Promise<AgentFixture> {
  const tk = await startTestKernel({
    prefix: options.prefix,
    ...(options.config ? { config: options.config } : {}),
    ...(options.fileStore ? { fileStore: true } : {}),
  });
  try {
    for (const [rel, text] of Object.entries(options.files ?? {})) {
      const file = path.join(tk.workspace, rel);
      await Deno.mkdir(path.dirname(file), { recursive: true });
      await Deno.writeTextFile(file, text);
    }
    await installAgentCapsules(tk.kernel, options.capsules);
  } catch (err) {
    await tk.kernel.close().catch(() => {});
    await Deno.remove(tk.root, { recursive: true }).catch(() => {});
    throw err;
  }
  return await openFixture(tk, options);
}

async function openFixture(
  tk: TestKernel,
  options: AgentFixtureOptions,
): Promise<AgentFixture> {
  let runtime: Runtime | undefined;
  try {
    if (options.approvals) {
      tk.kernel.security.approvals.setHandler(options.approvals);
    }
    runtime = await startRuntime(tk.kernel, {
      limits: {
        timeoutMs: AGENT_TIMEOUT_MS,
        memoryBytes: 64 * 1024 * 1024,
      },
      bubblewrap: null,
      ...options.runtime,
      capsuleConfig: {
        ...options.env,
        ...options.runtime?.capsuleConfig,
      },
      workspace: tk.workspace,
    });
    for (const [capsule, values] of Object.entries(options.secrets ?? {})) {
      for (const [key, value] of Object.entries(values)) {
        await runtime.secrets.set(capsule as CapsuleId, key, value);
      }
    }
    const report = await runtime.boot();
    if (report.refused.length > 0) {
      throw new Error(
        `capsules failed to load: ${JSON.stringify(report.refused)}`,
      );
    }
    const rt = runtime;
    const unsubs: (() => void)[] = [];
    let closed = false;
    const stop = async () => {
      if (closed) return false;
      closed = true;
      for (const u of unsubs) u();
      await rt.close();
      await tk.kernel.close();
      return true;
    };
    const close = async () => {
      if (await stop()) {
        await Deno.remove(tk.root, { recursive: true }).catch(() => {});
      }
    };
    return {
      tk,
      runtime: rt,
      report,
      request: async <T>(
        topic: string,
        payload: unknown,
        o: { timeoutMs?: number; signal?: AbortSignal } = {},
      ) =>
        await rt.bus.request("kernel", {
          topic,
          payload: payload as JsonValue,
          principal: tk.kernel.principal,
          session: rt.session,
        }, {
          timeoutMs: o.timeoutMs ?? 60_000,
          ...(o.signal ? { signal: o.signal } : {}),
        }) as T,
      watch(pattern) {
        const seen: BusEnvelope[] = [];
        unsubs.push(rt.bus.subscribe("kernel", {
          pattern,
          handler: (env) => {
            seen.push(env);
          },
        }));
        return seen;
      },
      async readSession(rel) {
        const vfs = await rt.vfs();
        const bytes = await vfs.readFile(`cwd://${rel}`);
        return new TextDecoder().decode(bytes);
      },
      async restart() {
        await stop();
        const kernel = await startKernel({
          env: new MemoryEnv({ ASTRID_HOME: tk.home, HOME: tk.root }),
          workspace: tk.workspace,
          ignoreSystemConfig: true,
          inMemoryStore: options.fileStore !== true,
          logger: tk.logger,
        });
        return await openFixture({ ...tk, kernel }, options);
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await runtime?.close().catch(() => {});
    await tk.kernel.close().catch(() => {});
    await Deno.remove(tk.root, { recursive: true }).catch(() => {});
    throw err;
  }
}
