// deno-lint-ignore-file no-control-regex -- the tests look for escape sequences
import assert from "node:assert/strict";
import { displayWidth, padTo, sanitize, truncate, wrap } from "./text.ts";

Deno.test("sanitize: escape sequences and control characters from untrusted text never reach the terminal", () => {
  const hostile =
    "ok\x1b[2J\x1b]52;c;ZXZpbA==\x07\x1bP+q\x1b\\\x9b31m\x9d0;title\x9c\x07\x08\x00end\u202e";
  const clean = sanitize(hostile);
  assert.equal(clean, "ok   end");
  assert.doesNotMatch(clean, /[\x00-\x1f\x7f-\x9f]/);
  assert.equal(sanitize("a\r\nb\tc", true), "a\nb  c");
  assert.equal(sanitize("a\nb"), "a b");
});

Deno.test("displayWidth: wide characters take two columns, combining marks none", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("日本"), 4);
  assert.equal(displayWidth("e\u0301"), 1);
  assert.equal(displayWidth("🙂"), 2);
});

Deno.test("truncate and padTo: text fits its columns exactly, with an ellipsis when cut", () => {
  assert.equal(truncate("hello world", 8), "hello w…");
  assert.equal(truncate("short", 8), "short");
  assert.equal(truncate("日本語", 4), "日…");
  assert.equal(padTo("ab", 5), "ab   ");
  assert.equal(displayWidth(padTo("日本語です", 7)), 7);
});

Deno.test("wrap: breaks at spaces, splits words longer than a row, keeps newlines", () => {
  assert.deepEqual(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
  assert.deepEqual(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
  assert.deepEqual(wrap("a\n\nb", 5), ["a", "", "b"]);
  for (const row of wrap("lorem ipsum dolor sit amet ".repeat(20), 17)) {
    assert.ok(displayWidth(row) <= 17, row);
  }
});
