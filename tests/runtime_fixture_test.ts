/**
 * Shared set-up of the end-to-end runtime tests (tests/runtime_*_test.ts): a
 * REAL kernel (`startKernel`) in a throwaway `ASTRID_HOME` and workspace, the
 * session runtime (`startRuntime`) with short limits, and capsules installed
 * into `<home>/home/default/.local/capsules/` with a pinned `meta.json`, built
 * from our own sources — `js-runtime` (bundled with `deno bundle`) and
 * `wasm-runtime` (AssemblyScript, `scripts/build_wasm_fixtures.sh`). Both
 * answer the same actions with the same envelope, so every test runs in both
 * engines.
 *
 * The two artifacts are built once per test file, at module load (so the tests
 * themselves need no `run` permission).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId, PrincipalId } from "../kernel/core/ids.ts";
import { KernelError } from "../kernel/core/errors.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { createDenoEnv } from "../kernel/host/deno_env.ts";
import { denoToolchain } from "../kernel/host/deno_toolchain.ts";
import type { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { buildJsCapsule } from "../kernel/capsule/engines/js/build.ts";
import type { BootReport } from "../kernel/capsule/registry/registry.ts";
import type { AuditEntry } from "../kernel/audit/audit_entry.ts";
import type { KernelHandle } from "../kernel/daemon/boot.ts";
import { type Runtime, startRuntime } from "../kernel/daemon/runtime.ts";
import { loadWasmFixtures } from "./wasm_fixtures.ts";
import { pinCapsule, startTestKernel } from "./test_kernel_test.ts";

/** The engines every hostile test runs in. */
export const ENGINES = ["js", "wasm"] as const;
/** One engine. */
export type EngineName = typeof ENGINES[number];

/**
 * The deadline (the guest's own running time) of one call in these tests:
 * generous, so that a loaded machine never times out a guest that does
 * almost no work; tests of the deadline itself pass a short one.
 */
export const TIMEOUT_MS = 2_000;
/** The short deadline of the tests that stop an infinite loop. */
export const LOOP_TIMEOUT_MS = 300;
/** The memory cap of one capsule in these tests. */
export const MEMORY_BYTES = 64 * 1024 * 1024;

/**
 * What the tests need: the kernel's files, the capsules' files, the wasm
 * engine's worker (reads two environment variables). No `run`: the
 * artifacts are built at module load; no `net`: every network call is refused
 * before it is made.
 */
export const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
};

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
const fs = createDenoFs();

async function buildJsRuntime(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-runtime-js-" });
  try {
    const { artifact } = await buildJsCapsule({
      spawner: createDenoSpawner(),
      fs,
      toolchain: denoToolchain(createDenoEnv()),
    }, {
      entry: path.join(ROOT, "tests/fixtures/capsules/js-runtime/main.ts"),
      outFile: path.join(dir, "capsule.js"),
      cwd: ROOT,
    });
    return artifact;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The built artifacts, by engine. */
export const ARTIFACTS: Readonly<Record<EngineName, Uint8Array>> = {
  js: await buildJsRuntime(),
  wasm: (await loadWasmFixtures("wasm-runtime"))[0]!,
};

/** The artifact file name inside an installed capsule, by engine. */
export const ARTIFACT_FILE: Readonly<Record<EngineName, string>> = {
  js: "capsule.js",
  wasm: "capsule.wasm",
};

/** A capsule to install: its name, engine and `[capabilities]` lines. */
export interface CapsuleSpec {
  readonly name: string;
  readonly engine: EngineName;
  /** TOML lines of the `[capabilities]` table (none: grants nothing). */
  readonly capabilities?: readonly string[];
}

/** The `Capsule.toml` of a spec. */
export function manifestOf(spec: CapsuleSpec): string {
  return [
    "[package]",
    `name = "${spec.name}"`,
    'version = "1.0.0"',
    "",
    "[[component]]",
    `file = "${ARTIFACT_FILE[spec.engine]}"`,
    `type = "${spec.engine}"`,
    "",
    "[capabilities]",
    ...(spec.capabilities ?? []),
    "",
  ].join("\n");
}

/** A host call's answer as the guest saw it (both engines use this shape). */
export type Envelope =
  | { readonly ok: true; readonly value: JsonValue }
  | {
    readonly ok: false;
    readonly error: { readonly code: string; readonly message: string };
  };

/** A kernel and its session runtime in a throwaway home and workspace. */
export interface RuntimeFixture {
  /** `ASTRID_HOME`. */
  readonly home: string;
  /** The workspace (canonical). */
  readonly workspace: string;
  /** `<home>/home/default/.local/capsules`. */
  readonly capsules: string;
  readonly kernel: KernelHandle;
  readonly runtime: Runtime;
  readonly principal: PrincipalId;
  readonly logger: MemoryLogger;
  /** Installs a capsule (files + pinned meta.json); returns its directory. */
  install(spec: CapsuleSpec): Promise<string>;
  /** Boots the installed capsules. */
  boot(): Promise<BootReport>;
  /** Calls an action of a loaded capsule. */
  invoke(
    capsule: string,
    action: string,
    payload?: JsonValue,
  ): Promise<JsonValue>;
  /** Calls the capsule action that relays host function `fn`; returns the guest's envelope. */
  hostCall(capsule: string, fn: string, payload: JsonValue): Promise<Envelope>;
  /** Audit entries of the principal's chain for a capsule, in a session (not the install's). */
  audit(
    capsule: string,
    decision?: "allowed" | "denied",
  ): Promise<AuditEntry[]>;
  /** Stops the runtime and the kernel, removes the directories. */
  close(): Promise<void>;
}

/**
 * Boots a real kernel (in-memory store unless `fileStore`) with the workspace
 * in `autonomous` mode, and starts its runtime with 300 ms / 64 MiB limits.
 *
 * @param options `fileStore`: keep state in `<home>/var/state.kv`; `config`:
 *   more TOML for the user config file; `timeoutMs`: the call deadline;
 *   `tempBase`: where the temp dir goes.
 * @returns The fixture; call `close()` in `finally`.
 */
export async function makeRuntime(
  options: {
    fileStore?: boolean;
    config?: string;
    timeoutMs?: number;
    /** `null`: say bubblewrap is unavailable (default: look it up). */
    bubblewrap?: string | null;
    tempBase?: string;
  } = {},
): Promise<RuntimeFixture> {
  const { bubblewrap, ...kernelOptions } = options;
  const { root, home, workspace, kernel, logger } = await startTestKernel({
    prefix: "astrid-runtime-",
    ...kernelOptions,
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime(kernel, {
      workspace,
      limits: {
        timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
        memoryBytes: MEMORY_BYTES,
      },
      ...(bubblewrap === undefined ? {} : { bubblewrap }),
    });
  } catch (err) {
    await kernel.close();
    await Deno.remove(root, { recursive: true });
    throw err;
  }
  const capsules = kernel.home.home(kernel.principal).capsules;
  const principal = kernel.principal;
  return {
    home,
    workspace,
    capsules,
    kernel,
    runtime,
    principal,
    logger,
    async install(spec) {
      const dir = path.join(capsules, spec.name);
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(
        path.join(dir, ARTIFACT_FILE[spec.engine]),
        ARTIFACTS[spec.engine],
      );
      await pinCapsule(kernel, dir, manifestOf(spec));
      return dir;
    },
    boot: () => runtime.boot(),
    invoke: (capsule, action, payload = null) =>
      runtime.registry.invoke(capsule as CapsuleId, action, payload),
    async hostCall(capsule, fn, payload) {
      const answer = await runtime.registry.invoke(
        capsule as CapsuleId,
        fn,
        payload,
      );
      const e = answer as Envelope;
      assert.ok(
        e !== null && typeof e === "object" && typeof e.ok === "boolean",
        `${capsule}.${fn} answered ${JSON.stringify(answer)}`,
      );
      return e;
    },
    audit: async (capsule, decision) => {
      await kernel.security.gate.flush();
      // Session entries only: the install record's approval has no session.
      return (await kernel.security.audit.query({
        principal,
        capsule: capsule as CapsuleId,
        ...(decision === undefined ? {} : { decision }),
      })).filter((e) => e.session !== null);
    },
    async close() {
      try {
        await runtime.close();
      } finally {
        try {
          await kernel.close();
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      }
    },
  };
}

/** Asserts an envelope is a refusal with `code`; returns its message. */
export function assertRefused(e: Envelope, code: string): string {
  assert.equal(e.ok, false, `expected ${code}, got ${JSON.stringify(e)}`);
  if (e.ok) throw new Error("unreachable");
  assert.equal(e.error.code, code, e.error.message);
  return e.error.message;
}

/** Asserts an envelope is a success; returns its value. */
export function assertOk(e: Envelope): JsonValue {
  assert.ok(e.ok, `expected success, got ${JSON.stringify(e)}`);
  if (!e.ok) throw new Error("unreachable");
  return e.value;
}

/** Awaits a promise that must reject with a KernelError; returns it. */
export async function rejection(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (err) {
    if (KernelError.is(err)) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}
