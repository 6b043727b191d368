import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CapsuleId } from "../../../core/ids.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
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
  const env: Record<string, string> = {};
  for (const name of ["HOME", "DENO_DIR", "PATH"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return {
    spawner: createDenoSpawner(),
    fs: createDenoFs(),
    denoPath: Deno.execPath(),
    env,
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
        { ...buildDeps(), denoPath: path.join(dir, "no-such-deno") },
        { entry, outFile: path.join(dir, "out.js") },
      ));
      assert.equal(missing.code, "NOT_FOUND");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
