/**
 * `cluster.overlay_root`: overlays live at `<root>/<principal>/<session>/`
 * instead of under the principal home, so a second overlay manager (another
 * node mounting the same storage) opens the writes the first acknowledged.
 */
import assert from "node:assert/strict";
import { OverlayManager } from "../kernel/vfs/overlay_manager.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import type { PrincipalId, SessionId } from "../kernel/core/ids.ts";

const P = "default" as PrincipalId;
const S = "00000000-0000-4000-8000-00000000000a" as SessionId;

Deno.test("overlay root: a session's overlay lives under the shared root and another manager (node) sees its acknowledged writes; the home:// parent is untouched", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const ws = `${dir}/ws`;
    await Deno.mkdir(ws);
    const deps = {
      fs: createDenoFs(),
      gate: { decide: () => Promise.reject(new Error("unused")) },
      audit: { append: () => Promise.resolve() },
    };
    const node = (home: string) =>
      new OverlayManager(deps, {
        homes: `${dir}/${home}/home`,
        overlayRoot: `${dir}/shared/`,
      });
    const a = node("a");
    assert.equal(a.overlayDir(P, S), `${dir}/shared/default/${S}`);
    const overlay = await a.forSession(P, S, { workspace: ws });
    await overlay.writeFile("b.txt", "beta\n");
    // Node b opens it from the shared storage.
    const b = node("b");
    const there = await b.forSession(P, S, { workspace: ws });
    assert.equal(
      new TextDecoder().decode(await there.readFile("b.txt")),
      "beta\n",
    );
    assert.deepEqual((await there.diff()).map((c) => c.path), ["b.txt"]);
    await assert.rejects(Deno.stat(`${dir}/a/home`), Deno.errors.NotFound);
    assert.throws(
      () => new OverlayManager(deps, { homes: "/h", overlayRoot: "rel" }),
      TypeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
