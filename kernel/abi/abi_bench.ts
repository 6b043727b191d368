/**
 * Parts of one host call (absolute times, for profiling): the gate's own
 * cost, the dispatcher, the overlay read, the direct read. The ratio of issue
 * 12 (a js host call ≤ 2× the bare gate) is measured interleaved on both
 * store kinds by `deno task bench` (bench/scenarios/js.ts).
 *
 * A real kernel (`startKernel`, file-backed Deno KV in a throwaway home) and
 * its session runtime; the dispatcher is built with the same ports the runtime
 * gives capsules (gate, audit, store, the session's overlay as guest fs), so
 * the ABI's cost is measured without an engine in the way. In one group:
 *
 * - `gate.decide()` of a `capsule_file_access` read inside the
 *   workspace (manifest, policy, mode, budget, one signed audit entry);
 * - `gate.run()` with an empty effect: decide + the outcome audit entry;
 * - the `fs_read` host call through the dispatcher (payload checks, action
 *   mapping, `gate.run`, the overlay read, UTF-8 decode);
 * - the same call with a pass-through gate (the ABI's own cost);
 * - the overlay read alone (`SessionVfs.readFile`, no gate);
 * - the same read done directly (`Deno.readFile`).
 *
 * A second group does 16 decides versus 16 host calls at once (the audit log
 * group-commits concurrent appends of one chain).
 *
 * Run: `deno task bench:micro kernel/abi/abi_bench.ts`.
 */
import * as path from "node:path";
import type { CapsuleId } from "../core/ids.ts";
import { MemoryEnv } from "../testing/memory_env.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import type { Action } from "../security/action.ts";
import type { GateContext } from "../security/context.ts";
import { NO_GRANTS } from "../security/manifest_grant.ts";
import { startKernel } from "../daemon/boot.ts";
import { startRuntime } from "../daemon/runtime.ts";
import { createHostDispatcher } from "./host_table.ts";
import type { CallerIdentity, HostDeps } from "./ports.ts";
import { guestFsOf } from "./guest_fs.ts";

const root = await Deno.realPath(
  await Deno.makeTempDir({ prefix: "astrid-abi-bench-" }),
);
const home = path.join(root, "astrid");
const workspace = path.join(root, "ws");
await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
await Deno.mkdir(workspace);
await Deno.writeTextFile(
  path.join(home, "etc", "config.toml"),
  '[workspace]\nmode = "autonomous"\n',
);
const content = "x".repeat(1023) + "\n";
await Deno.writeTextFile(path.join(workspace, "bench.txt"), content);

const kernel = await startKernel({
  env: new MemoryEnv({ ASTRID_HOME: home, HOME: root }),
  workspace,
  ignoreSystemConfig: true,
  logger: new MemoryLogger(),
});
const runtime = await startRuntime(kernel, { workspace });
const capsule = "bench" as CapsuleId;
kernel.security.setGrants(capsule, { ...NO_GRANTS, fs_read: ["*"] });

const vfs = await runtime.vfs();
const guestFs = guestFsOf(() => Promise.resolve(vfs));
const { gate, audit, approvals } = kernel.security;
const deps: HostDeps = {
  gate,
  audit,
  approvals,
  store: kernel.store,
  clock: kernel.ports.clock,
  logger: kernel.ports.logger,
  fetch: globalThis.fetch,
  spawner: createDenoSpawner(),
  secrets: runtime.secrets,
  fs: () => guestFs,
  process: {
    sandbox: {
      bwrap: null,
      unshare: "/usr/bin/unshare",
      hiddenDirs: [home],
      scratchRoot: path.join(home, "var", "spawn"),
    },
    allowUnsandboxed: false,
    hostFs: kernel.ports.fs,
    overlay: () =>
      runtime.overlays.forSession(kernel.principal, runtime.session, {
        workspace: runtime.workspace,
      }),
  },
};
const caller: CallerIdentity = {
  capsule,
  principal: kernel.principal,
  session: runtime.session,
  workspace: runtime.workspace,
  principalHome: kernel.home.home(kernel.principal).root,
};
const unload = new AbortController();
const dispatch = createHostDispatcher(deps, caller, {
  config: {},
  signal: unload.signal,
  random: kernel.ports.random,
});
// The same dispatcher with a pass-through gate: what the ABI itself costs
// (payload checks, action mapping, signals, overlay read, decode).
const passThrough = createHostDispatcher(
  {
    ...deps,
    gate: {
      run: (
        _a: Action,
        _c: GateContext,
        o: { effect: () => Promise<unknown> },
      ) => o.effect(),
    } as unknown as HostDeps["gate"],
  },
  caller,
  { config: {}, signal: unload.signal, random: kernel.ports.random },
);
const signal = new AbortController().signal;
const file = path.join(runtime.workspace, "bench.txt");
const action: Action = {
  type: "capsule_file_access",
  capsule_id: capsule,
  path: file,
  mode: "read",
};
const ctx = (): GateContext => ({
  principal: kernel.principal,
  session: runtime.session,
  capsule,
  workspace: runtime.workspace,
  callId: crypto.randomUUID(),
});

// Fail fast when the set-up is wrong (a refused decision would bench the deny path).
const probe = await gate.decide(action, ctx());
if (!probe.allowed) throw new Error(`expected allowed, got ${probe.reason}`);
const read = await dispatch("fs_read", { path: "bench.txt" }, { signal });
if ((read as { content: string }).content !== content) {
  throw new Error("fs_read returned the wrong content");
}

const group = "host call vs gate";

Deno.bench("abi: gate decide: capsule_file_access read (+ audit)", {
  group,
}, async () => {
  const d = await gate.decide(action, ctx());
  if (!d.allowed) throw new Error(d.reason);
});

Deno.bench("abi: gate run: decide + empty effect (+ outcome audit)", {
  group,
}, async () => {
  await gate.run(action, ctx(), { effect: () => Promise.resolve(null) });
});

Deno.bench("abi: host call fs_read 1 KiB (dispatcher: gate.run + overlay)", {
  group,
}, async () => {
  await dispatch("fs_read", { path: "bench.txt" }, { signal });
});

Deno.bench("abi: host call fs_read 1 KiB, pass-through gate (ABI only)", {
  group,
}, async () => {
  await passThrough("fs_read", { path: "bench.txt" }, { signal });
});

Deno.bench(
  "abi: overlay read 1 KiB (SessionVfs, no gate)",
  { group },
  async () => {
    await vfs.readFile("bench.txt", { signal });
  },
);

Deno.bench("abi: direct Deno.readFile 1 KiB", { group }, async () => {
  await Deno.readFile(file);
});

// 16 calls at once: the audit log group-commits concurrent appends per chain.
const concurrent = "host call vs gate, 16 concurrent";
const many = <T>(fn: () => Promise<T>) =>
  Promise.all(Array.from({ length: 16 }, fn));

Deno.bench("abi: 16 concurrent gate decides", {
  group: concurrent,
}, async () => {
  await many(() => gate.decide(action, ctx()));
});

Deno.bench("abi: 16 concurrent host calls fs_read 1 KiB", {
  group: concurrent,
}, async () => {
  await many(() => dispatch("fs_read", { path: "bench.txt" }, { signal }));
});

globalThis.addEventListener("unload", () => {
  unload.abort();
  // silent-ok: bench teardown; the store is dropped with the process and the
  // temp dir is removed best effort.
  Deno.removeSync(root, { recursive: true });
});
