import assert from "node:assert/strict";
import { compileGlob } from "./glob.ts";
import { KernelError } from "./errors.ts";

function isInvalid(e: unknown): boolean {
  return KernelError.is(e, "GLOB_INVALID");
}

const BROAD = [
  "**",
  "*/**",
  "**/*",
  "*",
  "*/*",
  "*/*/*",
  "a/**",
  "**/b",
  "a/*/b",
  "?*/**",
];

Deno.test({
  name:
    "`compileGlob()` never matches a subject with a `..` segment, whatever the pattern",
  permissions: "none",
  fn() {
    const subjects = [
      "..",
      "../b",
      "a/..",
      "a/../b",
      "a/b/../../..",
      "/..",
      "a/../../etc/passwd",
    ];
    for (const p of BROAD) {
      const g = compileGlob(p);
      for (const s of subjects) {
        assert.ok(!g.matches(s), `${p} must not match ${s}`);
      }
    }
  },
});

Deno.test({
  name:
    "`compileGlob()` allows names that merely contain dots: `file..txt`, `...`, `..a`",
  permissions: "none",
  fn() {
    const g = compileGlob("ws/**");
    for (
      const s of [
        "ws/file..txt",
        "ws/...",
        "ws/..a",
        "ws/a..",
        "ws/.",
        "ws/.hidden",
      ]
    ) {
      assert.ok(g.matches(s), s);
    }
  },
});

Deno.test({
  name: "`compileGlob()` never matches a URL whose path has a `..` segment",
  permissions: "none",
  fn() {
    const g = compileGlob("file:///ws/**");
    assert.ok(g.matches("file:///ws/a"));
    for (
      const s of [
        "file:///ws/../etc/passwd",
        "file:///ws/a/../../x",
        "file:///ws/..",
        "file:///../ws/a",
      ]
    ) {
      assert.ok(!g.matches(s), s);
    }
    assert.ok(!compileGlob("mcp://**").matches("mcp://a/../b"));
  },
});

Deno.test({
  name:
    "`compileGlob()` never matches `..` split by `/` or `\\` under another separator",
  permissions: "none",
  fn() {
    const dot = compileGlob("**", { separator: ":" });
    assert.ok(dot.matches("topic:a/b"));
    for (const s of ["topic:a/../b", "topic:..", "topic:a\\..\\b", "../x"]) {
      assert.ok(!dot.matches(s), s);
    }
    const slash = compileGlob("**");
    assert.ok(!slash.matches("ws\\..\\secret"));
    assert.ok(slash.matches("ws\\file..txt"));
  },
});

Deno.test({
  name: "`compileGlob()` rejects a pattern with a `..` segment",
  permissions: "none",
  fn() {
    for (
      const p of [
        "..",
        "../**",
        "a/../b",
        "a/..",
        "file:///ws/../**",
        "a/\\.\\./b",
        "a/.\\.",
      ]
    ) {
      assert.throws(() => compileGlob(p), isInvalid, p);
    }
    assert.throws(
      () => compileGlob("topic:x/../y", { separator: ":" }),
      isInvalid,
    );
    assert.throws(() => compileGlob("a:..:b", { separator: ":" }), isInvalid);
  },
});

Deno.test({
  name: "`compileGlob()` accepts patterns whose segments only contain dots",
  permissions: "none",
  fn() {
    for (const p of ["file..txt", "...", "a/./b", "..*", "*..", ".?"]) {
      compileGlob(p);
    }
    assert.ok(compileGlob("..*").matches("..a"));
    assert.ok(!compileGlob("..*").matches(".."));
    assert.ok(!compileGlob(".?").matches(".."));
  },
});

Deno.test({
  name: "`compileGlob()` never matches a subject containing NUL",
  permissions: "none",
  fn() {
    for (const p of ["**", "*", "a*", "a?b"]) {
      const g = compileGlob(p);
      for (const s of ["a\0b", "\0", "a/\0"]) {
        assert.ok(!g.matches(s), `${p} vs ${JSON.stringify(s)}`);
      }
    }
  },
});

Deno.test({
  name:
    "`compileGlob()` rejects a pattern containing NUL, even escaped or in a class",
  permissions: "none",
  fn() {
    for (const p of ["a\0", "\\\0", "[\0]", "**/\0"]) {
      assert.throws(() => compileGlob(p), isInvalid, JSON.stringify(p));
    }
  },
});

Deno.test({
  name:
    "`compileGlob()` wildcards and negated classes never match the separator",
  permissions: "none",
  fn() {
    assert.ok(!compileGlob("a?b").matches("a/b"));
    assert.ok(!compileGlob("a[!x]b").matches("a/b"));
    assert.ok(!compileGlob("a*b").matches("a/b"));
    assert.ok(!compileGlob("ws/*").matches("ws/a/b"));
  },
});

Deno.test({
  name:
    "`compileGlob()` a directory prefix does not match a sibling with the same prefix",
  permissions: "none",
  fn() {
    for (const p of ["/ws/**", "/ws/*"]) {
      const g = compileGlob(p);
      for (const s of ["/ws2/x", "/wsx", "/w/x", "/ws-evil/a"]) {
        assert.ok(!g.matches(s), `${p} vs ${s}`);
      }
    }
  },
});

Deno.test({
  name:
    "`compileGlob()` matching is lexical: an encoded `%2e%2e` is an ordinary name",
  permissions: "none",
  fn() {
    // Decoding is the caller's job (module doc); this pins the documented behaviour.
    assert.ok(compileGlob("file:///ws/**").matches("file:///ws/%2e%2e/x"));
    assert.ok(
      !compileGlob("file:///ws/**").matches(
        decodeURIComponent("file:///ws/%2e%2e/x"),
      ),
    );
  },
});

Deno.test({
  name: "`compileGlob()` is case-sensitive, so `*.TS` does not match `a.ts`",
  permissions: "none",
  fn() {
    assert.ok(!compileGlob("*.TS").matches("a.ts"));
    assert.ok(compileGlob("*.TS").matches("a.TS"));
  },
});

Deno.test({
  name:
    "`compileGlob()` finishes a pathological star pattern against a long subject",
  permissions: "none",
  fn() {
    const g = compileGlob("*a*a*a*a*a*a*a*a*a*a*a*a*b");
    const long = "a".repeat(20_000);
    assert.equal(g.matches(long), false);
    assert.equal(g.matches(`${long}b`), true);
    assert.equal(g.matches(`${long}c`), false);
  },
});

Deno.test({
  name:
    "`compileGlob()` finishes a pathological globstar pattern against a deep subject",
  permissions: "none",
  fn() {
    const g = compileGlob("**/a/**/a/**/a/**/a/**/a/**/a/**/b");
    const deep = Array.from({ length: 3_000 }, () => "a").join("/");
    assert.equal(g.matches(deep), false);
    assert.equal(g.matches(`${deep}/b`), true);
    assert.equal(g.matches(`${deep}/b/c`), false);
  },
});

Deno.test({
  name:
    "`compileGlob()` finishes class and `?` heavy patterns against a long subject",
  permissions: "none",
  fn() {
    const g = compileGlob(`${"[a]*?".repeat(30)}[!a]`);
    const long = "a".repeat(10_000);
    assert.equal(g.matches(long), false);
    assert.equal(g.matches(`${long}z`), true);
  },
});

Deno.test({
  name: "`compileGlob()` handles a subject with thousands of empty segments",
  permissions: "none",
  fn() {
    const many = "/".repeat(5_000);
    assert.equal(compileGlob("**/x").matches(many), false);
    assert.equal(compileGlob("**").matches(many), true);
    assert.equal(compileGlob("*/*").matches(many), false);
  },
});
