import assert from "node:assert/strict";
import { compileGlob } from "./glob.ts";

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
  name: "`compileGlob()` `*` matches any run within one segment",
  permissions: "none",
  fn() {
    check("src/*.ts", ["src/a.ts", "src/.ts", "src/a.b.ts"], [
      "src/a.js",
      "src/a/b.ts",
      "a.ts",
      "src/a.ts/x",
    ]);
  },
});

Deno.test({
  name: "`compileGlob()` `*` matches an empty segment, so `a/*` matches `a/`",
  permissions: "none",
  fn() {
    check("a/*", ["a/", "a/x"], ["a", "a/x/", "b/x"]);
    check("a/*/b", ["a//b", "a/x/b"], ["a/b", "a/x/y/b"]);
  },
});

Deno.test({
  name: "`compileGlob()` `?` matches exactly one non-separator character",
  permissions: "none",
  fn() {
    check("a?c", ["abc", "a.c", "a?c"], ["ac", "abbc", "a/c"]);
  },
});

Deno.test({
  name:
    "`compileGlob()` `?` matches one code point, including an astral character",
  permissions: "none",
  fn() {
    check("x?y", ["x😀y", "xéy"], ["x😀😀y"]);
  },
});

Deno.test({
  name: "`compileGlob()` a class `[abc]` matches one member and nothing else",
  permissions: "none",
  fn() {
    check("f[abc].ts", ["fa.ts", "fc.ts"], [
      "fd.ts",
      "f.ts",
      "fab.ts",
      "fA.ts",
    ]);
  },
});

Deno.test({
  name: "`compileGlob()` a range `[a-z0-9]` matches inside the range only",
  permissions: "none",
  fn() {
    check("v[a-z0-9]", ["va", "vz", "v5"], ["vA", "v-", "v", "vaa"]);
  },
});

Deno.test({
  name: "`compileGlob()` `[!a-z]` and `[^a-z]` negate a class",
  permissions: "none",
  fn() {
    for (const p of ["x[!a-z]", "x[^a-z]"]) {
      check(p, ["xA", "x1", "x-"], ["xa", "xq", "x", "x/"]);
    }
  },
});

Deno.test({
  name: "`compileGlob()` a `]` first in a class is literal",
  permissions: "none",
  fn() {
    check("[]a]", ["]", "a"], ["b", "[", ""]);
    check("[!]a]", ["b", "["], ["]", "a"]);
    check("[^]]", ["x"], ["]"]);
  },
});

Deno.test({
  name: "`compileGlob()` a `-` at the start or end of a class is literal",
  permissions: "none",
  fn() {
    check("[-a]", ["-", "a"], ["b"]);
    check("[a-]", ["-", "a"], ["b"]);
  },
});

Deno.test({
  name: "`compileGlob()` a backslash escapes inside a class",
  permissions: "none",
  fn() {
    check("[\\]x]", ["]", "x"], ["\\"]);
    check("[\\!a]", ["!", "a"], ["b"]);
  },
});

Deno.test({
  name:
    "`compileGlob()` `\\*`, `\\?` and `\\[` match the literal characters only",
  permissions: "none",
  fn() {
    check("a\\*b", ["a*b"], ["axb", "ab"]);
    check("a\\?", ["a?"], ["ab"]);
    check("\\[x]", ["[x]"], ["x"]);
  },
});

Deno.test({
  name: "`compileGlob()` `\\\\` matches one literal backslash",
  permissions: "none",
  fn() {
    check("a\\\\b", ["a\\b"], ["ab", "a\\\\b", "a/b"]);
  },
});
