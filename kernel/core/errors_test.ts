import assert from "node:assert/strict";
import { KernelError, redactPaths, toWireError } from "./errors.ts";

Deno.test({
  name:
    "`toWireError()` keeps code and message but redacts host paths in message and data",
  permissions: "none",
  fn() {
    const err = new KernelError(
      "CONFIG_INVALID",
      "Bad key in /home/ada/.astrid/etc/config.toml",
      {
        data: {
          issues: [{
            file: "/home/ada/w/.astrid/config.toml",
            key: "workspace.mode",
          }],
          n: 1,
        },
      },
    );
    assert.deepEqual(toWireError(err, "c-1"), {
      code: "CONFIG_INVALID",
      message: "Bad key in <path>",
      data: { issues: [{ file: "<path>", key: "workspace.mode" }], n: 1 },
      correlationId: "c-1",
    });
  },
});

Deno.test({
  name:
    "`toWireError()` turns a foreign error into INTERNAL without its message or stack",
  permissions: "none",
  fn() {
    const wire = toWireError(new Error("secret at /etc/shadow"));
    assert.deepEqual(wire, { code: "INTERNAL", message: "Internal error" });
  },
});

Deno.test({
  name: "`redactPaths()` leaves relative names and single-segment words alone",
  permissions: "none",
  fn() {
    assert.equal(
      redactPaths("capsule 'fs' at ./x and /tmp"),
      "capsule 'fs' at ./x and /tmp",
    );
    assert.equal(redactPaths("see /var/lib/x.kv now"), "see <path> now");
  },
});

Deno.test({
  name:
    "`KernelError.is()` matches by class and optionally by code, and keeps the cause",
  permissions: "none",
  fn() {
    const cause = new Error("inner");
    const err = new KernelError("HOST_IO", "outer", { cause });
    assert.equal(err.cause, cause);
    assert.ok(KernelError.is(err));
    assert.ok(KernelError.is(err, "HOST_IO"));
    assert.ok(!KernelError.is(err, "NOT_FOUND"));
    assert.ok(!KernelError.is(new Error("x")));
  },
});
