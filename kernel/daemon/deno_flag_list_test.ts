import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { allowFlag, FlagList, unsafeFlagValue } from "./deno_flag_list.ts";

Deno.test("FlagList: a value with a comma, newline, NUL or nothing is refused with CONFIG_INVALID", () => {
  const list = new FlagList();
  for (const v of ["a.com,--allow-all", "/srv/a\n--allow-run", "/a\0b", ""]) {
    assert.throws(
      () => list.add(v, "test", "a capsule"),
      (e) => e instanceof KernelError && e.code === "CONFIG_INVALID",
      JSON.stringify(v),
    );
  }
  assert.deepEqual(list.entries(), []);
});

Deno.test("FlagList: '=' and a leading '-' stay inside the one flag argument", () => {
  const list = new FlagList();
  list.add("/srv/a=b", "a root", "test");
  list.add("-rf", "odd but harmless", "test");
  assert.deepEqual(allowFlag("read", list.entries()), [
    "--allow-read=/srv/a=b,-rf",
  ]);
  assert.equal(unsafeFlagValue("/srv/a=b"), null);
});

Deno.test("FlagList: a repeated value is listed once with every reason", () => {
  const list = new FlagList();
  list.add("/h", "the home", "test");
  list.add("/h", "a root", "test");
  list.add("/h", "the home", "test");
  assert.deepEqual(list.entries(), [{
    value: "/h",
    reason: "the home; a root",
  }]);
  assert.ok(list.has("/h"));
  assert.deepEqual(allowFlag("write", []), []);
});
