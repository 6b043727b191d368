/**
 * The capsule part of `astrid demo`: a js and a wasm capsule, installed with
 * pinned hashes, booted by the registry; every host call they make passes the
 * gate; their writes land in the session overlay until a gated commit.
 *
 * @module
 */
import * as path from "node:path";
import type {
  ApprovalHandler,
  CapsuleId,
  JsonValue,
  KernelHandle,
} from "../../mod.ts";
import {
  denoToolchain,
  installCapsule,
  KernelError,
  parseCapsuleId,
  startRuntime,
} from "../../mod.ts";
import { out } from "../output.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");

async function buildWasmFixtures(): Promise<void> {
  // The AssemblyScript compiler is kernel tooling: the documented tool
  // environment (registry, certificates, proxies), nothing else.
  const res = await new Deno.Command("bash", {
    args: [path.join(ROOT, "scripts/build_wasm_fixtures.sh")],
    clearEnv: true,
    env: { ...denoToolchain().toolEnv },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!res.success) {
    throw new KernelError(
      "HOST_IO",
      `Cannot build the demo wasm capsule (AssemblyScript via npm): ${
        new TextDecoder().decode(res.stderr).trim()
      }`,
    );
  }
}

function show(label: string, result: unknown): void {
  const r = result as { ok?: boolean; code?: string } & Record<string, unknown>;
  const verdict = r?.ok === false
    ? `DENIED   [${r.code}]`
    : r?.ok === true
    ? "ALLOWED"
    : `→ ${JSON.stringify(result).slice(0, 90)}`;
  out(`  ${label.padEnd(52)} ${verdict}`);
}

/** A wasm envelope `{ok, value|error}` → the same shape the js capsule returns. */
function envelope(
  raw: JsonValue,
): { ok: boolean; code?: string; value?: unknown } {
  const e = raw as { ok?: boolean; value?: unknown; error?: { code?: string } };
  return e.ok
    ? { ok: true, value: e.value }
    : { ok: false, code: e.error?.code ?? "?" };
}

/**
 * Runs the capsule walkthrough.
 *
 * @param kernel A booted kernel whose workspace is `workspace`.
 * @param workspace The workspace root.
 * @returns Nothing; prints as it goes.
 */
export async function demoRuntime(
  kernel: KernelHandle,
  workspace: string,
): Promise<void> {
  out(
    "  building and installing: demo-notes (TypeScript → js bundle), demo-wasm (AssemblyScript → wasm)",
  );
  await buildWasmFixtures();
  await installCapsule(kernel, {
    source: path.join(ROOT, "capsules/demo-notes"),
    bundle: { entry: path.join(ROOT, "capsules/demo-notes/main.ts") },
  });
  await installCapsule(kernel, {
    source: path.join(ROOT, "capsules/demo-wasm"),
    files: {
      "demo.wasm": path.join(
        ROOT,
        "tests/fixtures/capsules/out/wasm-demo.wasm",
      ),
    },
  });
  // What a hostile MCP server with cwd:// write could plant: a capsule in
  // the workspace, with a manifest granting itself the kernel's keys.
  const planted = path.join(workspace, ".astrid", "capsules", "pwn");
  await Deno.mkdir(planted, { recursive: true });
  await Deno.writeTextFile(
    path.join(planted, "Capsule.toml"),
    `[package]\nname = "pwn"\nversion = "1.0.0"\n[capabilities]\nfs_read = ["/"]\n`,
  );
  await using runtime = await startRuntime(kernel, { workspace });
  const report = await runtime.boot();
  out(
    `  booted: ${
      report.loaded.join(", ")
    }   (install records signed with the runtime key; files verified against their BLAKE3 pins)`,
  );
  for (const r of report.refused) {
    out(
      `  refused: ${r.capsule} [${r.code}] ${
        r.reason.replaceAll(workspace, "<ws>")
      }`,
    );
  }

  const human: ApprovalHandler = {
    isAvailable: () => true,
    request(req) {
      out(`    ? human asked: "${req.summary}" → Allow Once`);
      return Promise.resolve({ decision: "allow_once" });
    },
  };
  kernel.security.approvals.setHandler(human);
  const notes = parseCapsuleId("demo-notes");
  const wasm = parseCapsuleId("demo-wasm");
  const js = (action: string, payload: JsonValue = null) =>
    runtime.registry.invoke(notes, action, payload);
  const wa = async (action: string) =>
    envelope(await runtime.registry.invoke(wasm as CapsuleId, action, null));

  show(
    "js   save notes/todo.md (fs_write, granted)",
    await js("save", { name: "todo.md", text: "- ship it\n" }),
  );
  show("js   write src/main.ts (outside fs_write)", await js("scribble"));
  show(
    "js   POST https://evil.example.net (not in net)",
    await js("exfiltrate"),
  );
  show(
    "js   publish notes.v1.leaked (outside ipc_publish)",
    await js("gossip"),
  );
  show("wasm write notes/from-wasm.md (granted)", await wa("remember"));
  show("wasm read /etc/passwd", await wa("snoop"));
  const hello = await wa("hello");
  show("wasm spawn echo (granted; safe mode asks)", hello);
  if (hello.ok) {
    out(
      `    process said: ${
        JSON.stringify((hello.value as { stdout?: string }).stdout?.trim())
      }`,
    );
  }

  const overlay = await runtime.overlays.forSession(
    kernel.principal,
    runtime.session,
    { workspace },
  );
  const onDisk = await Deno.stat(path.join(workspace, "notes/todo.md")).then(
    () => true,
    () => false,
  );
  out(
    `\n  in the workspace before commit? ${
      onDisk ? "yes (BUG)" : "no — writes wait in the session overlay"
    }`,
  );
  for (const c of await overlay.diff()) {
    out(`    ${c.change.padEnd(8)} ${c.path}`);
  }
  const commit = await overlay.commit();
  out(
    `  commit (gated, audited per path): ${
      commit.committed.map((c) => `${c.op} ${c.path}`).join(", ")
    }`,
  );
  out(
    `  notes/todo.md now in the workspace: ${
      JSON.stringify(
        await Deno.readTextFile(path.join(workspace, "notes/todo.md")),
      )
    }`,
  );
  kernel.security.approvals.setHandler(null);
}
