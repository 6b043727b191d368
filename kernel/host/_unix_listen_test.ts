import assert from "node:assert/strict";
import { listenUnixReclaiming } from "./_unix_listen.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  net: true,
};

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-unix-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "listenUnixReclaiming: takes over a stale socket, reports a live one as in use, never removes a regular file",
  permissions: PERMS,
  fn: () =>
    inDir(async (dir) => {
      const live = await listenUnixReclaiming(`${dir}/live.sock`);
      assert.ok(live);
      assert.equal(await listenUnixReclaiming(`${dir}/live.sock`), null);
      live.close();
      // Deno leaves the file of a closed listener: now it is stale.
      const stale = `${dir}/live.sock`;
      if (await Deno.lstat(stale).then(() => true, () => false)) {
        const again = await listenUnixReclaiming(stale);
        assert.ok(again);
        again.close();
      }
      const file = `${dir}/file.sock`;
      await Deno.writeTextFile(file, "keep me");
      await assert.rejects(
        listenUnixReclaiming(file),
        Deno.errors.AddrInUse,
      );
      assert.equal(await Deno.readTextFile(file), "keep me");
    }),
});
