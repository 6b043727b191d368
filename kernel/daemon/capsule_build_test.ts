import assert from "node:assert/strict";
import * as path from "node:path";
import { createDenoFs } from "../host/deno_fs.ts";
import {
  BUILD_LOCK,
  buildCapsuleDir,
  capsuleFiles,
  findDenoConfig,
  verifyCapsuleBuild,
} from "./capsule_build.ts";
import { parseDistro } from "./distro.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");
const fs = createDenoFs();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-build-" }),
  );
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function write(dir: string, files: Record<string, string>) {
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await Deno.writeTextFile(path.join(dir, rel), text);
  }
}

const MANIFEST = `[package]
name = "tiny"
version = "0.1.0"

[[component]]
type = "js"
file = "tiny.js"
source = "src/entry.ts"
`;

Deno.test("capsuleFiles(): sources only — no tests, locks, node_modules, .git, top-level dist, excluded artifacts", async () => {
  await withDir(async (dir) => {
    await write(dir, {
      "Capsule.toml": "",
      "main.ts": "",
      "lib/util.ts": "",
      "lib/util_test.ts": "",
      "main_test.ts": "",
      [BUILD_LOCK]: "",
      "deno.lock": "",
      "node_modules/x/index.js": "",
      ".git/HEAD": "",
      "dist/out.js": "",
      "lib/dist/kept.ts": "",
      "tiny.js": "",
    });
    assert.deepEqual(await capsuleFiles(fs, dir, ["tiny.js"]), [
      "Capsule.toml",
      "lib/dist/kept.ts",
      "lib/util.ts",
      "main.ts",
    ]);
  });
});

Deno.test("capsuleFiles(): a symlink is refused, naming it (a skipped node_modules link is fine)", async () => {
  await withDir(async (dir) => {
    await write(dir, { "Capsule.toml": "", "real.ts": "" });
    await Deno.symlink(ROOT, path.join(dir, "node_modules"));
    assert.deepEqual(await capsuleFiles(fs, dir), ["Capsule.toml", "real.ts"]);
    await Deno.symlink(
      path.join(dir, "real.ts"),
      path.join(dir, "alias.ts"),
    );
    await assert.rejects(
      () => capsuleFiles(fs, dir),
      (err: Error & { code?: string }) =>
        err.code === "CAPSULE_INTEGRITY" && /'alias\.ts'/.test(err.message),
    );
  });
});

Deno.test("buildCapsuleDir(): bundles [[component]].source and pins Capsule.toml, sources and the artifact; verify catches edits and additions", async () => {
  await withDir(async (dir) => {
    await write(dir, {
      "Capsule.toml": MANIFEST,
      "src/entry.ts":
        `import { defineCapsule } from "@astrid/sdk";\nimport { n } from "./n.ts";\nexport default defineCapsule({ ping: () => n });\n`,
      "src/n.ts": "export const n = 42;\n",
    });
    const progress: string[] = [];
    const config = await findDenoConfig(fs, ROOT);
    assert.equal(config, path.join(ROOT, "deno.json"));
    const result = await buildCapsuleDir({
      dir,
      config: config!,
      onProgress: (m) => progress.push(m),
    });
    assert.equal(result.lock.source, "src/entry.ts");
    assert.deepEqual(Object.keys(result.lock.files).sort(), [
      "Capsule.toml",
      "src/entry.ts",
      "src/n.ts",
      "tiny.js",
    ]);
    assert.match(progress[0] ?? "", /bundling src\/entry\.ts → tiny\.js/);
    assert.match(await Deno.readTextFile(result.artifact), /42/);
    await verifyCapsuleBuild(dir, fs);

    await Deno.writeTextFile(
      path.join(dir, "src/n.ts"),
      "export const n = 7;\n",
    );
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      /'src\/n\.ts' changed since the build/,
    );
    await buildCapsuleDir({ dir, config: config! });
    await Deno.writeTextFile(path.join(dir, "src/extra.ts"), "");
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      /'src\/extra\.ts' was added since the build/,
    );
    await Deno.remove(path.join(dir, "src/extra.ts"));
    await Deno.remove(path.join(dir, "tiny.js"));
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      /'tiny\.js' is missing/,
    );
  });
});

Deno.test("verifyCapsuleBuild(): no lock, a malformed lock and a lock of another version are refused", async () => {
  await withDir(async (dir) => {
    await write(dir, { "Capsule.toml": MANIFEST });
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      (err: Error & { code?: string }) =>
        err.code === "NOT_FOUND" && /astrid capsule build/.test(err.message),
    );
    await write(dir, {
      [BUILD_LOCK]: JSON.stringify({
        schema: 1,
        capsule: "tiny",
        version: "0.1.0",
        engine: "js",
        source: "main.ts",
        artifact: "tiny.js",
        files: { "../outside": `blake3:${"0".repeat(64)}` },
      }),
    });
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      /not a schema-1 capsule build lock/,
    );
    await write(dir, {
      [BUILD_LOCK]: JSON.stringify({
        schema: 1,
        capsule: "tiny",
        version: "0.0.9",
        engine: "js",
        source: "main.ts",
        artifact: "tiny.js",
        files: {},
      }),
    });
    await assert.rejects(
      () => verifyCapsuleBuild(dir, fs),
      /is for tiny@0\.0\.9, Capsule\.toml says tiny@0\.1\.0/,
    );
  });
});

Deno.test("buildCapsuleDir(): no component, a missing source and a wasm capsule without a toolchain say what to do", async () => {
  await withDir(async (dir) => {
    await write(dir, {
      "Capsule.toml": `[package]\nname = "bare"\nversion = "0.1.0"\n`,
    });
    await assert.rejects(
      () => buildCapsuleDir({ dir }),
      /has no \[\[component\]\] to build/,
    );
    await write(dir, { "Capsule.toml": MANIFEST });
    await assert.rejects(
      () => buildCapsuleDir({ dir }),
      /its source 'src\/entry\.ts' does not exist/,
    );
    await write(dir, {
      "Capsule.toml":
        `[package]\nname = "w"\nversion = "0.1.0"\n[[component]]\ntype = "wasm"\nfile = "w.wasm"\n`,
      "index.ts": "",
    });
    await assert.rejects(
      () => buildCapsuleDir({ dir }),
      /no AssemblyScript compiler .*npm install --save-dev assemblyscript@0\.28\.20 @extism\/as-pdk@1\.0\.0/,
    );
  });
});

Deno.test("parseDistro(): a valid distro with variables, groups and env templates", () => {
  const d = parseDistro(
    `schema-version = 1
[distro]
id = "mine"
name = "Mine"
version = "1.2.3"
astrid-version = ">=0.1.0"
[variables]
key = { secret = true, description = "API key" }
[[capsule]]
name = "p"
source = "./providers/p/"
version = "0.1.0"
group = "llm"
env = { api_key = "{{ key }}", plain = "x" }
`,
    "Distro.toml",
  );
  assert.equal(d.id, "mine");
  assert.deepEqual(d.variables, {
    key: { secret: true, description: "API key" },
  });
  assert.deepEqual(d.capsules, [{
    name: "p",
    source: "providers/p",
    version: "0.1.0",
    group: "llm",
    env: { api_key: "{{ key }}", plain: "x" },
  }]);
});
