import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import { DEFAULT_ENGINE_LIMITS } from "../../engine.ts";
import { createStaticEngine } from "./static_engine.ts";

const id = "persona" as CapsuleId;
function bytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}
function load(artifact: Uint8Array) {
  let hostCalls = 0;
  const host = () => {
    hostCalls++;
    return Promise.resolve(null);
  };
  return {
    capsule: createStaticEngine().load({
      capsule: id,
      artifact,
      host,
      limits: DEFAULT_ENGINE_LIMITS,
      config: {},
    }),
    hostCalls: () => hostCalls,
  };
}

Deno.test({
  name:
    "`createStaticEngine()` serves context files, skills and commands as data",
  permissions: "none",
  async fn() {
    const { capsule } = load(bytes({
      version: 1,
      context_files: [{ name: "ASTRID.md", content: "Be brief." }],
      skills: [{
        name: "review",
        description: "Review code",
        content: "Steps…",
      }],
      commands: [{ name: "summarise", description: "Summarise the session" }],
    }));
    const c = await capsule;
    assert.deepEqual(await c.invoke("context_files", null), [{
      name: "ASTRID.md",
      content: "Be brief.",
    }]);
    assert.deepEqual(await c.invoke("commands", null), [{
      name: "summarise",
      description: "Summarise the session",
    }]);
    assert.deepEqual(
      await c.invoke("get", { kind: "skills", name: "review" }),
      {
        name: "review",
        description: "Review code",
        content: "Steps…",
      },
    );
    assert.deepEqual(c.health(), { status: "ok" });
  },
});

Deno.test({
  name:
    "`createStaticEngine()` refuses artifacts that are not version-1 bundles, naming the problem",
  permissions: "none",
  async fn() {
    for (
      const [artifact, why] of [
        [new Uint8Array([0xff, 0xfe]), /UTF-8 JSON/],
        [bytes({ version: 2 }), /version/],
        [bytes({ version: 1, skills: {} }), /'skills' must be an array/],
        [
          bytes({ version: 1, commands: [{ name: "" }] }),
          /commands\[0\]\.name/,
        ],
        [
          bytes({ version: 1, context_files: [{ name: "a", content: 3 }] }),
          /context_files\[0\]\.content/,
        ],
      ] as const
    ) {
      await assert.rejects(
        load(artifact).capsule,
        (e) => KernelError.is(e, "MANIFEST_INVALID") && why.test(e.message),
      );
    }
  },
});

Deno.test({
  name:
    "`StaticCapsule.invoke()` reports unknown actions and entries, and refuses after unload",
  permissions: "none",
  async fn() {
    const { capsule, hostCalls } = load(bytes({ version: 1 }));
    const c = await capsule;
    await assert.rejects(
      c.invoke("run", null),
      (e) => KernelError.is(e, "CAPSULE_NOT_FOUND"),
    );
    await assert.rejects(
      c.invoke("get", { kind: "skills", name: "x" }),
      (e) => KernelError.is(e, "NOT_FOUND"),
    );
    await assert.rejects(
      c.invoke("get", { kind: "secrets", name: "x" }),
      (e) => KernelError.is(e, "INVALID_INPUT"),
    );
    await c.unload();
    await assert.rejects(
      c.invoke("skills", null),
      (e) => KernelError.is(e, "CAPSULE_NOT_FOUND"),
    );
    assert.equal(c.health().status, "failed");
    assert.equal(hostCalls(), 0, "a static capsule never calls the host");
  },
});
