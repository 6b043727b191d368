import assert from "node:assert/strict";
import { MemoryEnv } from "./memory_env.ts";

Deno.test({
  name: "`MemoryEnv` holds only what it was given and copies its input",
  permissions: "none",
  fn() {
    const vars: Record<string, string> = { HOME: "/home/a" };
    const env = new MemoryEnv(vars);
    vars.HOME = "/changed";
    assert.equal(env.get("HOME"), "/home/a");
    assert.equal(env.get("PATH"), undefined);
    env.set("ASTRID_HOME", "/srv/astrid");
    env.delete("HOME");
    assert.deepEqual(env.toObject(), { ASTRID_HOME: "/srv/astrid" });
  },
});
