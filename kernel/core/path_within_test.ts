import assert from "node:assert/strict";
import * as path from "node:path";
import { isPathWithin } from "./path_within.ts";

/** The definition: `path.relative` neither climbs nor jumps. */
function reference(root: string, target: string): boolean {
  const rel = path.posix.relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !path.posix.isAbsolute(rel));
}

Deno.test("`isPathWithin()` answers as `path.relative` does for every mix of normal and odd paths", () => {
  const segs = ["a", "ab", "b", "..a", "..", ".", "", "a.", "...", "x y"];
  const paths = new Set<string>([
    "/",
    "//",
    "/a/",
    "a",
    "a/b",
    "/a//b",
    "/a/./b",
  ]);
  for (const s1 of segs) {
    paths.add(`/${s1}`);
    for (const s2 of segs) {
      paths.add(`/${s1}/${s2}`);
      paths.add(`/${s1}/${s2}/`);
      for (const s3 of ["a", "..", "..a"]) paths.add(`/${s1}/${s2}/${s3}`);
    }
  }
  const all = [...paths];
  let checked = 0;
  for (const root of all) {
    for (const target of all) {
      assert.equal(
        isPathWithin(root, target),
        reference(root, target),
        `isPathWithin(${JSON.stringify(root)}, ${JSON.stringify(target)})`,
      );
      checked++;
    }
  }
  assert.ok(checked > 10_000);
});

Deno.test("`isPathWithin()` keeps siblings with a shared prefix and climbing paths outside", () => {
  assert.ok(isPathWithin("/work/project", "/work/project/src/a.ts"));
  assert.ok(isPathWithin("/", "/etc"));
  assert.ok(!isPathWithin("/work/project", "/work/project-evil/a"));
  assert.ok(!isPathWithin("/work/project", "/work/project/../secret"));
  assert.ok(!isPathWithin("/work/project/src", "/work/project"));
});
