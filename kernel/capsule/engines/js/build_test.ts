import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CapsuleId } from "../../../core/ids.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { MemoryEnv } from "../../../testing/memory_env.ts";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import { createDenoEnv } from "../../../host/deno_env.ts";
import { denoToolchain } from "../../../host/deno_toolchain.ts";
import type { HostCallDispatcher } from "../../engine.ts";
import { buildJsCapsule, type JsBuildDeps } from "./build.ts";
import type { JsCapsule } from "./js_capsule.ts";
import type { JsEngine } from "./js_engine.ts";
import {
  recordingHost,
  rejection,
  SMALL_MEMORY,
  testEngine,
} from "./_js_fixture_test.ts";

const PERMS = { read: true, write: true, run: true, env: true } as const;
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const FIXTURES = path.join(ROOT, "tests/fixtures/capsules");

function buildDeps(): JsBuildDeps {
  return {
    spawner: createDenoSpawner(),
    fs: createDenoFs(),
    toolchain: denoToolchain(createDenoEnv()),
  };
}

/** Builds fixture entries into a temp dir; returns their bundles by name. */
async function buildFixtures(
  entries: Record<string, string>,
): Promise<Record<string, Uint8Array>> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-js-build-" });
  try {
    const built = await Promise.all(
      Object.entries(entries).map(async ([name, entry]) => {
        const { artifact } = await buildJsCapsule(buildDeps(), {
          entry: path.join(FIXTURES, entry),
          outFile: path.join(dir, `${name}.js`),
          cwd: ROOT,
        });
        return [name, artifact] as const;
      }),
    );
    return Object.fromEntries(built);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function load(
  engine: JsEngine,
  name: string,
  artifact: Uint8Array,
  options: { host?: HostCallDispatcher; timeoutMs?: number } = {},
): Promise<JsCapsule> {
  return engine.load({
    capsule: name as CapsuleId,
    artifact,
    host: options.host ?? recordingHost().host,
    limits: {
      timeoutMs: options.timeoutMs ?? 2_000,
      memoryBytes: SMALL_MEMORY,
    },
    config: { GREETING: "hi" },
  });
}

Deno.test({
  name:
    "`buildJsCapsule()` bundles a capsule and `@astrid/sdk` into one import-free ESM file",
  permissions: PERMS,
  async fn() {
    const { hello } = await buildFixtures({ hello: "js-hello/main.ts" });
    const text = new TextDecoder().decode(hello);
    assert.doesNotMatch(text, /^\s*import\s/m);
    assert.doesNotMatch(text, /@astrid\/sdk/);
    assert.match(text, /astrid\.capsule\/v1/);
    const c = await load(testEngine(), "hello", hello!);
    assert.deepEqual(await c.invoke("greet", { name: "Ada" }), {
      text: "Hello, Ada!",
      capsule: "hello",
    });
    assert.deepEqual(await c.invoke("config", null), {
      config: { GREETING: "hi" },
      action: "config",
    });
    await c.unload();
  },
});

Deno.test({
  name:
    "built js-hello: SDK host calls reach the dispatcher and refusals arrive as HostCallError",
  permissions: PERMS,
  async fn() {
    const { hello } = await buildFixtures({ hello: "js-hello/main.ts" });
    const { host, calls, kv } = recordingHost();
    const c = await load(testEngine(), "hello", hello!, { host });
    assert.deepEqual(await c.invoke("count", { key: "visits" }), { count: 1 });
    assert.deepEqual(await c.invoke("count", { key: "visits" }), { count: 2 });
    assert.equal(kv.get("visits"), 2);
    assert.deepEqual(await c.invoke("now", null), { now: 1_700_000_000_000 });
    assert.deepEqual(await c.invoke("denied", { path: "/etc/passwd" }), {
      denied: true,
      code: "MANIFEST_DENIED",
      fn: "fs_read",
    });
    assert.deepEqual(calls.map((x) => x.fn), [
      "kv_get",
      "kv_set",
      "kv_get",
      "kv_set",
      "clock_now",
      "fs_read",
    ]);
    assert.equal(
      (await rejection(c.invoke("fail", null))).code,
      "CAPSULE_FAILED",
    );
    assert.equal(await c.invoke("noop", null), null);
    assert.deepEqual(await c.invoke("echo", { a: [1, { b: null }] }), {
      a: [1, { b: null }],
    });
    const globals = await c.invoke("globals", null) as Record<string, string>;
    for (const [name, kind] of Object.entries(globals)) {
      assert.equal(kind, "undefined", name);
    }
    await c.unload();
  },
});

Deno.test({
  name:
    "built hostile capsules: loop and hog are stopped while js-hello keeps serving",
  permissions: PERMS,
  async fn() {
    const built = await buildFixtures({
      hello: "js-hello/main.ts",
      loop: "js-hostile/loop.ts",
      hog: "js-hostile/hog.ts",
    });
    const engine = testEngine();
    const hello = await load(engine, "hello", built.hello!);
    const loop = await load(engine, "loop", built.loop!, { timeoutMs: 100 });
    const hog = await load(engine, "hog", built.hog!, { timeoutMs: 30_000 });

    assert.equal(
      (await rejection(loop.invoke("spin", null))).code,
      "CAPSULE_TIMEOUT",
    );
    assert.deepEqual(await hello.invoke("greet", { name: "B" }), {
      text: "Hello, B!",
      capsule: "hello",
    });
    assert.equal(await loop.invoke("ping", null), "pong");

    assert.equal(await hog.invoke("calls", null), 1);
    assert.equal(
      (await rejection(hog.invoke("hog", null))).code,
      "CAPSULE_MEMORY",
    );
    assert.equal(hog.stats().instances, 2);
    assert.equal(await hog.invoke("calls", null), 1);
    assert.deepEqual(await hello.invoke("echo", "still here"), "still here");

    await Promise.all([hello.unload(), loop.unload(), hog.unload()]);
  },
});

Deno.test({
  name:
    "`buildJsCapsule()` reports Deno's diagnostics for a broken entry and NOT_FOUND for a missing deno",
  permissions: PERMS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid-js-build-" });
    try {
      const entry = path.join(dir, "broken.ts");
      await Deno.writeTextFile(
        entry,
        `import { nope } from "./missing.ts";\nexport const x = nope;\n`,
      );
      const err = await rejection(buildJsCapsule(buildDeps(), {
        entry,
        outFile: path.join(dir, "out.js"),
      }));
      assert.equal(err.code, "CAPSULE_FAILED");
      assert.match(err.message, /missing\.ts/);
      const missing = await rejection(buildJsCapsule(
        {
          ...buildDeps(),
          toolchain: { denoPath: path.join(dir, "no-such-deno"), toolEnv: {} },
        },
        { entry, outFile: path.join(dir, "out.js") },
      ));
      assert.equal(missing.code, "NOT_FOUND");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`buildJsCapsule()` runs the bundler with exactly the documented tool environment (certificates, proxies, cache, registry) and nothing else",
  permissions: PERMS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid-js-build-" });
    try {
      // A stand-in `deno` that records the environment it was started with.
      const seen = path.join(dir, "env.txt");
      const fakeDeno = path.join(dir, "deno");
      await Deno.writeTextFile(
        fakeDeno,
        `#!/bin/sh\nenv > '${seen}'\nexit 3\n`,
        { mode: 0o700 },
      );
      const toolchain = denoToolchain(
        new MemoryEnv({
          HOME: "/home/u",
          PATH: "/usr/bin:/bin",
          DENO_DIR: "/cache/deno",
          DENO_CERT: "/etc/corp-ca.pem",
          SSL_CERT_FILE: "/etc/ssl/ca.pem",
          HTTPS_PROXY: "http://proxy.corp:3128",
          no_proxy: "localhost",
          NPM_CONFIG_REGISTRY: "https://npm.corp/",
          ANTHROPIC_API_KEY: "sk-secret",
          AWS_SECRET_ACCESS_KEY: "also-secret",
        }),
      );
      const err = await rejection(buildJsCapsule({
        spawner: createDenoSpawner(),
        fs: createDenoFs(),
        toolchain: { ...toolchain, denoPath: fakeDeno },
      }, {
        entry: path.join(dir, "main.ts"),
        outFile: path.join(dir, "o.js"),
      }));
      assert.equal(err.code, "CAPSULE_FAILED");
      const env = Object.fromEntries(
        (await Deno.readTextFile(seen)).trim().split("\n").map((l) => {
          const i = l.indexOf("=");
          return [l.slice(0, i), l.slice(i + 1)];
        }),
      );
      delete env.PWD; // set by the shell itself
      delete env.SHLVL;
      delete env._;
      assert.deepEqual(env, {
        HOME: "/home/u",
        PATH: "/usr/bin:/bin",
        DENO_DIR: "/cache/deno",
        DENO_CERT: "/etc/corp-ca.pem",
        SSL_CERT_FILE: "/etc/ssl/ca.pem",
        HTTPS_PROXY: "http://proxy.corp:3128",
        no_proxy: "localhost",
        NPM_CONFIG_REGISTRY: "https://npm.corp/",
        NO_COLOR: "1",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`buildJsCapsule()` on a machine that cannot download says what it needed and how to pre-fetch it (TOOL_DOWNLOAD)",
  permissions: PERMS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid-js-build-" });
    try {
      await Deno.writeTextFile(
        path.join(dir, "main.ts"),
        "export const ping = (): string => 'pong';\n",
      );
      // An empty cache and a proxy that refuses every connection: the
      // bundler's own package (esbuild) cannot be fetched.
      const base = denoToolchain();
      const err = await rejection(buildJsCapsule({
        spawner: createDenoSpawner(),
        fs: createDenoFs(),
        toolchain: {
          denoPath: base.denoPath,
          toolEnv: {
            HOME: dir,
            PATH: base.toolEnv.PATH ?? "/usr/bin:/bin",
            DENO_DIR: path.join(dir, "empty-cache"),
            HTTPS_PROXY: "http://127.0.0.1:9",
            HTTP_PROXY: "http://127.0.0.1:9",
          },
        },
      }, {
        entry: path.join(dir, "main.ts"),
        outFile: path.join(dir, "out.js"),
        cwd: dir,
      }));
      assert.equal(err.code, "TOOL_DOWNLOAD", err.message);
      assert.match(err.message, /esbuild/);
      assert.match(err.message, /deno task setup/);
      assert.match(err.message, /HTTPS_PROXY/);
      assert.doesNotMatch(err.message, /Caused by|Stack/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
