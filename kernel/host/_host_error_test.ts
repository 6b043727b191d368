import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { hostError } from "./_host_error.ts";

Deno.test({
  name:
    "`hostError()` maps each Deno error class to its kernel code and keeps the cause",
  permissions: "none",
  fn() {
    const cases: Array<[unknown, string]> = [
      [new Deno.errors.NotFound("gone"), "NOT_FOUND"],
      [new Deno.errors.PermissionDenied("EACCES"), "HOST_PERMISSION_DENIED"],
      [new Deno.errors.NotCapable("no --allow-read"), "HOST_PERMISSION_DENIED"],
      [new Deno.errors.AlreadyExists("exists"), "HOST_IO"],
      [new Deno.errors.BrokenPipe("pipe"), "HOST_IO"],
      [new DOMException("stop", "AbortError"), "ABORTED"],
      ["a string", "HOST_IO"],
    ];
    for (const [cause, code] of cases) {
      const err = hostError(cause, "read 'x'");
      assert.deepEqual([err.code, err.cause], [code, cause]);
    }
  },
});

Deno.test({
  name: "`hostError()` returns a KernelError unchanged and says what failed",
  permissions: "none",
  fn() {
    const original = new KernelError("ABORTED", "Cancelled x");
    assert.equal(hostError(original, "read 'x'"), original);
    const err = hostError(
      new Deno.errors.NotFound("os error 2"),
      "read '/a/b'",
    );
    assert.equal(
      err.message,
      "Cannot read '/a/b' as it does not exist (os error 2)",
    );
  },
});
