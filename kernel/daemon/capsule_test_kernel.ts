/**
 * A test kernel for capsule authors: builds a copy of a capsule directory
 * exactly as `astrid capsule build` does (the directory itself is not
 * written), boots a REAL kernel in a throwaway home and
 * workspace, installs the capsule with a signed record, boots the session
 * runtime, and lets the test call the capsule's tools over the bus the way
 * the router does. Exported from the package root as
 * {@linkcode startCapsuleTestKernel}; a scaffolded capsule's `*_test.ts`
 * uses it.
 *
 * @module
 */
import * as path from "node:path";
import type { JsonValue } from "../store/store.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { Env } from "../core/ports.ts";
import type { BusEnvelope } from "../bus/envelope.ts";
import type { BootReport } from "../capsule/registry/registry.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { createStderrLogger } from "../host/stderr_logger.ts";
import { makeTempDir } from "../host/temp_dir.ts";
import type { ToolDefinition } from "../../sdk/llm.ts";
import type { ToolExecuteResult } from "../../sdk/agent.ts";
import {
  buildCapsuleDir,
  capsuleFiles,
  copyCapsuleFiles,
  findDenoConfig,
} from "./capsule_build.ts";
import { installCapsule } from "./install.ts";
import { type KernelHandle, startKernel } from "./boot.ts";
import { type Runtime, startRuntime } from "./runtime.ts";

/** Options of {@linkcode startCapsuleTestKernel}. */
export interface CapsuleTestKernelOptions {
  /** The capsule directory (holds `Capsule.toml`); a copy of it is built. */
  readonly capsuleDir: string;
  /** More capsule directories to build and install alongside. */
  readonly alsoInstall?: readonly string[];
  /** Files to create in the workspace before boot (relative path → text). */
  readonly files?: Readonly<Record<string, string>>;
  /** Workspace mode; default `autonomous` (no approval prompts). */
  readonly mode?: "safe" | "guided" | "autonomous";
  /** Secrets to store before boot: capsule name → secret name → value. */
  readonly secrets?: Readonly<
    Record<string, Readonly<Record<string, string>>>
  >;
  /** The capsule's per-call wall-clock deadline; default 5000 ms. */
  readonly timeoutMs?: number;
}

/** A booted kernel with the capsule installed and loaded. */
export interface CapsuleTestKernel extends AsyncDisposable {
  /** The throwaway workspace (the capsule's `cwd://`). */
  readonly workspace: string;
  /** Which capsules loaded and which were refused. */
  readonly report: BootReport;
  /** The kernel (its audit chain, config, key). */
  readonly kernel: KernelHandle;
  /** The session runtime (bus, registry, overlay). */
  readonly runtime: Runtime;
  /**
   * Calls a tool as the router does: a request on `tool.v1.execute.<name>`.
   *
   * @param name The tool's name.
   * @param args Its arguments.
   * @returns The tool's result (`is_error` with the message when it threw).
   */
  callTool(
    name: string,
    args?: Readonly<Record<string, unknown>>,
  ): Promise<ToolExecuteResult>;
  /**
   * Answers requests on `pattern` as the kernel (a stand-in for a capsule
   * that is not installed, e.g. the tool an interceptor guards).
   *
   * @param pattern A bus topic pattern.
   * @param handler Returns the answer from the request's payload.
   */
  answer(pattern: string, handler: (payload: unknown) => unknown): void;
  /** The tool definitions the loaded capsules offer (`tool.v1.request.describe`; the helper answers as the router would). */
  describeTools(): Promise<readonly ToolDefinition[]>;
  /**
   * Sends any bus request as the kernel.
   *
   * @param topic The topic.
   * @param payload The payload.
   * @returns The answer.
   */
  request<T = unknown>(topic: string, payload: unknown): Promise<T>;
  /**
   * Records every message published on topics matching `pattern`.
   *
   * @param pattern A bus topic pattern.
   * @returns The live list of envelopes seen so far.
   */
  watch(pattern: string): BusEnvelope[];
  /** Reads a workspace file as the session sees it (the overlay first). */
  readWorkspaceFile(relPath: string): Promise<string>;
  /** Stops everything and removes the throwaway home and workspace. */
  close(): Promise<void>;
}

class FixedEnv implements Env {
  readonly #vars: Record<string, string>;
  constructor(vars: Record<string, string>) {
    this.#vars = vars;
  }
  get(name: string): string | undefined {
    return Object.hasOwn(this.#vars, name) ? this.#vars[name] : undefined;
  }
}

/**
 * Builds the capsule, boots a real kernel with it installed, and returns a
 * handle to call its tools.
 *
 * @param options The capsule dir, workspace files, mode, secrets.
 * @returns The test kernel; `close()` (or `await using`) removes everything.
 * @throws {KernelError} A build or install failure (the compiler's message).
 * @throws {Error} When the capsule is refused at boot (the boot report).
 *
 * @example Call a scaffolded capsule's tool
 * ```ts ignore
 * import { startCapsuleTestKernel } from "@astrid/astrid";
 * await using k = await startCapsuleTestKernel({ capsuleDir: import.meta.dirname! });
 * const result = await k.callTool("greet", { name: "Ada" });
 * console.assert(!result.is_error);
 * ```
 */
export async function startCapsuleTestKernel(
  options: CapsuleTestKernelOptions,
): Promise<CapsuleTestKernel> {
  const fs = createDenoFs();
  const sources = [options.capsuleDir, ...(options.alsoInstall ?? [])].map((
    d,
  ) => path.resolve(d));
  const root = await makeTempDir("astrid-capsule-test-");
  const home = path.join(root, "astrid");
  const workspace = path.join(root, "ws");
  let kernel: KernelHandle | undefined;
  let runtime: Runtime | undefined;
  try {
    // Build copies, so that tests never write into the capsule's own dir
    // (parallel test files would race on its artifact); the copy bundles
    // with the deno.json the original resolves @astrid/sdk with.
    const dirs: string[] = [];
    const built = [];
    for (const [i, src] of sources.entries()) {
      const dir = path.join(root, "build", String(i));
      await copyCapsuleFiles(fs, src, dir, await capsuleFiles(fs, src));
      const config = await findDenoConfig(fs, src);
      built.push(
        await buildCapsuleDir({ dir, ...(config ? { config } : {}) }),
      );
      dirs.push(dir);
    }
    await fs.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
    await fs.chmod(home, 0o700);
    await fs.mkdir(workspace, { recursive: true });
    await fs.writeFile(
      path.join(home, "etc", "config.toml"),
      new TextEncoder().encode(
        `[workspace]\nmode = "${options.mode ?? "autonomous"}"\n`,
      ),
    );
    for (const [rel, text] of Object.entries(options.files ?? {})) {
      const file = path.join(workspace, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, new TextEncoder().encode(text));
    }
    kernel = await startKernel({
      env: new FixedEnv({ ASTRID_HOME: home, HOME: root }),
      workspace,
      ignoreSystemConfig: true,
      inMemoryStore: true,
      logger: createStderrLogger({ level: "error" }),
    });
    for (const [i, dir] of dirs.entries()) {
      const b = built[i]!;
      const file = b.manifest.component?.file ?? "";
      await installCapsule(kernel, {
        source: dir,
        files: { [file]: b.artifact },
        approvedBy: "capsule-test",
      });
    }
    runtime = await startRuntime(kernel, {
      limits: {
        timeoutMs: options.timeoutMs ?? 5_000,
        memoryBytes: 64 * 1024 * 1024,
      },
      bubblewrap: null,
      workspace,
    });
    for (const [capsule, values] of Object.entries(options.secrets ?? {})) {
      for (const [key, value] of Object.entries(values)) {
        await runtime.secrets.set(capsule as CapsuleId, key, value);
      }
    }
    const report = await runtime.boot();
    if (report.refused.length > 0) {
      throw new Error(
        `capsules refused at boot: ${JSON.stringify(report.refused)}`,
      );
    }
    const k = kernel;
    const rt = runtime;
    const unsubs: (() => void)[] = [];
    const request = async <T>(topic: string, payload: unknown) =>
      await rt.bus.request("kernel", {
        topic,
        payload: payload as JsonValue,
        principal: k.principal,
        session: rt.session,
      }, { timeoutMs: 60_000 }) as T;
    const answer = (pattern: string, handler: (p: unknown) => unknown) => {
      unsubs.push(rt.bus.subscribe("kernel", {
        pattern,
        handler: (env) => handler(env.payload) as JsonValue,
      }));
    };
    // The router's part of describe: the chain of tool capsules appends.
    answer("tool.v1.request.describe", (p) => p);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      for (const u of unsubs) u();
      await rt.close();
      await k.close();
      await fs.remove(root, { recursive: true }).catch(() => {});
    };
    return {
      workspace,
      report,
      kernel: k,
      runtime: rt,
      callTool: (name, args = {}) =>
        request<ToolExecuteResult>(`tool.v1.execute.${name}`, {
          call_id: `test-${crypto.randomUUID()}`,
          name,
          arguments: args,
          session_id: rt.session,
        }),
      describeTools: async () =>
        (await request<{ tools: ToolDefinition[] }>(
          "tool.v1.request.describe",
          { tools: [] },
        )).tools,
      request,
      answer,
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
      async readWorkspaceFile(rel) {
        const vfs = await rt.vfs();
        return new TextDecoder().decode(await vfs.readFile(`cwd://${rel}`));
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await runtime?.close().catch(() => {});
    await kernel?.close().catch(() => {});
    await fs.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
}
