import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import { blake3Hex, createBlake3Hasher } from "../../crypto/blake3.ts";
import { createDenoFs } from "../../host/deno_fs.ts";
import { KERNEL } from "./_manifest_fixture_test.ts";
import { parseMeta } from "./capsule_meta.ts";
import { loadCapsuleDir, readArtifact } from "./load_capsule_dir.ts";
import { parseManifest } from "./parse_manifest.ts";
import { writeMeta } from "./write_meta.ts";
import { keyPairFromSeed } from "../../crypto/key_pair.ts";
import { signInstallRecord } from "./install_record.ts";
import type { CapsuleMeta } from "./capsule_meta.ts";

const RW = { read: true, write: true } as const;
const fs = createDenoFs();
const KEY = keyPairFromSeed(new Uint8Array(32).fill(9));
const TRUST = { keyId: KEY.keyId, publicKey: KEY.publicKey };
const OPTS = { kernelVersion: KERNEL, trust: TRUST };
const SIGNING = {
  approval: { approved_at: 1_000, audit_entry: "entry-1" },
  signer: KEY,
};

const TOML = [
  "[package]",
  'name = "hello"',
  'version = "1.0.0"',
  "[[component]]",
  'file = "dist/hello.js"',
  "[[context_file]]",
  'name = "rules"',
  'file = "rules.md"',
].join("\n");

/** Creates a capsule directory with its files and (unless `pin` is false) meta.json. */
async function withCapsule(
  fn: (dir: string) => Promise<void>,
  options: { toml?: string; pin?: boolean } = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "astrid_capsule_" });
  const dir = path.join(root, "hello");
  try {
    await Deno.mkdir(path.join(dir, "dist"), { recursive: true });
    const toml = options.toml ?? TOML;
    await Deno.writeTextFile(path.join(dir, "Capsule.toml"), toml);
    await Deno.writeTextFile(
      path.join(dir, "dist/hello.js"),
      "export const x = 1;",
    );
    await Deno.writeTextFile(path.join(dir, "rules.md"), "# Rules");
    if (options.pin !== false) {
      const parsed = parseManifest(toml, {
        file: "Capsule.toml",
        kernelVersion: KERNEL,
      });
      assert.ok(parsed.ok);
      await writeMeta(fs, {
        dir,
        manifest: parsed.value,
        now: 1_000,
        source: "./hello",
        ...SIGNING,
      });
    }
    await fn(dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function integrityError(pattern: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(KernelError.is(err, "CAPSULE_INTEGRITY"), String(err));
    assert.match(err.message, pattern);
    return true;
  };
}

/** Edits meta.json and signs it again with the trusted key (a validly signed but wrong record). */
async function editMeta(
  dir: string,
  edit: (meta: Record<string, unknown>) => void,
  options: { resign?: boolean } = {},
): Promise<void> {
  const file = path.join(dir, "meta.json");
  const meta = JSON.parse(await Deno.readTextFile(file));
  edit(meta);
  const out = options.resign === false ? meta : signInstallRecord(
    (({ key_id: _k, signature: _s, ...rest }) => rest)(meta as CapsuleMeta),
    KEY,
  );
  await Deno.writeTextFile(file, JSON.stringify(out));
}

Deno.test({
  name:
    "`loadCapsuleDir()` loads a pinned capsule and `readArtifact()` returns verified bytes",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const capsule = await loadCapsuleDir(fs, dir, OPTS);
      assert.equal(capsule.manifest.package.name, "hello");
      assert.equal(capsule.manifest.engine, "js");
      assert.deepEqual(Object.keys(capsule.meta.artifacts), [
        "Capsule.toml",
        "dist/hello.js",
        "rules.md",
      ]);
      assert.equal(capsule.meta.source, "./hello");
      const bytes = await readArtifact(fs, {
        dir,
        meta: capsule.meta,
        file: "dist/hello.js",
      });
      assert.equal(new TextDecoder().decode(bytes), "export const x = 1;");
      const hasher = await createBlake3Hasher();
      const again = await readArtifact(fs, {
        dir,
        meta: capsule.meta,
        file: "rules.md",
      }, { hasher });
      assert.equal(new TextDecoder().decode(again), "# Rules");
      assert.equal(capsule.meta.artifacts["rules.md"], blake3Hex("# Rules"));
    }),
});

Deno.test({
  name: "`readArtifact()` refuses a tampered artifact naming both hashes",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const capsule = await loadCapsuleDir(fs, dir, OPTS);
      await Deno.writeTextFile(
        path.join(dir, "dist/hello.js"),
        "export const x = 2;",
      );
      const expected = blake3Hex("export const x = 1;").slice(0, 12);
      const actual = blake3Hex("export const x = 2;").slice(0, 12);
      await assert.rejects(
        readArtifact(fs, { dir, meta: capsule.meta, file: "dist/hello.js" }),
        integrityError(
          new RegExp(
            `Cannot load capsule 'hello': artifact dist/hello\\.js hash differs from meta\\.json: expected ${expected}…, got ${actual}…; reinstall it`,
          ),
        ),
      );
    }),
});

Deno.test({
  name:
    "`loadCapsuleDir()` refuses a Capsule.toml edited after install to widen capabilities",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      await Deno.writeTextFile(
        path.join(dir, "Capsule.toml"),
        `${TOML}\n[capabilities]\nnet = ["*"]\n`,
      );
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(/artifact Capsule\.toml hash differs from meta\.json/),
      );
    }),
});

Deno.test({
  name: "`loadCapsuleDir()` refuses a directory without meta.json",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(/Cannot load capsule 'hello': meta\.json is missing/),
      );
    }, { pin: false }),
});

Deno.test({
  name:
    "`loadCapsuleDir()` refuses when a required artifact has no hash, and `readArtifact()` too",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      await editMeta(dir, (meta) => {
        delete (meta["artifacts"] as Record<string, string>)["dist/hello.js"];
      });
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(/artifact dist\/hello\.js has no hash in meta\.json/),
      );
      const meta = parseMeta(
        await Deno.readTextFile(path.join(dir, "meta.json")),
        "meta.json",
      );
      await assert.rejects(
        readArtifact(fs, { dir, meta, file: "dist/hello.js" }),
        integrityError(/has no hash in meta\.json; reinstall it/),
      );
    }),
});

Deno.test({
  name:
    "`loadCapsuleDir()` refuses meta.json written for another capsule or version",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      await editMeta(dir, (meta) => {
        meta["version"] = "0.9.0";
      });
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(
          /meta\.json was written for hello 0\.9\.0, not hello 1\.0\.0/,
        ),
      );
    }),
});

Deno.test({
  name:
    "`loadCapsuleDir()` refuses malformed meta.json: not JSON, unknown version, unknown key, bad hash",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const file = path.join(dir, "meta.json");
      const good = await Deno.readTextFile(file);
      const cases: [string, RegExp][] = [
        ["{not json", /not valid JSON/],
        [
          JSON.stringify({ ...JSON.parse(good), meta_version: 3 }),
          /unsupported meta_version 3/,
        ],
        [
          JSON.stringify({ ...JSON.parse(good), meta_version: 1 }),
          /unsigned version 1 record/,
        ],
        [
          JSON.stringify({ ...JSON.parse(good), signature: "00" }),
          /'signature' must be 128 lower-case hex/,
        ],
        [
          JSON.stringify({ ...JSON.parse(good), signed: true }),
          /unknown key 'signed'/,
        ],
        [
          JSON.stringify({
            ...JSON.parse(good),
            artifacts: { "Capsule.toml": "ABC" },
          }),
          /must map to 64 lower-case hex/,
        ],
        [
          JSON.stringify({
            ...JSON.parse(good),
            artifacts: { "../x": "0".repeat(64) },
          }),
          /artifact path '\.\.\/x'/,
        ],
      ];
      for (const [text, pattern] of cases) {
        await Deno.writeTextFile(file, text);
        await assert.rejects(
          loadCapsuleDir(fs, dir, OPTS),
          integrityError(pattern),
        );
      }
    }),
});

Deno.test({
  name:
    "`readArtifact()` refuses missing files, symlinks and paths outside the capsule",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const capsule = await loadCapsuleDir(fs, dir, OPTS);
      const { meta } = capsule;
      await Deno.remove(path.join(dir, "rules.md"));
      await assert.rejects(
        readArtifact(fs, { dir, meta, file: "rules.md" }),
        integrityError(/artifact rules\.md is missing/),
      );
      await Deno.writeTextFile(path.join(dir, "..", "outside.md"), "# Rules");
      await Deno.symlink(
        path.join(dir, "..", "outside.md"),
        path.join(dir, "rules.md"),
      );
      await assert.rejects(
        readArtifact(fs, { dir, meta, file: "rules.md" }),
        integrityError(/artifact rules\.md is a symbolic link/),
      );
      await assert.rejects(
        readArtifact(fs, { dir, meta, file: "../outside.md" }),
        TypeError,
      );
    }),
});

const BAD_TOML =
  '[package]\nname = "hello"\nversion = "1.0.0"\nastrid-version = "^9"\n';

Deno.test({
  name:
    "`loadCapsuleDir()` reports an invalid pinned manifest as MANIFEST_INVALID with issues",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      await Deno.writeTextFile(
        path.join(dir, "meta.json"),
        JSON.stringify(signInstallRecord({
          meta_version: 2,
          capsule: "hello",
          version: "1.0.0",
          installed_at: 0,
          updated_at: 0,
          artifacts: { "Capsule.toml": blake3Hex(BAD_TOML) },
          grants: {},
          approval: { approved_at: 0, audit_entry: "e" },
        }, KEY)),
      );
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        (err: unknown) => {
          assert.ok(KernelError.is(err, "MANIFEST_INVALID"), String(err));
          const issues = err.data?.["issues"] as {
            file: string;
            key: string;
          }[];
          assert.deepEqual(issues.map((i) => i.key), [
            "package.astrid-version",
          ]);
          assert.equal(issues[0]?.file, path.join(dir, "Capsule.toml"));
          return true;
        },
      );
    }, { toml: BAD_TOML, pin: false }),
});

Deno.test({
  name:
    "`writeMeta()` keeps installed_at and source across reinstalls and refuses missing artifacts",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const parsed = parseManifest(TOML, {
        file: "Capsule.toml",
        kernelVersion: KERNEL,
      });
      assert.ok(parsed.ok);
      const again = await writeMeta(fs, {
        dir,
        manifest: parsed.value,
        now: 5_000,
        ...SIGNING,
      });
      assert.equal(again.installed_at, 1_000);
      assert.equal(again.updated_at, 5_000);
      assert.equal(again.source, "./hello");
      assert.deepEqual(
        parseMeta(await Deno.readTextFile(path.join(dir, "meta.json")), "m"),
        again,
      );
      await Deno.remove(path.join(dir, "rules.md"));
      await assert.rejects(
        writeMeta(fs, { dir, manifest: parsed.value, now: 6_000, ...SIGNING }),
        integrityError(
          /Cannot pin or load capsule 'hello': artifact rules\.md is missing/,
        ),
      );
    }),
});

Deno.test({
  name:
    "`loadCapsuleDir()` refuses a record edited without re-signing, signed by a foreign key, or with grants other than the manifest's, naming meta.json",
  permissions: RW,
  fn: () =>
    withCapsule(async (dir) => {
      const file = path.join(dir, "meta.json");
      await editMeta(dir, (meta) => {
        meta["unconfined"] = { approved_at: 1, audit_entry: "forged" };
      }, { resign: false });
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(
          new RegExp(`signature of install record ${file} does not match`),
        ),
      );
      const foreign = keyPairFromSeed(new Uint8Array(32).fill(4));
      await assert.rejects(
        loadCapsuleDir(fs, dir, {
          ...OPTS,
          trust: { keyId: foreign.keyId, publicKey: foreign.publicKey },
        }),
        integrityError(new RegExp(`${file} was signed by a foreign key`)),
      );
      await editMeta(dir, (meta) => {
        delete meta["unconfined"];
        (meta["grants"] as Record<string, unknown>)["net"] = ["*"];
      });
      await assert.rejects(
        loadCapsuleDir(fs, dir, OPTS),
        integrityError(
          /grants in .*meta\.json differ from those of its manifest/,
        ),
      );
    }),
});
