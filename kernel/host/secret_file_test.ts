import assert from "node:assert/strict";
import * as path from "node:path";
import { fileModeOf, removeQuietly, writePrivateFile } from "./secret_file.ts";

Deno.test("writePrivateFile writes mode 0600 whatever the old file's mode, replaces atomically and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = path.join(dir, "system.token");
    await Deno.writeTextFile(file, "old", { mode: 0o644 });
    await Deno.chmod(file, 0o644);
    await writePrivateFile(file, "new-token");
    assert.equal(await Deno.readTextFile(file), "new-token");
    assert.deepEqual(await fileModeOf(file), { mode: 0o600, socket: false });
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
      ["system.token"],
    );
    assert.equal(await removeQuietly(file), true);
    assert.equal(await removeQuietly(file), false);
    assert.equal(await fileModeOf(file), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
