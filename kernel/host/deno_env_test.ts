import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { createDenoEnv } from "./deno_env.ts";

Deno.test({
  name:
    "`createDenoEnv().get()` reads the process environment, undefined when unset",
  permissions: { env: true },
  fn() {
    Deno.env.set("ASTRID_ENV_TEST", "value-1");
    try {
      const env = createDenoEnv();
      assert.equal(env.get("ASTRID_ENV_TEST"), "value-1");
      Deno.env.delete("ASTRID_ENV_TEST");
      assert.equal(env.get("ASTRID_ENV_TEST"), undefined);
    } finally {
      Deno.env.delete("ASTRID_ENV_TEST");
    }
  },
});

Deno.test({
  name:
    "`createDenoEnv().get()` maps a sandbox refusal to HOST_PERMISSION_DENIED",
  permissions: "none",
  fn() {
    assert.throws(
      () => createDenoEnv().get("HOME"),
      (e) =>
        KernelError.is(e, "HOST_PERMISSION_DENIED") &&
        e.cause instanceof Deno.errors.NotCapable,
    );
  },
});
