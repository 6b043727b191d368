import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import { importUpperChanges, MAX_IMPORT_BYTES } from "./import_changes.ts";

Deno.test({
  name:
    "`importUpperChanges()` applies in order, refuses what is under a refused dir, never reads an oversized file, reports skipped entries",
  permissions: "none",
  async fn() {
    const applied: string[] = [];
    const read: string[] = [];
    const report = await importUpperChanges(
      [
        { kind: "dir", path: "locked" },
        { kind: "file", path: "locked/a", size: 1 },
        { kind: "file", path: "big", size: MAX_IMPORT_BYTES + 1 },
        { kind: "file", path: "ok", size: 2 },
        { kind: "delete", path: "gone" },
        { kind: "skipped", path: "link", why: "symlink" },
      ],
      (p) => {
        read.push(p);
        return Promise.resolve(new Uint8Array(2));
      },
      {
        write: (p) => {
          applied.push(`write ${p}`);
          return Promise.resolve();
        },
        mkdir: (p) =>
          Promise.reject(new KernelError("MANIFEST_DENIED", `no ${p}`)),
        remove: (p) => {
          applied.push(`remove ${p}`);
          return Promise.resolve();
        },
      },
    );
    assert.deepEqual(applied, ["write ok", "remove gone"]);
    assert.deepEqual(read, ["ok"]);
    assert.deepEqual(report.refused.map((r) => [r.path, r.code]), [
      ["locked", "MANIFEST_DENIED"],
      ["locked/a", "MANIFEST_DENIED"],
      ["big", "VFS_INVALID_OPERATION"],
    ]);
    assert.deepEqual(report.skipped, [{ path: "link", why: "symlink" }]);
  },
});
