import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import type { CapsuleId } from "../../core/ids.ts";
import type { JsonValue } from "../../store/store.ts";
import { install, makeRegistry, staticToml } from "./_registry_fixture_test.ts";

const P = { read: true, write: true } as const;

async function withRoots(
  fn: (user: string, ws: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "astrid-reg-" });
  try {
    await fn(
      path.join(root, "user"),
      path.join(root, "ws", ".astrid", "capsules"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test({
  name:
    "`CapsuleRegistry.boot()` loads capsules in dependency order and publishes capsules_loaded",
  permissions: P,
  async fn() {
    await withRoots(async (user) => {
      await install(
        user,
        "app",
        staticToml("app", '\n[imports.astrid]\npersona = "^1.0"\n'),
        { "about.md": "app" },
      );
      await install(
        user,
        "identity",
        staticToml("identity", '\n[exports.astrid]\npersona = "1.2.0"\n'),
        {
          "about.md": "Be brief.",
        },
      );
      const { registry, bus } = await makeRegistry();
      const seen: JsonValue[] = [];
      bus.subscribe("kernel", {
        pattern: "astrid.v1.capsules_loaded",
        handler: (e) => void seen.push(e.payload),
      });
      const report = await registry.boot([user]);
      assert.deepEqual(report.loaded, ["identity", "app"]);
      assert.deepEqual(report.refused, []);
      await bus.whenIdle();
      assert.deepEqual(seen, [{ loaded: ["identity", "app"], refused: [] }]);
      assert.deepEqual(
        await registry.invoke("identity" as CapsuleId, "context_files", null),
        [
          { name: "about", content: "Be brief." },
        ],
      );
    });
  },
});

Deno.test({
  name:
    "`CapsuleRegistry.boot()` refuses a tampered artifact and a missing import but loads the rest",
  permissions: P,
  async fn() {
    await withRoots(async (user) => {
      const dir = await install(user, "tampered", staticToml("tampered"), {
        "about.md": "original",
      });
      await Deno.writeTextFile(path.join(dir, "about.md"), "evil");
      await install(
        user,
        "needy",
        staticToml("needy", '\n[imports.astrid]\nllm = "^1.0"\n'),
        { "about.md": "x" },
      );
      await install(user, "fine", staticToml("fine"), { "about.md": "ok" });
      const { registry } = await makeRegistry();
      const report = await registry.boot([user]);
      assert.deepEqual(report.loaded, ["fine"]);
      const codes = Object.fromEntries(
        report.refused.map((r) => [r.capsule, r.code]),
      );
      assert.equal(codes["tampered"], "CAPSULE_INTEGRITY");
      assert.equal(codes["needy"], "missing_import");
    });
  },
});

Deno.test({
  name:
    "`CapsuleRegistry.boot()` lets a user-level capsule win a name clash with a workspace copy",
  permissions: P,
  async fn() {
    await withRoots(async (user, ws) => {
      await install(user, "persona", staticToml("persona"), {
        "about.md": "user copy",
      });
      await install(ws, "persona", staticToml("persona"), {
        "about.md": "workspace copy",
      });
      const { registry } = await makeRegistry();
      const report = await registry.boot([user, ws]);
      assert.deepEqual(report.loaded, ["persona"]);
      assert.equal(report.refused[0]?.code, "duplicate");
      assert.deepEqual(
        await registry.invoke("persona" as CapsuleId, "get", {
          kind: "context_files",
          name: "about",
        }),
        {
          name: "about",
          content: "user copy",
        },
      );
    });
  },
});

Deno.test({
  name:
    "`CapsuleRegistry.boot()` refuses a capsule whose engine is not available, naming the engine",
  permissions: P,
  async fn() {
    await withRoots(async (user) => {
      await install(
        user,
        "tool",
        '[package]\nname = "tool"\nversion = "1.0.0"\n\n[[component]]\ntype = "js"\nfile = "tool.js"\n',
        { "tool.js": "export function run() {}" },
      );
      const { registry } = await makeRegistry();
      const report = await registry.boot([user]);
      assert.deepEqual(report.loaded, []);
      assert.match(
        report.refused[0]?.reason ?? "",
        /js engine is not available/,
      );
    });
  },
});

Deno.test({
  name:
    "`CapsuleRegistry.unload()` cancels the capsule's host calls and removes its grants",
  permissions: P,
  async fn() {
    await withRoots(async (user) => {
      await install(user, "persona", staticToml("persona"), {
        "about.md": "x",
      });
      const { registry, grants, aborted } = await makeRegistry();
      await registry.boot([user]);
      assert.ok(grants.has("persona" as CapsuleId));
      await registry.unload("persona" as CapsuleId);
      assert.deepEqual(aborted, ["persona"]);
      assert.ok(!grants.has("persona" as CapsuleId));
      await assert.rejects(
        registry.invoke("persona" as CapsuleId, "skills", null),
        (e) => KernelError.is(e, "CAPSULE_NOT_FOUND"),
      );
      await registry.unload("persona" as CapsuleId);
    });
  },
});

Deno.test({
  name:
    "`CapsuleRegistry.supervise()` restarts a failed capsule with exponential backoff",
  permissions: P,
  async fn() {
    await withRoots(async (user) => {
      await install(user, "flaky", staticToml("flaky"), { "about.md": "x" });
      let loads = 0;
      const flakyEngine = {
        name: "static" as const,
        load: (o: { capsule: CapsuleId }) => {
          loads++;
          return Promise.resolve({
            id: o.capsule,
            invoke: () => Promise.resolve(null),
            health: () => ({ status: "failed" as const, reason: "crashed" }),
            unload: () => Promise.resolve(),
          });
        },
      };
      const { registry, clock } = await makeRegistry({ static: flakyEngine });
      await registry.boot([user]);
      assert.equal(loads, 1);
      assert.deepEqual(await registry.supervise(), ["flaky"]);
      assert.equal(loads, 2);
      assert.deepEqual(
        await registry.supervise(),
        [],
        "backoff: not again immediately",
      );
      await clock.advance(1_000);
      assert.deepEqual(await registry.supervise(), ["flaky"]);
      await clock.advance(1_000);
      assert.deepEqual(
        await registry.supervise(),
        [],
        "the second backoff is 2 s",
      );
      await clock.advance(1_000);
      assert.deepEqual(await registry.supervise(), ["flaky"]);
      assert.equal(loads, 4);
    });
  },
});
