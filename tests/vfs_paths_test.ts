import assert from "node:assert/strict";
import { mapGuestPath } from "../kernel/vfs/guest_path.ts";
import { isBinary, unifiedDiff } from "../kernel/vfs/line_diff.ts";
import { splitRelPath } from "../kernel/vfs/rel_path.ts";

const ROOTS = { workspaceRoots: ["/work/project", "/tmp/ws-alias"] };

function code(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

Deno.test({
  name: "`splitRelPath()` normalises `.`, `..` and repeated slashes lexically",
  permissions: "none",
  fn() {
    assert.deepEqual(splitRelPath("."), []);
    assert.deepEqual(splitRelPath("a//b/./c/"), ["a", "b", "c"]);
    assert.deepEqual(splitRelPath("a/b/../../c"), ["c"]);
  },
});

Deno.test({
  name: "`splitRelPath()` gives escapes and malformed paths distinct codes",
  permissions: "none",
  fn() {
    assert.deepEqual(
      [
        "..",
        "a/../..",
        "/abs",
        "",
        "a\0",
        "x".repeat(256),
        `${"ab/".repeat(1366)}c`,
      ].map((p) => code(() => splitRelPath(p))),
      [
        "VFS_PATH_ESCAPE",
        "VFS_PATH_ESCAPE",
        "VFS_PATH_ESCAPE",
        "VFS_PATH_INVALID",
        "VFS_PATH_INVALID",
        "VFS_PATH_INVALID",
        "VFS_PATH_INVALID",
      ],
    );
    assert.throws(() => splitRelPath(42 as unknown as string), TypeError);
  },
});

Deno.test({
  name:
    "`mapGuestPath()` maps home://, /tmp, cwd://, relative and in-workspace absolute paths",
  permissions: "none",
  fn() {
    const m = (p: string) => mapGuestPath(p, ROOTS);
    assert.deepEqual(m("home://notes/a.md"), {
      mount: "home",
      parts: ["notes", "a.md"],
    });
    assert.deepEqual(m("home://"), { mount: "home", parts: [] });
    assert.deepEqual(m("/tmp"), { mount: "tmp", parts: [] });
    assert.deepEqual(m("/tmp/x/y"), { mount: "tmp", parts: ["x", "y"] });
    assert.deepEqual(m("cwd://src/a.ts"), {
      mount: "workspace",
      parts: ["src", "a.ts"],
    });
    assert.deepEqual(m("src/a.ts"), {
      mount: "workspace",
      parts: ["src", "a.ts"],
    });
    assert.deepEqual(m("/work/project/src/a.ts"), {
      mount: "workspace",
      parts: ["src", "a.ts"],
    });
    assert.deepEqual(m("/work/project"), { mount: "workspace", parts: [] });
    assert.deepEqual(
      m("/tmp/ws-alias/b"),
      { mount: "workspace", parts: ["b"] },
      "the workspace wins over /tmp",
    );
  },
});

Deno.test({
  name:
    "`mapGuestPath()` refuses absolute paths outside the workspace and /tmp, climbing out, and unknown schemes",
  permissions: "none",
  fn() {
    const c = (p: string) => code(() => mapGuestPath(p, ROOTS));
    assert.equal(c("/etc/passwd"), "VFS_PATH_ESCAPE");
    assert.equal(c("/work/project/../secret"), "VFS_PATH_ESCAPE");
    assert.equal(c("/work/projectx/a"), "VFS_PATH_ESCAPE");
    assert.equal(c("/tmp/../etc/passwd"), "VFS_PATH_ESCAPE");
    assert.equal(c("/tmpx"), "VFS_PATH_ESCAPE");
    assert.equal(c("home://../other-principal/x"), "VFS_PATH_ESCAPE");
    assert.equal(c("cwd://../x"), "VFS_PATH_ESCAPE");
    assert.equal(c("../outside"), "VFS_PATH_ESCAPE");
    assert.equal(c("file:///etc/passwd"), "VFS_PATH_INVALID");
    assert.equal(c("home://a\0b"), "VFS_PATH_INVALID");
    assert.equal(c(""), "VFS_PATH_INVALID");
  },
});

Deno.test({
  name:
    "`unifiedDiff()` matches GNU diff hunks for insertions, deletions and distant changes",
  permissions: "none",
  fn() {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join("");
    const b = a.replace("line 2\n", "").replace("line 15\n", "line 15\nnew\n");
    assert.equal(
      unifiedDiff(a, b),
      "--- a\n+++ b\n" +
        "@@ -1,6 +1,5 @@\n line 0\n line 1\n-line 2\n line 3\n line 4\n line 5\n" +
        "@@ -14,6 +13,7 @@\n line 13\n line 14\n line 15\n+new\n line 16\n line 17\n line 18\n",
    );
    assert.equal(unifiedDiff("same\n", "same\n"), "");
    assert.equal(
      unifiedDiff("x", "x\n"),
      "--- a\n+++ b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n",
    );
  },
});

Deno.test({
  name: "`isBinary()` looks for a NUL in the first 8 KiB and for invalid UTF-8",
  permissions: "none",
  fn() {
    const late = new Uint8Array(9000).fill(65);
    late[8500] = 0;
    assert.equal(
      isBinary(late),
      false,
      "a NUL after 8 KiB of valid UTF-8 is text by the sniff rule",
    );
    late[100] = 0;
    assert.equal(isBinary(late), true);
    assert.equal(isBinary(new TextEncoder().encode("ünïcödé ✓")), false);
    assert.equal(isBinary(new Uint8Array([0xc3])), true, "truncated UTF-8");
  },
});
