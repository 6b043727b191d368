/**
 * End-to-end: `astrid capsule new|build|install` as real subprocesses, in a
 * temp dir outside this repository; the scaffolded capsule's own test runs
 * there with `deno test -A` and boots a real kernel.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Run, runDeno } from "./cli_fixture_test.ts";
import { pathToFileURL } from "node:url";
import { loadWasmFixtures } from "./wasm_fixtures.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
const MAIN = path.join(ROOT, "cli/main.ts");

function run(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<Run> {
  return runDeno(args, {
    cwd: options.cwd,
    env: { HOME: options.cwd, ...options.env },
  });
}

function astrid(args: string[], cwd: string, home?: string): Promise<Run> {
  return run([
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    MAIN,
    ...args,
  ], { cwd, env: { ASTRID_HOME: home ?? path.join(cwd, ".astrid-home") } });
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-author-" }),
  );
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function ok(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}

Deno.test("capsule new: scaffolds a least-privilege tool capsule outside the repo", async () => {
  await withTmp(async (tmp) => {
    const r = await astrid(["capsule", "new", "word-count", "--dir", tmp], tmp);
    ok(r, "new");
    const dir = path.join(tmp, "word-count");
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
      .sort();
    assert.deepEqual(names, [
      ".gitignore",
      "Capsule.toml",
      "README.md",
      "deno.json",
      "main.ts",
      "word_count_test.ts",
    ]);
    const toml = await Deno.readTextFile(path.join(dir, "Capsule.toml"));
    assert.match(toml, /fs_read = \["cwd:\/\/"\]/);
    assert.doesNotMatch(toml, /^(fs_write|net|host_process|ipc_publish)\s*=/m);
    const main = await Deno.readTextFile(path.join(dir, "main.ts"));
    assert.match(main, /from "@astrid\/sdk"/);
    assert.match(main, /defineCapsule\(\{\s*tools:/);
    const deno = JSON.parse(
      await Deno.readTextFile(path.join(dir, "deno.json")),
    );
    assert.equal(
      deno.imports["@astrid/sdk"],
      pathToFileURL(path.join(ROOT, "sdk/mod.ts")).href,
    );
    assert.match(JSON.stringify(deno["//"]), /jsr:@astrid\/sdk/);
    // The new capsule is clean by its own tools.
    ok(await run(["fmt", "--check"], { cwd: dir }), "deno fmt --check");
    ok(await run(["lint"], { cwd: dir }), "deno lint");
  });
});

Deno.test("capsule new: bad names, bad kinds and existing dirs are refused with codes", async () => {
  await withTmp(async (tmp) => {
    for (const bad of ["Word", "1st", "a_b", "x-", "a".repeat(65)]) {
      const r = await astrid(["capsule", "new", bad, "--dir", tmp], tmp);
      assert.equal(r.code, 1, bad);
      assert.match(r.stderr, /^error\[INVALID_ID\]: Invalid capsule name/, bad);
    }
    const kind = await astrid(
      ["capsule", "new", "x", "--kind", "provider", "--dir", tmp],
      tmp,
    );
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /error\[USAGE\]: Unknown --kind 'provider'/);
    ok(await astrid(["capsule", "new", "dup", "--dir", tmp], tmp), "new dup");
    const again = await astrid(["capsule", "new", "dup", "--dir", tmp], tmp);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /error\[INVALID_INPUT\]: .*already exists/);
    const none = await astrid(["capsule", "new"], tmp);
    assert.equal(none.code, 2);
    const help = await astrid(["capsule", "--help"], tmp);
    ok(help, "help");
    assert.match(help.stdout, /astrid capsule build <dir>/);
  });
});

Deno.test("capsule new → build → the generated test passes in a real kernel → install; an edit after the build is refused", async () => {
  await withTmp(async (tmp) => {
    ok(
      await astrid(["capsule", "new", "word-count", "--dir", tmp], tmp),
      "new",
    );
    const dir = path.join(tmp, "word-count");
    const built = await astrid(["capsule", "build", dir], tmp);
    ok(built, "build");
    assert.match(
      built.stdout,
      /Built word-count@0\.1\.0 \(js\): word-count\.js/,
    );
    assert.match(built.stderr, /bundling main\.ts → word-count\.js/);
    const lock = JSON.parse(
      await Deno.readTextFile(path.join(dir, "capsule.lock.json")),
    );
    assert.deepEqual(Object.keys(lock.files).sort(), [
      ".gitignore",
      "Capsule.toml",
      "README.md",
      "deno.json",
      "main.ts",
      "word-count.js",
    ]);
    for (const h of Object.values(lock.files)) {
      assert.match(h as string, /^blake3:[0-9a-f]{64}$/);
    }

    const test = await run(["test", "-A"], { cwd: dir });
    ok(test, "generated test");
    assert.match(test.stdout, /4 passed \| 0 failed/);

    const home = path.join(tmp, "home");
    const inst = await astrid(["capsule", "install", "."], dir, home);
    ok(inst, "install");
    const installed = path.join(
      home,
      "home/default/.local/capsules/word-count",
    );
    const meta = JSON.parse(
      await Deno.readTextFile(path.join(installed, "meta.json")),
    );
    assert.ok(meta.signature, "the install record is signed");
    assert.ok((await Deno.stat(path.join(installed, "word-count.js"))).isFile);

    await Deno.writeTextFile(
      path.join(dir, "main.ts"),
      "\n// edited after the build\n",
      { append: true },
    );
    const refused = await astrid(["capsule", "install", "."], dir, home);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /error\[CAPSULE_INTEGRITY\]: 'main\.ts' changed since the build/,
    );
    await Deno.writeTextFile(path.join(dir, "extra.ts"), "export {};\n");
    ok(await astrid(["capsule", "build", "."], dir), "rebuild");
    ok(await astrid(["capsule", "install", "."], dir, home), "reinstall");
  });
});

Deno.test("capsule new --kind interceptor: the generated guard test passes in a real kernel", async () => {
  await withTmp(async (tmp) => {
    ok(
      await astrid(
        ["capsule", "new", "secret-guard", "--kind", "interceptor"],
        tmp,
      ),
      "new",
    );
    const dir = path.join(tmp, "secret-guard");
    const toml = await Deno.readTextFile(path.join(dir, "Capsule.toml"));
    assert.doesNotMatch(toml, /^\[capabilities\]/m);
    const test = await run(["test", "-A"], { cwd: dir });
    ok(test, "generated test");
    assert.match(test.stdout, /2 passed \| 0 failed/);
    // The test built a copy: the capsule's own dir is not written.
    for (const f of ["secret-guard.js", "capsule.lock.json"]) {
      assert.ok(
        !(await Deno.stat(path.join(dir, f)).then(() => true, () => false)),
        f,
      );
    }
  });
});

Deno.test("capsule build: a compile error is reported with the bundler's diagnostics; no manifest is a NOT_FOUND", async () => {
  await withTmp(async (tmp) => {
    ok(await astrid(["capsule", "new", "broken", "--dir", tmp], tmp), "new");
    const dir = path.join(tmp, "broken");
    await Deno.writeTextFile(path.join(dir, "main.ts"), "export default {{;\n");
    const r = await astrid(["capsule", "build", dir], tmp);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[CAPSULE_FAILED\]: Cannot bundle capsule/);
    const none = await astrid(["capsule", "build", tmp], tmp);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /error\[NOT_FOUND\]: No Capsule\.toml/);
    await Deno.writeTextFile(
      path.join(dir, "Capsule.toml"),
      `[package]\nname = "broken"\nversion = "1"\nsurprise = true\n`,
    );
    const bad = await astrid(["capsule", "build", dir], tmp);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error\[MANIFEST_INVALID\]/);
    assert.match(bad.stderr, /surprise/);
  });
});

Deno.test("capsule build: an AssemblyScript capsule compiles to a wasm component with asc", async () => {
  await loadWasmFixtures(); // installs the pinned AssemblyScript toolchain
  const toolchain = path.join(
    ROOT,
    "tests/fixtures/capsules/wasm-build/node_modules",
  );
  await withTmp(async (tmp) => {
    const dir = path.join(tmp, "shout");
    await Deno.mkdir(dir);
    // The capsule's own toolchain (package.json + npm install); shared here.
    await Deno.symlink(toolchain, path.join(dir, "node_modules"));
    await Deno.writeTextFile(
      path.join(dir, "Capsule.toml"),
      `[package]\nname = "shout"\nversion = "0.1.0"\n\n[[component]]\ntype = "wasm"\nfile = "shout.wasm"\nsource = "shout.ts"\n`,
    );
    await Deno.writeTextFile(
      path.join(dir, "shout.ts"),
      `import { Host } from "@extism/as-pdk";
export function abort(m: string | null, f: string | null, l: u32, c: u32): void {
  unreachable();
}
export function shout(): i32 {
  Host.outputString(Host.inputString().toUpperCase());
  return 0;
}
`,
    );
    await Deno.writeTextFile(
      path.join(dir, "asconfig.json"),
      `{ "options": { "use": ["abort=shout/abort"] } }\n`,
    );
    const r = await astrid(["capsule", "build", dir], tmp);
    ok(r, "build");
    assert.match(r.stderr, /compiling shout\.ts → shout\.wasm \(asc\)/);
    const module = new WebAssembly.Module(
      await Deno.readFile(path.join(dir, "shout.wasm")),
    );
    assert.ok(
      WebAssembly.Module.exports(module).some((e) => e.name === "shout"),
    );
    const imports = WebAssembly.Module.imports(module).map((i) => i.module);
    assert.ok(imports.every((m) => m === "extism:host/env"), String(imports));
    const lock = JSON.parse(
      await Deno.readTextFile(path.join(dir, "capsule.lock.json")),
    );
    assert.equal(lock.engine, "wasm");
    assert.deepEqual(Object.keys(lock.files).sort(), [
      "Capsule.toml",
      "asconfig.json",
      "shout.ts",
      "shout.wasm",
    ]);
  });
});
