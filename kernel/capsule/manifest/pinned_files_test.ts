import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../../core/errors.ts";
import { createDenoFs } from "../../host/deno_fs.ts";
import { parseManifest } from "./parse_manifest.ts";
import { checkPinnedFiles, hashPinnedFiles } from "./pinned_files.ts";

const fs = createDenoFs();
const MCP = [
  "[package]",
  'name = "srv"',
  'version = "1.0.0"',
  "[capabilities]",
  'host_process = ["deno run main.ts"]',
  "[[mcp_server]]",
  'id = "s"',
  'command = "deno"',
  'args = ["run", "main.ts"]',
  "",
].join("\n");

function manifest() {
  const r = parseManifest(MCP, {
    file: "Capsule.toml",
    kernelVersion: "0.1.0",
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

function integrity(pattern: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(KernelError.is(err, "CAPSULE_INTEGRITY"), String(err));
    assert.match(err.message, pattern);
    return true;
  };
}

Deno.test({
  name:
    "`hashPinnedFiles()` pins every file of an MCP capsule dir, and `checkPinnedFiles()` refuses an edit, an added file and a symlink",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_pins_" });
    try {
      await Deno.writeTextFile(path.join(dir, "Capsule.toml"), MCP);
      await Deno.mkdir(path.join(dir, "lib"));
      await Deno.writeTextFile(
        path.join(dir, "main.ts"),
        'import "./lib/a.ts";',
      );
      await Deno.writeTextFile(path.join(dir, "lib/a.ts"), "1;");
      await Deno.writeTextFile(path.join(dir, "meta.json"), "{}");
      const m = manifest();
      const artifacts = await hashPinnedFiles(fs, dir, { manifest: m });
      assert.deepEqual(Object.keys(artifacts), [
        "Capsule.toml",
        "lib/a.ts",
        "main.ts",
      ]);
      await checkPinnedFiles(fs, dir, { manifest: m, artifacts });
      await Deno.writeTextFile(path.join(dir, "lib/b.ts"), "2;");
      await assert.rejects(
        checkPinnedFiles(fs, dir, { manifest: m, artifacts }),
        integrity(/file lib\/b\.ts appeared after install/),
      );
      await Deno.remove(path.join(dir, "lib/b.ts"));
      await Deno.writeTextFile(path.join(dir, "lib/a.ts"), "3;");
      await assert.rejects(
        checkPinnedFiles(fs, dir, { manifest: m, artifacts }),
        integrity(/artifact lib\/a\.ts hash differs from the install record/),
      );
      await Deno.symlink("/etc/passwd", path.join(dir, "lib/link.ts"));
      await assert.rejects(
        hashPinnedFiles(fs, dir, { manifest: m }),
        integrity(/lib\/link\.ts is a symbolic link/),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
