import assert from "node:assert/strict";
import * as path from "node:path";
import { isAbsolute, join, normalize, resolve } from "./posix_path.ts";

const SAMPLES = [
  "/",
  "/a",
  "/a/",
  "a",
  "",
  ".",
  "..",
  "/..",
  "/a/../..",
  "a/../../b",
  "/a//b/./c/../d/",
  "./x/./y/..",
  "/home/ada/.astrid/run/system.sock",
];

Deno.test("posix_path agrees with node:path's posix functions", () => {
  for (const p of SAMPLES) {
    assert.equal(
      normalize(p),
      path.posix.normalize(p).replace(/(.)\/$/, "$1"),
      p,
    );
    assert.equal(isAbsolute(p), path.posix.isAbsolute(p), p);
    assert.equal(resolve("/w/x", p), path.posix.resolve("/w/x", p), p);
    for (const q of SAMPLES) {
      assert.equal(
        join(p, q),
        path.posix.join(p, q).replace(/(.)\/$/, "$1"),
        `${p} + ${q}`,
      );
    }
  }
});
