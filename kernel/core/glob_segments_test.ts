import assert from "node:assert/strict";
import { compileGlob, isGlobPattern } from "./glob.ts";
import { KernelError } from "./errors.ts";

function isInvalid(e: unknown): boolean {
  return KernelError.is(e, "GLOB_INVALID");
}

function check(
  pattern: string,
  yes: readonly string[],
  no: readonly string[],
  separator?: string,
): void {
  const g = compileGlob(pattern, separator === undefined ? {} : { separator });
  for (const s of yes) {
    assert.ok(g.matches(s), `${pattern} should match ${JSON.stringify(s)}`);
  }
  for (const s of no) {
    assert.ok(
      !g.matches(s),
      `${pattern} should not match ${JSON.stringify(s)}`,
    );
  }
}

Deno.test({
  name:
    "`compileGlob()` `**` in the middle matches zero or more whole segments",
  permissions: "none",
  fn() {
    check("a/**/b", ["a/b", "a/x/b", "a/x/y/b", "a/b/b"], [
      "a/bx",
      "ab",
      "a/x/c",
      "x/a/b",
      "a/b/c",
    ]);
  },
});

Deno.test({
  name:
    "`compileGlob()` a trailing `**` matches the directory itself and everything below",
  permissions: "none",
  fn() {
    check("a/**", ["a", "a/", "a/x", "a/x/y"], ["ab", "b/a", "", "ab/x"]);
  },
});

Deno.test({
  name: "`compileGlob()` a leading `**` matches at any depth",
  permissions: "none",
  fn() {
    check("**/b.ts", ["b.ts", "x/b.ts", "x/y/b.ts"], [
      "b.ts/x",
      "xb.ts",
      "x/b.js",
    ]);
  },
});

Deno.test({
  name:
    "`compileGlob()` `**` alone matches every subject, the empty one included",
  permissions: "none",
  fn() {
    check("**", ["", "a", "a/b/c", "/abs/path", ".hidden/x"], []);
  },
});

Deno.test({
  name: "`compileGlob()` consecutive `**` segments behave as one",
  permissions: "none",
  fn() {
    check("a/**/**/b", ["a/b", "a/x/b", "a/x/y/z/b"], ["a/c", "b"]);
  },
});

Deno.test({
  name: "`compileGlob()` rejects `**` that is not a whole segment",
  permissions: "none",
  fn() {
    for (const p of ["a**", "**.ts", "x/**b", "***", "a/***/b"]) {
      assert.throws(() => compileGlob(p), isInvalid, p);
    }
  },
});

Deno.test({
  name: "`compileGlob()` rejects unclosed and empty classes",
  permissions: "none",
  fn() {
    for (
      const p of ["[", "a[bc", "[]", "[!]", "[^]", "[a-", "[\\]", "a/[b/c]"]
    ) {
      assert.throws(() => compileGlob(p), isInvalid, p);
    }
  },
});

Deno.test({
  name: "`compileGlob()` rejects a reversed range",
  permissions: "none",
  fn() {
    assert.throws(() => compileGlob("[z-a]"), isInvalid);
  },
});

Deno.test({
  name:
    "`compileGlob()` rejects a trailing lone backslash and an escaped separator",
  permissions: "none",
  fn() {
    assert.throws(() => compileGlob("abc\\"), isInvalid);
    assert.throws(() => compileGlob("a\\/b"), isInvalid);
    assert.throws(() => compileGlob("a\\.b", { separator: "." }), isInvalid);
  },
});

Deno.test({
  name:
    "`compileGlob()` matches a literal pattern exactly and case-sensitively",
  permissions: "none",
  fn() {
    check("/ws/README.md", ["/ws/README.md"], [
      "/ws/readme.md",
      "/ws/README.md/",
      "ws/README.md",
      "/ws/README.mdx",
    ]);
  },
});

Deno.test({
  name: "`compileGlob()` the empty pattern matches only the empty subject",
  permissions: "none",
  fn() {
    check("", [""], ["a", "/", " "]);
    check("*", [""], ["/"]);
  },
});

Deno.test({
  name: "`compileGlob()` matches non-ASCII literals and ranges by code point",
  permissions: "none",
  fn() {
    check("données/[α-ω]*", ["données/λx", "données/ω"], [
      "donnees/λx",
      "données/Λ",
    ]);
    check("[😀-😂]", ["😁"], ["😃", "a"]);
  },
});

Deno.test({
  name:
    "`compileGlob()` a URL pattern `file:///ws/**` stays under the workspace",
  permissions: "none",
  fn() {
    check(
      "file:///ws/**",
      ["file:///ws", "file:///ws/a", "file:///ws/a/b.txt"],
      [
        "file:///wsx/a",
        "file://ws/a",
        "file:///other/ws/a",
        "http:///ws/a",
      ],
    );
  },
});

Deno.test({
  name:
    "`compileGlob()` an MCP pattern `mcp://*:read_*` matches read tools of any server only",
  permissions: "none",
  fn() {
    check("mcp://*:read_*", ["mcp://fs:read_file", "mcp://git:read_"], [
      "mcp://fs:write_file",
      "mcp://fs/x:read_file",
      "mcp:/fs:read_file",
      "mcp://fs:read_file/x",
    ]);
  },
});

Deno.test({
  name: "`compileGlob()` with separator '.' matches host names label by label",
  permissions: "none",
  fn() {
    check("*.example.com", ["api.example.com", ".example.com"], [
      "a.b.example.com",
      "example.com",
      "api.example.org",
    ], ".");
    check(
      "**.example.com",
      ["example.com", "a.b.example.com"],
      ["example.org"],
      ".",
    );
  },
});

Deno.test({
  name: "`compileGlob()` with separator ':' keeps `*` inside one topic part",
  permissions: "none",
  fn() {
    check(
      "tool:*:done",
      ["tool:a/b:done"],
      ["tool:a:b:done", "tool:done"],
      ":",
    );
  },
});

Deno.test({
  name:
    "`compileGlob()` rejects an empty, long or reserved separator with RangeError",
  permissions: "none",
  fn() {
    for (const separator of ["", "//", "*", "?", "[", "\\", "\0"]) {
      assert.throws(
        () => compileGlob("a", { separator }),
        RangeError,
        JSON.stringify(separator),
      );
    }
  },
});

Deno.test({
  name:
    "`compileGlob()` returns a frozen, reusable glob exposing pattern and separator",
  permissions: "none",
  fn() {
    const g = compileGlob("a/*");
    assert.equal(g.pattern, "a/*");
    assert.equal(g.separator, "/");
    assert.ok(Object.isFrozen(g));
    assert.ok(g.matches("a/1") && g.matches("a/2") && !g.matches("b/1"));
  },
});

Deno.test({
  name: "`isGlobPattern()` finds unescaped `*`, `?` and `[` only",
  permissions: "none",
  fn() {
    for (const s of ["*", "a?", "[ab]", "x/**", "\\\\*"]) {
      assert.ok(isGlobPattern(s), s);
    }
    for (
      const s of ["", "abc", "a/b.txt", "\\*", "\\?", "\\[x]", "a]", "{a,b}"]
    ) {
      assert.ok(!isGlobPattern(s), s);
    }
  },
});
