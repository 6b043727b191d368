import assert from "node:assert/strict";
import type { CapsuleId } from "../../../core/ids.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import { createJsEngine } from "./js_engine.ts";
import {
  loadInline,
  recordingHost,
  rejection,
  SMALL_MEMORY,
  testEngine,
} from "./_js_fixture_test.ts";

const READ = { read: true } as const;

Deno.test({
  name:
    "`load()` evaluates top-level await but refuses host calls while the module loads",
  permissions: READ,
  async fn() {
    const ok = await loadInline(
      `const v = await Promise.resolve(41); export const get = () => v + 1;`,
    );
    assert.equal(await ok.invoke("get", null), 42);
    await ok.unload();
    const { host, calls } = recordingHost();
    const err = await rejection(loadInline(
      `await globalThis.__astrid_host("clock_now", "{}"); export const x = () => 1;`,
      { host },
    ));
    assert.equal(err.code, "CAPSULE_FAILED");
    assert.match(err.message, /outside an action call/);
    assert.equal(calls.length, 0);
  },
});

Deno.test({
  name:
    "`load()` rejects a module that throws, does not parse, imports, or is not UTF-8",
  permissions: READ,
  async fn() {
    const throws = await rejection(loadInline(`throw new Error("bad init");`));
    assert.equal(throws.code, "CAPSULE_FAILED");
    assert.match(throws.message, /module evaluation threw Error: bad init/);
    assert.equal(
      (await rejection(loadInline(`export function (`))).code,
      "CAPSULE_FAILED",
    );
    assert.equal(
      (await rejection(
        loadInline(`import fs from "node:fs"; export const x = fs;`),
      )).code,
      "CAPSULE_FAILED",
    );
    const engine = testEngine();
    const bad = await rejection(engine.load({
      capsule: "bin" as CapsuleId,
      artifact: new Uint8Array([0xff, 0xfe, 0x00]),
      host: recordingHost().host,
      limits: { timeoutMs: 1_000, memoryBytes: SMALL_MEMORY },
      config: {},
    }));
    assert.equal(bad.code, "INVALID_INPUT");
  },
});

Deno.test({
  name:
    "`load()` refuses unusable limits and `createJsEngine()` needs a way to get QuickJS",
  permissions: READ,
  async fn() {
    for (
      const limits of [{ timeoutMs: 1_000, memoryBytes: 8 * 1024 * 1024 }, {
        timeoutMs: 0,
        memoryBytes: SMALL_MEMORY,
      }]
    ) {
      await assert.rejects(
        loadInline("export const x = 1;", limits),
        RangeError,
      );
    }
    assert.throws(
      () => createJsEngine({ logger: new MemoryLogger() }),
      TypeError,
    );
  },
});

Deno.test({
  name:
    "`createJsEngine()` compiles QuickJS once from the file system and shares it",
  permissions: READ,
  async fn() {
    let reads = 0;
    const fs = createDenoFs();
    const engine = createJsEngine({
      logger: new MemoryLogger(),
      fs: { readFile: (p, o) => (reads++, fs.readFile(p, o)) },
    });
    const [a, b] = await Promise.all(["a", "b"].map((name) =>
      engine.load({
        capsule: name as CapsuleId,
        artifact: new TextEncoder().encode(
          `export const name = () => ${JSON.stringify(name)};`,
        ),
        host: recordingHost().host,
        limits: { timeoutMs: 1_000, memoryBytes: SMALL_MEMORY },
        config: {},
      })
    ));
    assert.equal(reads, 1);
    assert.equal(await a!.invoke("name", null), "a");
    assert.equal(await b!.invoke("name", null), "b");
    await a!.unload();
    await b!.unload();
  },
});
