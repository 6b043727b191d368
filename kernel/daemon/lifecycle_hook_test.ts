import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId } from "../core/ids.ts";
import { startTestKernel } from "../../tests/test_kernel_test.ts";
import { installBuiltCapsule } from "./capsule_build.ts";
import { startRuntime } from "./runtime.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");

function capsule(version: string, upgrade: string): Record<string, string> {
  return {
    "Capsule.toml":
      `[package]\nname = "hooked"\nversion = "${version}"\n\n[[component]]\ntype = "js"\nfile = "hooked.js"\n`,
    "main.ts": `import { defineCapsule, host } from "@astrid/sdk";
export default defineCapsule({
  actions: { read: async () => await host.kv.get("state") },
  install: async () => { await host.kv.set("state", "installed ${version}"); return null; },
  upgrade: async (p: { from: string }) => { ${upgrade} },
});
`,
  };
}

async function write(dir: string, files: Record<string, string>) {
  await Deno.mkdir(dir, { recursive: true });
  for (const f of ["capsule.lock.json", "hooked.js"]) {
    await Deno.remove(path.join(dir, f)).catch(() => {});
  }
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(path.join(dir, name), text);
  }
}

Deno.test("lifecycle hooks: install runs once with the real store; a failing upgrade aborts and restores the previous version; a good upgrade gets {from}", async () => {
  // Inside the repository, so the build resolves @astrid/sdk like capsules/.
  await Deno.mkdir(path.join(ROOT, ".test-tmp"), { recursive: true });
  const src = await Deno.makeTempDir({
    dir: path.join(ROOT, ".test-tmp"),
    prefix: "hooked-",
  });
  const tk = await startTestKernel({ prefix: "lifecycle-" });
  const read = async () => {
    await using rt = await startRuntime(tk.kernel, {
      workspace: tk.workspace,
      bubblewrap: null,
    });
    await rt.boot();
    return await rt.registry.invoke("hooked" as CapsuleId, "read", null);
  };
  try {
    await write(src, capsule("0.1.0", `return null;`));
    const first = await installBuiltCapsule(tk.kernel, { dir: src });
    assert.equal(first.hook, "ran");
    assert.equal(await read(), "installed 0.1.0");

    await write(src, capsule("0.2.0", `throw new Error("migration failed");`));
    await assert.rejects(
      installBuiltCapsule(tk.kernel, { dir: src }),
      /migration failed/,
    );
    const installed = path.join(
      tk.kernel.home.home(tk.kernel.principal).capsules,
      "hooked",
    );
    assert.match(
      await Deno.readTextFile(path.join(installed, "Capsule.toml")),
      /version = "0.1.0"/,
      "the previous version is back",
    );
    assert.equal(
      await read(),
      "installed 0.1.0",
      "and it still verifies and runs",
    );

    await write(
      src,
      capsule(
        "0.3.0",
        `await host.kv.set("state", "upgraded from " + p.from); return null;`,
      ),
    );
    const third = await installBuiltCapsule(tk.kernel, { dir: src });
    assert.equal(third.hook, "ran");
    assert.equal(await read(), "upgraded from 0.1.0");
  } finally {
    await tk.kernel.close();
    await Deno.remove(tk.root, { recursive: true });
    await Deno.remove(src, { recursive: true });
  }
});
