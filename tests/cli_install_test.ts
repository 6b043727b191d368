/**
 * `deno task install`: `deno install -g` of the CLI under its own narrow
 * flags, into a temp root, and the installed `astrid` runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { DENO_DIR, runDeno } from "./cli_fixture_test.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");

Deno.test({
  name:
    "deno task install: installs astrid with named --allow-run entries and no FFI, sys or -A, and the installed astrid --version runs",
  permissions: { read: true, write: true, env: true, run: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid-install-" });
    try {
      const installed = await runDeno(["task", "install", "--root", dir], {
        cwd: ROOT,
        env: { HOME: dir },
      });
      assert.equal(installed.code, 0, installed.stderr);
      const shim = await Deno.readTextFile(path.join(dir, "bin", "astrid"));
      const line = shim.split("\n").find((l) => l.startsWith("exec deno run"));
      assert.ok(line, shim);
      assert.match(line, / --allow-run=[^ ]*\/usr\/bin\/bwrap[^ ]* /);
      assert.match(line, / --no-prompt /);
      assert.match(line, / --deny-import /);
      assert.match(line, new RegExp(` --allow-run=${Deno.execPath()},`));
      assert.doesNotMatch(line, / (-A|--allow-all|--allow-ffi|--allow-sys)\b/);
      assert.doesNotMatch(line, / --allow-run /);
      const denoDir = path.dirname(Deno.execPath());
      const out = await new Deno.Command(path.join(dir, "bin", "astrid"), {
        args: ["--version"],
        env: {
          HOME: dir,
          PATH: `${denoDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
          DENO_DIR,
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(text, /^astrid \d+\.\d+\.\d+ \(deno /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
