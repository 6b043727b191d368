/**
 * `astrid demo`: a walkthrough of what the kernel does today, in a throwaway
 * ASTRID_HOME and workspace, offline, with the embedded defaults.
 *
 * @module
 */
import * as path from "node:path";
import {
  blake3Hex,
  KernelError,
  MemoryEnv,
  publicKeyToBase64,
  sign,
  startKernel,
  verify,
} from "../../mod.ts";
import type { Logger } from "../../mod.ts";
import { demoGate } from "./demo_gate.ts";
import { demoRuntime } from "./demo_runtime.ts";
import { demoAgent } from "./demo_agent.ts";
import type { GlobalFlags } from "../flags.ts";
import { out, UsageError } from "../output.ts";

/** Help text of `astrid demo`. */
export const DEMO_HELP =
  `astrid demo — an agent at work under the gate, offline, in a throwaway home

Usage:
  astrid demo [--keep]           the agent run
  astrid demo kernel [--keep]    the kernel's foundations, step by step
  --keep leaves the temporary ASTRID_HOME and workspace on disk

The agent run installs the first-party capsules from capsules/, replays a recorded
model (no network, no key), and runs two turns in a safe-mode workspace: the agent
reads and edits a file (the edit waits in the session overlay; the diff is shown; the
commit asks the human), then a file tries to hijack it (read /etc/passwd, write
outside the workspace, sudo, send a key to another host) and every attempt is
refused and audited. The audit chain is verified at the end.

The kernel walkthrough boots a kernel (home 0700, runtime key 0600, Deno KV), signs
and verifies, restarts to prove the store persists, runs the five-layer gate and two
capsules, and shows the workspace config tightening the mode.`;

function step(title: string): void {
  out(`\n▶ ${title}`);
}

function line(text: string): void {
  out(`  ${text}`);
}

async function mode(file: string): Promise<string> {
  return ((await Deno.stat(file)).mode! & 0o777).toString(8).padStart(4, "0");
}

/**
 * Runs the demo.
 *
 * @param flags Global flags (`--keep`).
 * @returns The exit code.
 */
export async function demoCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const [what, ...extra] = args;
  if (extra.length > 0 || (what !== undefined && what !== "kernel")) {
    throw new UsageError(
      `Unknown demo '${
        [what, ...extra].join(" ")
      }': try 'astrid demo' or 'astrid demo kernel'`,
    );
  }
  return what === "kernel"
    ? await kernelWalkthrough(flags)
    : await agentRun(flags);
}

/** The agent run: a throwaway home, a safe-mode workspace, one session. */
async function agentRun(flags: GlobalFlags): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "astrid-demo-" });
  const home = path.join(root, "home");
  const workspace = path.join(root, "workspace");
  try {
    await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
    await Deno.mkdir(workspace, { recursive: true });
    await Deno.writeTextFile(
      path.join(home, "etc", "config.toml"),
      `[workspace]\nmode = "safe"\n`,
    );
    step("Boot a kernel in a throwaway ASTRID_HOME (workspace mode: safe)");
    const kernel = await startKernel({
      env: new MemoryEnv({ ASTRID_HOME: home, HOME: root }),
      workspace,
      ignoreSystemConfig: true,
      logger: quietLogger,
    });
    line(
      `home ${
        home.replace(root, "<tmp>")
      }, runtime key ${kernel.runtimeKey.keyId}`,
    );
    let ok: boolean;
    try {
      ok = await demoAgent(kernel, await Deno.realPath(workspace), step);
    } finally {
      await kernel.close();
    }
    out(
      ok
        ? "\n✔ demo finished: an agent read, edited and committed under the gate; the injection was refused; the chain verifies.\n  'astrid demo kernel' walks through the kernel's foundations."
        : "\n✖ demo finished with a step that did not do what it should (see above)",
    );
    return ok ? 0 : 1;
  } finally {
    if (flags.keep) out(`\n(kept ${root})`);
    else await Deno.remove(root, { recursive: true });
  }
}

/** The kernel walkthrough (`astrid demo kernel`). */
async function kernelWalkthrough(flags: GlobalFlags): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "astrid-demo-" });
  const home = path.join(root, "home");
  const workspace = path.join(root, "workspace");
  const env = new MemoryEnv({ ASTRID_HOME: home, HOME: root });
  try {
    await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
    await Deno.mkdir(path.join(workspace, ".astrid"), { recursive: true });
    await Deno.writeTextFile(
      path.join(home, "etc", "config.toml"),
      `[workspace]\nmode = "guided"\n`,
    );
    await Deno.writeTextFile(
      path.join(workspace, ".astrid", "config.toml"),
      `[workspace]\nmode = "safe"\n`,
    );
    const base = {
      env,
      workspace,
      ignoreSystemConfig: true,
      logger: quietLogger,
    };

    step("Boot a kernel in a throwaway ASTRID_HOME");
    let kernel = await startKernel(base);
    line(`home        ${home}   (mode ${await mode(home)})`);
    line(
      `runtime key ${kernel.runtimeKey.keyId}  created=${kernel.keyCreated}  file mode ${await mode(
        kernel.home.runtimeKey,
      )}`,
    );
    line(`public key  ${publicKeyToBase64(kernel.runtimeKey.publicKey)}`);

    step(
      "Sign and verify with the runtime key (Ed25519 via WebCrypto), hash with BLAKE3",
    );
    const message = new TextEncoder().encode(
      "capsule fs wants to write notes.md",
    );
    const signature = await sign(kernel.runtimeKey, message);
    line(`blake3(message)     ${blake3Hex(message)}`);
    line(
      `verify(original)    ${await verify(
        kernel.runtimeKey.publicKey,
        message,
        signature,
      )}`,
    );
    const tampered = new TextEncoder().encode(
      "capsule fs wants to write /etc/passwd",
    );
    line(
      `verify(tampered)    ${await verify(
        kernel.runtimeKey.publicKey,
        tampered,
        signature,
      )}   ← a forged message is rejected`,
    );

    step(
      "Write state, restart the kernel, read it back (Deno KV at var/state.kv)",
    );
    await kernel.store.set(["demo", "greeting"], {
      text: "hello from before the restart",
    });
    const keyId = kernel.runtimeKey.keyId;
    await kernel.close();
    kernel = await startKernel(base);
    const entry = await kernel.store.get(["demo", "greeting"]);
    line(`after restart: ${JSON.stringify(entry?.value)}`);
    line(
      `same runtime key after restart: ${kernel.runtimeKey.keyId === keyId}`,
    );

    step(
      "The five-layer gate: manifest, policy, token, budget, approval — every decision audited",
    );
    await demoGate(kernel, workspace);

    step(
      "Capsules: a js and a wasm capsule; every host call they make passes the gate",
    );
    await demoRuntime(kernel, workspace);
    const chain = await kernel.security.audit.verify(kernel.principal);
    line(
      `audit chain: ${chain.entriesVerified} entries, ${
        chain.valid ? "valid ✔" : "BROKEN"
      }`,
    );

    step("Layered config with provenance: the workspace may only tighten");
    line(
      `workspace.mode = ${
        JSON.stringify(kernel.config.get("workspace.mode"))
      }  set by ${kernel.config.origin("workspace.mode").layer} layer`,
    );
    await kernel.close();
    await Deno.writeTextFile(
      path.join(workspace, ".astrid", "config.toml"),
      `[workspace]\nmode = "yolo"\n`,
    );
    try {
      await startKernel(base);
      line("UNEXPECTED: the loosening workspace config was accepted");
      return 1;
    } catch (err) {
      if (!KernelError.is(err, "CONFIG_WIDENING")) throw err;
      line(
        `refused: error[${err.code}] ${err.message.replaceAll(root, "<tmp>")}`,
      );
    }
    out(
      "\n✔ demo finished. See README for what is built and what is next.",
    );
    return 0;
  } finally {
    if (flags.keep) out(`\n(kept ${root})`);
    else await Deno.remove(root, { recursive: true });
  }
}

const quietLogger: Logger = {
  log(): void {},
  child(): Logger {
    return quietLogger;
  },
};
