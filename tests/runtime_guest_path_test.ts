/**
 * End-to-end, in both engines: a guest path is resolved once, by one mapper,
 * so the location the gate judges is the location the effect touches. The
 * attack of issue 11 finding 1: a capsule granted only `cwd://` writes
 * `HOME://…` — an upper-case scheme the gate once read as a relative
 * workspace path while the VFS lower-cased it into the principal home.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import {
  assertRefused,
  ENGINES,
  makeRuntime,
  PERMS,
} from "./runtime_fixture_test.ts";

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): a capsule granted only cwd:// cannot write into the principal home through an upper-case HOME:// scheme`,
    permissions: PERMS,
    async fn() {
      const f = await makeRuntime();
      try {
        const id = `${engine}-cwd-only`;
        await f.install({
          name: id,
          engine,
          capabilities: ['fs_read = ["cwd://"]', 'fs_write = ["cwd://"]'],
        });
        assert.deepEqual((await f.boot()).loaded, [id]);
        const home = f.kernel.home.home(f.principal).root;
        for (const scheme of ["HOME", "Home", "hOmE"]) {
          const guest = `${scheme}://.local/capsules/evil/pwned.txt`;
          assertRefused(
            await f.hostCall(id, "fs_write", { path: guest, content: "pwned" }),
            "MANIFEST_DENIED",
          );
        }
        // Nothing landed next to the installed capsules…
        await assert.rejects(
          Deno.stat(path.join(home, ".local", "capsules", "evil")),
          Deno.errors.NotFound,
        );
        // …and the gate judged — and audited — the principal home, the place
        // the write would have touched, not a path inside the workspace.
        const denied = await f.audit(id, "denied");
        assert.deepEqual(
          denied.map((e) => (e.action as Record<string, JsonValue>).path),
          [1, 2, 3].map(() =>
            path.join(home, ".local", "capsules", "evil", "pwned.txt")
          ),
        );
      } finally {
        await f.close();
      }
    },
  });
}
