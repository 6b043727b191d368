import assert from "node:assert/strict";
import { createDenoFs } from "../host/deno_fs.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { resolveNodeId } from "./node_id.ts";

Deno.test("resolveNodeId: the configured id wins; else one generated once and kept in var/node_id; a tampered file is refused, not replaced", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const opts = {
      configured: "",
      varDir: dir,
      fs: createDenoFs(),
      random: new SeededRandom(7),
    };
    const first = await resolveNodeId(opts);
    assert.match(first, /^node-[0-9a-f]{12}$/);
    assert.equal(
      await resolveNodeId({ ...opts, random: new SeededRandom(8) }),
      first,
    );
    assert.equal((await Deno.readTextFile(`${dir}/node_id`)).trim(), first);
    assert.equal((await Deno.stat(`${dir}/node_id`)).mode! & 0o777, 0o600);
    assert.equal(await resolveNodeId({ ...opts, configured: "db-1" }), "db-1");
    await assert.rejects(resolveNodeId({ ...opts, configured: "../x" }), {
      code: "CONFIG_INVALID",
    });
    await Deno.writeTextFile(`${dir}/node_id`, "a b\n\u001b[31m");
    await assert.rejects(resolveNodeId(opts), { code: "CONFIG_INVALID" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
