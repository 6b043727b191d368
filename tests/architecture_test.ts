import assert from "node:assert/strict";
import * as path from "node:path";
import { checkArchitecture, type SourceFile } from "./architecture/rules.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");

async function collect(
  dir: string,
  base: string,
  skip: (rel: string) => boolean,
): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for await (const e of Deno.readDir(dir)) {
    const abs = path.join(dir, e.name);
    const rel = path.relative(base, abs).split(path.sep).join("/");
    if (skip(rel) || e.name.startsWith(".")) continue;
    if (e.isDirectory) out.push(...await collect(abs, base, skip));
    else if (/\.(ts|tsx)$/.test(e.name)) {
      out.push({ path: rel, text: await Deno.readTextFile(abs) });
    }
  }
  return out;
}

Deno.test({
  name:
    "architecture: the repository obeys the import rules and keeps Deno.* in kernel/host and cli",
  permissions: { read: true },
  async fn() {
    const files = await collect(
      ROOT,
      ROOT,
      (rel) =>
        rel === "tests/fixtures" || rel === "node_modules" || rel === "cov",
    );
    assert.ok(files.length > 10, "the walker found the source files");
    assert.deepEqual(checkArchitecture(files), []);
  },
});

Deno.test({
  name:
    "architecture: the checker reports every broken rule in the fixture tree",
  permissions: { read: true },
  async fn() {
    const base = path.join(ROOT, "tests/fixtures/architecture_bad");
    const files = await collect(base, base, () => false);
    const found = checkArchitecture(files).map((v) => `${v.file} ${v.rule}`)
      .sort();
    assert.deepEqual(found, [
      "capsules/evil/evil_test.ts capsules-import-only-sdk",
      "capsules/evil/mod.ts capsules-import-only-sdk",
      "capsules/evil/mod.ts capsules-import-only-sdk",
      "cli/main.ts cli-never-imports-kernel-internals",
      "kernel/core/bad.ts deno-only-in-host",
      "kernel/core/bad.ts kernel-layers",
      "kernel/crypto/uses_testing.ts testing-only-in-tests",
      "kernel/store/bad.ts kernel-never-imports-cli-or-capsules",
      "sdk/mod.ts sdk-imports-nothing",
    ]);
  },
});

Deno.test({
  name:
    "architecture: AbortSignal.any (kernel and cli) and AbortSignal.timeout (kernel) only in linked_signal.ts",
  permissions: "none",
  fn() {
    const files: SourceFile[] = [
      { path: "kernel/abi/a.ts", text: "const s = AbortSignal.any([a, b]);" },
      { path: "kernel/abi/b.ts", text: "f(AbortSignal.timeout(5));" },
      { path: "cli/c.ts", text: "const s = AbortSignal.any ([a, b]);" },
      { path: "cli/d.ts", text: "f(AbortSignal.timeout(5)); // one-shot" },
      { path: "kernel/abi/e_test.ts", text: "AbortSignal.any([a, b]);" },
      { path: "kernel/core/linked_signal.ts", text: "AbortSignal.any([a]);" },
      { path: "kernel/abi/f.ts", text: "// AbortSignal.any([a, b]) is slow" },
    ];
    assert.deepEqual(
      checkArchitecture(files).map((v) => `${v.file} ${v.rule}`),
      [
        "kernel/abi/a.ts one-signal-combiner",
        "kernel/abi/b.ts one-signal-combiner",
        "cli/c.ts one-signal-combiner",
      ],
    );
  },
});

Deno.test({
  name:
    "architecture: comments and tests may mention Deno.* without breaking the rule",
  permissions: "none",
  fn() {
    const files: SourceFile[] = [
      {
        path: "kernel/core/a.ts",
        text:
          "/** Uses `Deno.openKv` in docs. */\n// Deno.exit()\nexport const x = 1;\n",
      },
      { path: "kernel/core/a_test.ts", text: "Deno.test('x', () => {});\n" },
    ];
    assert.deepEqual(checkArchitecture(files), []);
  },
});

Deno.test({
  name:
    "architecture: a capsule's own tests may import the test fixtures, the kernel's mod.ts and node built-ins; its sources may not",
  permissions: "none",
  fn() {
    const spec = '"../../tests/agent_fixture_test.ts"';
    const files: SourceFile[] = [
      {
        path: "capsules/x/x_test.ts",
        text:
          `import { a } from ${spec};\nimport assert from "node:assert/strict";\n`,
      },
      { path: "capsules/x/util.ts", text: 'import * as p from "node:path";\n' },
      { path: "capsules/x/main.ts", text: `import { a } from ${spec};\n` },
      {
        path: "capsules/x/y_test.ts",
        text: 'import { b } from "../../kernel/core/ids.ts";\n',
      },
      {
        path: "capsules/x/z_test.ts",
        text: 'import { AgentSession } from "../../mod.ts";\n',
      },
    ];
    assert.deepEqual(
      checkArchitecture(files).map((v) => `${v.file} ${v.rule}`).sort(),
      [
        "capsules/x/main.ts capsules-import-only-sdk",
        "capsules/x/util.ts capsules-import-only-sdk",
        "capsules/x/y_test.ts capsules-import-only-sdk",
      ],
    );
  },
});
