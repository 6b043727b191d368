/**
 * Crash safety with a real subprocess: a commit killed with SIGKILL leaves
 * every workspace file entirely old or entirely new, and a fresh overlay
 * instance completes the commit.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ls, SESSION, withVfs } from "./vfs_fixture_test.ts";

const HELPER = fileURLToPath(
  new URL("./fixtures/vfs_commit_crash.ts", import.meta.url),
);
const FILES = 150;
/** Progress lines seen before the kill; more land while the signal travels. */
const KILL_AFTER = 40;
const oldContent = (i: number) => `OLD-${i}-`.repeat(24_000);
const newContent = (i: number) => `NEW-${i}-`.repeat(30_000);

Deno.test({
  name:
    "`Overlay.commit()` killed with SIGKILL mid-commit leaves each file old or new, and a fresh instance completes it",
  permissions: { read: true, write: true, env: true, run: [Deno.execPath()] },
  fn: () =>
    withVfs(async (fx) => {
      const names = Array.from({ length: FILES }, (_, i) =>
        `f${String(i).padStart(3, "0")}.txt`);
      for (const [i, name] of names.entries()) {
        await fx.write(`data/${name}`, oldContent(i));
      }
      const o = await fx.reopen();
      for (const [i, name] of names.entries()) {
        await o.writeFile(`data/${name}`, newContent(i));
      }
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-R",
          "-W",
          "-E",
          "--no-lock",
          HELPER,
          fx.ws,
          fx.overlayDir(),
          SESSION,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines: string[] = [];
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let buffer = "";
      let killed = false;
      let landed = 0;
      while (!killed) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        buffer += value;
        const parts = buffer.split("\n");
        buffer = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          if (
            line.startsWith("P data/f") && ++landed >= KILL_AFTER && !killed
          ) {
            child.kill("SIGKILL");
            killed = true;
          }
        }
      }
      await reader.cancel();
      const stderr = await new Response(child.stderr).text();
      const status = await child.status;
      assert.equal(
        status.signal,
        "SIGKILL",
        `the helper was killed mid-commit: ${stderr}`,
      );
      assert.ok(
        !lines.includes("DONE"),
        "the kill landed before the commit finished",
      );

      let olds = 0;
      let news = 0;
      for (const [i, name] of names.entries()) {
        const got = await fx.read(`data/${name}`);
        if (got === oldContent(i)) {
          olds++;
        } else if (got === newContent(i)) {
          news++;
        } else assert.fail(`${name} is partial (${got.length} bytes)`);
      }
      assert.ok(news >= 1, "at least one file landed before the kill");
      assert.ok(olds >= 1, "at least one file was still pending at the kill");

      const fresh = await fx.reopen();
      const result = await fresh.commit();
      assert.deepEqual(result.refused, []);
      assert.deepEqual(fresh.dirtyPaths(), []);
      for (const [i, name] of names.entries()) {
        assert.equal(await fx.read(`data/${name}`), newContent(i), name);
      }
      const leftovers = (await ls(`${fx.ws}/data`)).filter((n) =>
        !names.includes(n)
      );
      assert.deepEqual(
        leftovers,
        [],
        "no temp file survives the resumed commit",
      );
    }),
});
