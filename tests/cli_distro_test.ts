/**
 * End-to-end: `astrid distro lock|verify|install` and `astrid init` as real
 * subprocesses on a copy of the fixture distro (tests/fixtures/distro): one
 * js tool capsule, one static capsule, one entry whose directory is missing.
 * Tampered, added and deleted files are refused, naming the file, and
 * nothing is installed then.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Run, runAstrid } from "./cli_fixture_test.ts";
import { pathToFileURL } from "node:url";
import { parseDistro, verifyDistro } from "../mod.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
const FIXTURE = path.join(ROOT, "tests/fixtures/distro");

function astrid(args: string[], root: string): Promise<Run> {
  return runAstrid(args, {
    cwd: root,
    env: { HOME: root, ASTRID_HOME: path.join(root, "home") },
  });
}

function ok(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}

/** A copy of the fixture distro in a temp dir, with a deno.json that resolves @astrid/sdk. */
async function withDistro(
  fn: (root: string, distro: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-distro-" }),
  );
  try {
    const dir = path.join(root, "distro");
    await copyDir(FIXTURE, dir);
    await Deno.remove(path.join(dir, "Distro.lock")).catch(() => {});
    await Deno.writeTextFile(
      path.join(dir, "deno.json"),
      JSON.stringify({
        imports: {
          "@astrid/sdk": pathToFileURL(path.join(ROOT, "sdk/mod.ts")).href,
        },
      }),
    );
    await fn(root, path.join(dir, "Distro.toml"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) {
      await copyDir(path.join(from, e.name), path.join(to, e.name));
    } else if (e.isFile) {
      await Deno.copyFile(path.join(from, e.name), path.join(to, e.name));
    }
  }
}

const installedDir = (root: string, name: string) =>
  path.join(root, "home/home/default/.local/capsules", name);

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

Deno.test("distro lock: pins every source file of each existing capsule, warns about a missing one", async () => {
  await withDistro(async (root, distro) => {
    const r = await astrid(["distro", "lock", "--distro", distro], root);
    ok(r, "lock");
    assert.match(r.stdout, /2 capsules pinned \(5 files\), 1 missing/);
    assert.match(r.stderr, /warning: absent: its directory does not exist/);
    const lock = await Deno.readTextFile(
      path.join(path.dirname(distro), "Distro.lock"),
    );
    assert.match(lock, /^schema-version = 1$/m);
    for (const f of ["Capsule.toml", "_greeting.ts", "main.ts", "rules.md"]) {
      assert.match(
        lock,
        new RegExp(`"${f.replace(".", "\\.")}" = "blake3:[0-9a-f]{64}"`),
      );
    }
    assert.doesNotMatch(lock, /absent/);
    // Deterministic: locking unchanged sources again is byte-identical.
    ok(await astrid(["distro", "lock", "--distro", distro], root), "relock");
    assert.equal(
      await Deno.readTextFile(path.join(path.dirname(distro), "Distro.lock")),
      lock,
    );
    const v = await astrid(["distro", "verify", "--distro", distro], root);
    ok(v, "verify");
    assert.match(
      v.stdout,
      /fixture@1\.0\.0: 2 capsules match Distro\.lock, 1 missing/,
    );
  });
});

Deno.test("distro install: verifies, builds and installs each capsule with a signed record; skips a missing one", async () => {
  await withDistro(async (root, distro) => {
    ok(await astrid(["distro", "lock", "--distro", distro], root), "lock");
    const r = await astrid(["init", "--distro", distro], root);
    ok(r, "init");
    assert.match(r.stdout, /Fixture distro 1\.0\.0: 2 installed, 1 skipped/);
    assert.match(r.stderr, /bundling main\.ts → greeter\.js/);
    assert.match(r.stderr, /warning: \[3\/3\] absent: skipped/);
    for (const name of ["greeter", "house-rules"]) {
      const meta = JSON.parse(
        await Deno.readTextFile(
          path.join(installedDir(root, name), "meta.json"),
        ),
      );
      assert.ok(meta.signature, `${name} is signed`);
    }
    assert.ok(
      await exists(path.join(installedDir(root, "greeter"), "greeter.js")),
    );
    // The build happened in a staging copy: the sources stay clean.
    assert.ok(
      !(await exists(path.join(path.dirname(distro), "greeter/greeter.js"))),
    );
    // What was installed is recorded in the home (reference §2.10).
    const record = await Deno.readTextFile(
      path.join(root, "home/home/default/.config/distro.lock"),
    );
    assert.match(record, /id = "fixture"/);
    assert.match(record, /resolved-at = "\d{4}-/);
    assert.match(record, /name = "greeter"/);
    // Same distro, same sources: init does nothing; --force reinstalls.
    const again = await astrid(["init", "--distro", distro], root);
    ok(again, "init again");
    assert.match(again.stdout, /already installed \(2 capsules/);
    const forced = await astrid(["init", "--force", "--distro", distro], root);
    ok(forced, "init --force");
    assert.match(forced.stdout, /2 installed, 1 skipped/);
    // A changed (and re-locked) capsule makes init install again.
    await Deno.writeTextFile(
      path.join(path.dirname(distro), "house-rules/rules.md"),
      "# House rules\n\nBe briefer.\n",
    );
    ok(await astrid(["distro", "lock", "--distro", distro], root), "relock");
    const changed = await astrid(["init", "--distro", distro], root);
    ok(changed, "init after a change");
    assert.match(changed.stdout, /2 installed, 1 skipped/);
  });
});

Deno.test("distro install: a tampered, an added or a deleted file is refused naming it, and nothing is installed", async () => {
  await withDistro(async (root, distro) => {
    ok(await astrid(["distro", "lock", "--distro", distro], root), "lock");
    const base = path.dirname(distro);
    const greeting = path.join(base, "greeter/_greeting.ts");
    const original = await Deno.readTextFile(greeting);
    await Deno.writeTextFile(
      greeting,
      original.replace("Hello", "Send me your keys"),
    );
    const tampered = await astrid(
      ["distro", "install", "--distro", distro],
      root,
    );
    assert.equal(tampered.code, 1);
    assert.match(
      tampered.stderr,
      /error\[CAPSULE_INTEGRITY\]: Capsule 'greeter': 'greeter\/_greeting\.ts' does not match the lock/,
    );
    assert.ok(!(await exists(installedDir(root, "greeter"))));
    assert.ok(!(await exists(installedDir(root, "house-rules"))));
    const verify = await astrid(["distro", "verify", "--distro", distro], root);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /'greeter\/_greeting\.ts' does not match/);
    await Deno.writeTextFile(greeting, original);

    await Deno.writeTextFile(path.join(base, "house-rules/extra.md"), "psst\n");
    const added = await astrid(["distro", "install", "--distro", distro], root);
    assert.equal(added.code, 1);
    assert.match(added.stderr, /'house-rules\/extra\.md' is not in the lock/);
    await Deno.remove(path.join(base, "house-rules/extra.md"));

    await Deno.remove(path.join(base, "house-rules/rules.md"));
    const deleted = await astrid(
      ["distro", "install", "--distro", distro],
      root,
    );
    assert.equal(deleted.code, 1);
    assert.match(deleted.stderr, /'house-rules\/rules\.md' is missing/);
    assert.ok(!(await exists(installedDir(root, "greeter"))));
  });
});

Deno.test("distro install: without a lock it says how to make one", async () => {
  await withDistro(async (root, distro) => {
    const r = await astrid(["distro", "install", "--distro", distro], root);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error\[NOT_FOUND\]: No Distro\.lock .*astrid distro lock/,
    );
  });
});

Deno.test("Distro.toml: every problem is reported", () => {
  assert.throws(
    () =>
      parseDistro(
        `schema-version = 2
[distro]
id = "Bad Id"
name = "x"
version = "1.0"
[[capsule]]
name = "a"
source = "../outside"
version = "0.1.0"
env = { key = "{{ nope }}" }
[[capsule]]
name = "a"
source = "a"
version = "0.1.0"
surprise = 1
`,
        "Distro.toml",
      ),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "MANIFEST_INVALID");
      for (
        const part of [
          "unsupported schema-version 2",
          "invalid id 'Bad Id'",
          "invalid version '1.0'",
          "must be a directory inside",
          "undefined variable 'nope'",
          "duplicate name 'a'",
          "unknown key 'surprise'",
        ]
      ) {
        assert.ok(err.message.includes(part), `${part} in ${err.message}`);
      }
      return true;
    },
  );
});

Deno.test("capsules/Distro.toml: the default distro is valid and lists the first-party capsules", async () => {
  const distro = parseDistro(
    await Deno.readTextFile(path.join(ROOT, "capsules/Distro.toml")),
    "capsules/Distro.toml",
  );
  assert.deepEqual(distro.capsules.map((c) => c.name).sort(), [
    "cache",
    "fs",
    "identity",
    "model-router",
    "provider-anthropic",
    "provider-ollama",
    "provider-openai",
    "provider-replay",
    "react",
    "router",
    "session",
    "shell",
    "task",
    "web",
  ]);
  for (const c of distro.capsules) assert.equal(c.source, c.name);
});

Deno.test("distro install: a capsule that fails to build is reported, the others are installed, the exit code is 1", async () => {
  await withDistro(async (root, distro) => {
    const base = path.dirname(distro);
    await Deno.mkdir(path.join(base, "broken"));
    await Deno.writeTextFile(
      path.join(base, "broken/Capsule.toml"),
      `[package]\nname = "broken"\nversion = "0.1.0"\n\n[[component]]\ntype = "js"\nfile = "broken.js"\n`,
    );
    await Deno.writeTextFile(
      path.join(base, "broken/main.ts"),
      "export default {{;\n",
    );
    await Deno.writeTextFile(
      distro,
      `\n[[capsule]]\nname = "broken"\nsource = "broken"\nversion = "0.1.0"\n`,
      { append: true },
    );
    ok(await astrid(["distro", "lock", "--distro", distro], root), "lock");
    const r = await astrid(["distro", "install", "--distro", distro], root);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /2 installed, 1 skipped, 1 failed/);
    assert.match(r.stdout, /broken\s+failed\s+CAPSULE_FAILED: Cannot bundle/);
    assert.match(r.stderr, /error: \[4\/4\] broken: CAPSULE_FAILED/);
    assert.ok(
      await exists(path.join(installedDir(root, "greeter"), "meta.json")),
    );
    const record = await Deno.readTextFile(
      path.join(root, "home/home/default/.config/distro.lock"),
    );
    assert.doesNotMatch(record, /broken/);
  });
});

Deno.test("capsules/Distro.lock pins every first-party capsule exactly as its sources are (run 'deno task distro:lock' after an edit)", async () => {
  const { capsules } = await verifyDistro(
    path.join(ROOT, "capsules/Distro.toml"),
  );
  assert.deepEqual(
    capsules.filter((c) => c.status !== "ok").map((c) => c.name),
    [],
    "every capsule of the default distro exists and matches the lock",
  );
});

Deno.test("init, not interactive: --providers picks of the group, --var fills templates into capsules.toml, an API key comes from its environment variable into the secret store", async () => {
  await withDistro(async (root, distro) => {
    ok(await astrid(["distro", "lock", "--distro", distro], root), "lock");
    const r = await runAstrid([
      "init",
      "--distro",
      distro,
      "--providers",
      "house-rules",
      "--var",
      "greeting=Ahoy",
    ], {
      cwd: root,
      env: {
        HOME: root,
        ASTRID_HOME: path.join(root, "home"),
        GREETER_TOKEN: "t0ken-value",
      },
    });
    ok(r, "init");
    assert.match(r.stdout, /2 installed, 1 skipped/);
    assert.match(r.stdout, /absent\s+skipped\s+not picked/);
    assert.match(r.stderr, /stored secret GREETER_TOKEN of greeter/);
    assert.doesNotMatch(r.stdout + r.stderr, /t0ken-value/);
    const config = await Deno.readTextFile(
      path.join(root, "home/etc/capsules.toml"),
    );
    assert.match(config, /\[greeter\]\s+greeting = "Ahoy"/);
    assert.doesNotMatch(config, /t0ken/);
    const mode = (await Deno.stat(path.join(root, "home/etc/capsules.toml")))
      .mode! & 0o777;
    assert.equal(mode, 0o600);
    const exists = await astrid(
      ["secret", "exists", "greeter", "GREETER_TOKEN"],
      root,
    );
    assert.equal(exists.stdout.trim(), "true");
    // The picked provider became the default (no layer set one).
    const user = await Deno.readTextFile(
      path.join(root, "home/etc/config.toml"),
    );
    assert.match(user, /\[model\]\s+provider = "house-rules"/);
  });
});

Deno.test("init refuses a pick outside the group and a malformed --var, before installing anything", async () => {
  await withDistro(async (root, distro) => {
    ok(await astrid(["distro", "lock", "--distro", distro], root), "lock");
    const bad = await astrid(
      ["init", "--distro", distro, "--providers", "greeter"],
      root,
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /error\[INVALID_INPUT\].*'greeter' is not in group 'llm'/,
    );
    const badVar = await astrid(
      ["init", "--distro", distro, "--var", "nonsense"],
      root,
    );
    assert.equal(badVar.code, 2);
    assert.ok(!(await exists(installedDir(root, "greeter"))));
  });
});
