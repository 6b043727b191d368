/**
 * End-to-end, in both engines: an installed capsule whose artifact (or
 * manifest) was edited after `meta.json` pinned it is refused at boot with
 * `CAPSULE_INTEGRITY`; its code never runs, it gets no grants, and the other
 * capsules load and serve.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import {
  ARTIFACT_FILE,
  assertOk,
  ENGINES,
  makeRuntime,
  manifestOf,
  PERMS,
  rejection,
} from "./runtime_fixture_test.ts";

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): a tampered artifact or manifest is refused at boot with CAPSULE_INTEGRITY while the others load`,
    permissions: PERMS,
    async fn() {
      const f = await makeRuntime();
      const good = `${engine}-good`;
      const patched = `${engine}-patched`;
      const swapped = `${engine}-swapped`;
      const widened = `${engine}-widened`;
      const unpinned = `${engine}-unpinned`;
      try {
        const file = ARTIFACT_FILE[engine];
        for (const name of [good, patched, swapped, widened, unpinned]) {
          await f.install({ name, engine });
        }
        const dir = (name: string) => path.join(f.capsules, name);
        // Appended code (js) / an appended custom section (wasm): still a valid
        // artifact for its engine, but not the one that was pinned.
        const original = await Deno.readFile(path.join(dir(patched), file));
        const extra = engine === "js"
          ? new TextEncoder().encode("\nglobalThis.pwned = true;\n")
          : new Uint8Array([0, 4, 3, 0x61, 0x62, 0x63]);
        await Deno.writeFile(
          path.join(dir(patched), file),
          new Uint8Array([...original, ...extra]),
        );
        // One byte flipped in the middle.
        const bytes = await Deno.readFile(path.join(dir(swapped), file));
        bytes[bytes.length >> 1]! ^= 0x01;
        await Deno.writeFile(path.join(dir(swapped), file), bytes);
        // The manifest edited after install to widen its grants.
        await Deno.writeTextFile(
          path.join(dir(widened), "Capsule.toml"),
          manifestOf({
            name: widened,
            engine,
            capabilities: ['fs_read = ["*"]', 'net = ["*"]'],
          }),
        );
        // No pins at all.
        await Deno.remove(path.join(dir(unpinned), "meta.json"));

        const report = await f.boot();
        assert.deepEqual(report.loaded, [good]);
        const refused = Object.fromEntries(
          report.refused.map((r) => [r.capsule, r]),
        );
        assert.deepEqual(
          Object.keys(refused).sort(),
          [patched, swapped, widened, unpinned].sort(),
        );
        for (const name of [patched, swapped, widened, unpinned]) {
          assert.equal(refused[name]!.code, "CAPSULE_INTEGRITY", name);
          assert.ok(refused[name]!.reason.length > 0);
        }
        assert.match(refused[patched]!.reason, new RegExp(file));
        assert.match(refused[widened]!.reason, /Capsule\.toml/);
        // A refused capsule is not callable, and the good one serves.
        for (const name of [patched, swapped, widened, unpinned]) {
          assert.equal(
            (await rejection(f.invoke(name, "ping"))).code,
            "CAPSULE_NOT_FOUND",
          );
        }
        assert.deepEqual(await f.invoke(good, "ping"), { pong: 1 });
        assertOk(await f.hostCall(good, "kv_set", { key: "k", value: 1 }));
        assert.deepEqual(f.runtime.registry.loaded, [good as CapsuleId]);
      } finally {
        await f.close();
      }
    },
  });
}
