import assert from "node:assert/strict";
import { mapGuestPath } from "../vfs/guest_path.ts";
import { hostPathOf } from "./guest_path.ts";

Deno.test({
  name:
    "`hostPathOf()` picks the same mount as the VFS for a workspace that lives under /tmp",
  permissions: "none",
  fn() {
    const caller = { workspace: "/tmp/ws", principalHome: "/h/default" };
    assert.equal(
      hostPathOf("/tmp/ws/secret.txt", caller),
      "/tmp/ws/secret.txt",
    );
    assert.equal(
      mapGuestPath("/tmp/ws/secret.txt", { workspaceRoots: ["/tmp/ws"] }).mount,
      "workspace",
    );
    assert.equal(
      hostPathOf("/tmp/other", caller),
      "/h/default/.local/tmp/other",
    );
    assert.equal(
      mapGuestPath("/tmp/other", { workspaceRoots: ["/tmp/ws"] }).mount,
      "tmp",
    );
    assert.equal(
      hostPathOf("/tmp/wsx/a", caller),
      "/h/default/.local/tmp/wsx/a",
      "a sibling is not the workspace",
    );
  },
});

Deno.test({
  name:
    "`hostPathOf()` keeps `..` visible so the gate, not the mapper, refuses a traversal",
  permissions: "none",
  fn() {
    const caller = { workspace: "/ws", principalHome: "/h/default" };
    assert.equal(
      hostPathOf("a/../../etc/passwd", caller),
      "/ws/a/../../etc/passwd",
    );
    assert.equal(
      hostPathOf("home://../keys/runtime.key", caller),
      "/h/default/../keys/runtime.key",
    );
  },
});
