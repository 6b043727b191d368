import assert from "node:assert/strict";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { blake3Hex } from "../kernel/crypto/blake3.ts";
import type { FixtureOptions } from "../kernel/security/_gate_fixture_test.ts";
import {
  ls,
  PRINCIPAL,
  rejectsWith,
  RW,
  SESSION,
  text,
  type VfsFixture,
  withVfs,
} from "./vfs_fixture_test.ts";

const test = (
  name: string,
  fn: (fx: VfsFixture) => Promise<void>,
  options?: FixtureOptions,
) => Deno.test({ name, permissions: RW, fn: () => withVfs(fn, options) });

async function commitEntries(fx: VfsFixture) {
  const all = await fx.gate.audit.query({
    principal: PRINCIPAL,
    session: SESSION,
  });
  return all.filter((e) =>
    (e.action as { type?: string }).type === "overlay_commit_path"
  );
}

async function prepare(fx: VfsFixture) {
  await fx.write("mod.txt", "old\n");
  await fx.write("del.txt", "delete me");
  const o = await fx.reopen();
  await o.writeFile("mod.txt", "new\n");
  await o.writeFile("dir/added.txt", "added");
  await o.remove("del.txt");
  return o;
}

test("`Overlay.commit()` writes files, creates directories and applies whiteouts", async (fx) => {
  const o = await prepare(fx);
  const result = await o.commit();
  assert.deepEqual(
    result.committed.map((c) => [c.path, c.op]),
    [["dir", "mkdir"], ["dir/added.txt", "write"], ["mod.txt", "write"], [
      "del.txt",
      "delete",
    ]],
  );
  assert.deepEqual(result.refused, []);
  assert.equal(await fx.read("mod.txt"), "new\n");
  assert.equal(await fx.read("dir/added.txt"), "added");
  assert.equal(await Deno.stat(`${fx.ws}/del.txt`).catch(() => null), null);
  assert.deepEqual(o.dirtyPaths(), []);
  assert.deepEqual(await ls(`${fx.overlayDir()}/upper/dir`), []);
  assert.deepEqual(
    (await ls(fx.ws)).sort(),
    ["dir", "mod.txt"],
    "no temp file is left behind",
  );
});

test("`Overlay.commit()` appends one audit entry per path with its BLAKE3, linked to the gate's decision", async (fx) => {
  const o = await prepare(fx);
  const result = await o.commit({ callId: "review-7" });
  const entries = await commitEntries(fx);
  assert.equal(entries.length, 4);
  const byPath = new Map(
    entries.map((e) => [(e.action as { path: string }).path, e]),
  );
  const mod = byPath.get(`${fx.ws}/mod.txt`)!;
  assert.deepEqual(mod.action, {
    type: "overlay_commit_path",
    path: `${fx.ws}/mod.txt`,
    content_hash: blake3Hex("new\n"),
    op: "write",
  });
  assert.deepEqual(mod.proof, {
    type: "commit",
    decision_audit_id: result.decision_audit_id,
  });
  assert.equal(mod.decision, "info");
  assert.equal(mod.call_id, "review-7");
  assert.equal(
    (byPath.get(`${fx.ws}/del.txt`)!.action as { content_hash: null })
      .content_hash,
    null,
  );
  assert.equal(
    result.committed.find((c) => c.path === "mod.txt")?.content_hash,
    blake3Hex("new\n"),
  );
  const decision = await fx.gate.audit.get(
    PRINCIPAL,
    result.decision_audit_id! as never,
  );
  assert.equal((decision?.action as { type: string }).type, "overlay_commit");
  assert.deepEqual((decision?.action as { paths: string[] }).paths.sort(), [
    `${fx.ws}/del.txt`,
    `${fx.ws}/dir`,
    `${fx.ws}/dir/added.txt`,
    `${fx.ws}/mod.txt`,
  ]);
  assert.equal((await fx.gate.audit.verify(PRINCIPAL)).valid, true);
});

test(
  "`Overlay.commit()` refused by the human writes nothing and throws APPROVAL_DENIED",
  async (fx) => {
    const o = await prepare(fx);
    const before = o.dirtyPaths();
    const err = await rejectsWith(o.commit(), "APPROVAL_DENIED");
    assert.equal(err.data?.layer, "approval");
    assert.equal(await fx.read("mod.txt"), "old\n");
    assert.equal(await fx.read("del.txt"), "delete me");
    assert.equal(await Deno.stat(`${fx.ws}/dir`).catch(() => null), null);
    assert.deepEqual(o.dirtyPaths(), before);
    assert.deepEqual(await commitEntries(fx), []);
    assert.equal(fx.gate.handler.asked.length, 1);
    assert.equal(fx.gate.handler.asked[0]?.action.type, "overlay_commit");
  },
  { mode: { mode: "safe" }, answers: [{ decision: "deny", reason: "no" }] },
);

test("`Overlay.commit()` approved once by the human lands", async (fx) => {
  const o = await prepare(fx);
  const result = await o.commit();
  assert.equal(result.committed.length, 4);
  assert.equal(await fx.read("mod.txt"), "new\n");
}, { mode: { mode: "safe" }, answers: [{ decision: "allow_once" }] });

test("`Overlay.commit()` on behalf of a capsule is refused by the manifest layer", async (fx) => {
  const o = await prepare(fx);
  await rejectsWith(
    o.commit({ capsule: "fs" as CapsuleId }),
    "MANIFEST_DENIED",
  );
  assert.equal(await fx.read("mod.txt"), "old\n");
});

test("`Overlay.commit()` refuses a file changed in the workspace since copy-up, commits the rest, and force overrides", async (fx) => {
  const o = await prepare(fx);
  await fx.write("mod.txt", "edited by the user\n");
  const result = await o.commit();
  assert.deepEqual(result.refused.map((r) => [r.path, r.code]), [[
    "mod.txt",
    "VFS_CONFLICT",
  ]]);
  assert.match(result.refused[0]!.message, /changed since/);
  assert.equal(await fx.read("mod.txt"), "edited by the user\n");
  assert.equal(await fx.read("dir/added.txt"), "added");
  assert.deepEqual(o.dirtyPaths(), ["mod.txt"]);
  const [change] = await o.diff();
  assert.equal(change?.conflict, true);
  const forced = await o.commit({ force: true });
  assert.deepEqual(forced.committed.map((c) => c.path), ["mod.txt"]);
  assert.equal(await fx.read("mod.txt"), "new\n");
});

test("`Overlay.commit()` refuses a deletion or an addition that the workspace raced", async (fx) => {
  const o = await prepare(fx);
  await fx.write("del.txt", "changed before the delete");
  await fx.write("dir/added.txt", "the user made it too");
  const result = await o.commit();
  assert.deepEqual(result.refused.map((r) => r.path).sort(), [
    "del.txt",
    "dir/added.txt",
  ]);
  assert.equal(await fx.read("del.txt"), "changed before the delete");
  assert.equal(await fx.read("dir/added.txt"), "the user made it too");
  assert.equal(await fx.read("mod.txt"), "new\n");
});

test("`Overlay.commit({paths})` commits only the chosen paths and the new directories above them", async (fx) => {
  const o = await prepare(fx);
  const result = await o.commit({ paths: ["dir/added.txt"] });
  assert.deepEqual(result.committed.map((c) => c.path), [
    "dir",
    "dir/added.txt",
  ]);
  assert.deepEqual(o.dirtyPaths(), ["del.txt", "mod.txt"]);
  assert.equal(await fx.read("mod.txt"), "old\n");
  await rejectsWith(o.commit({ paths: ["not/dirty"] }), "VFS_NOT_FOUND");
});

test("`Overlay.commit()` keeps the mode of a replaced workspace file", async (fx) => {
  await fx.write("run.sh", "#!/bin/sh\n");
  await Deno.chmod(`${fx.ws}/run.sh`, 0o755);
  const o = await fx.reopen();
  await o.writeFile("run.sh", "#!/bin/sh\necho hi\n");
  await o.commit();
  assert.equal((await Deno.stat(`${fx.ws}/run.sh`)).mode! & 0o777, 0o755);
});

test("`Overlay.commit()` recognises a path an interrupted commit already applied, without auditing it twice", async (fx) => {
  await fx.write("a.txt", "old");
  const o = await fx.reopen();
  await o.writeFile("a.txt", "new");
  await o.writeFile("b.txt", "b");
  await fx.write("a.txt", "new"); // as if the rename landed before a crash
  const result = await o.commit();
  assert.deepEqual(
    result.committed.map((c) => [c.path, c.resumed]),
    [["a.txt", true], ["b.txt", false]],
  );
  assert.deepEqual(
    (await commitEntries(fx)).map((e) => (e.action as { path: string }).path),
    [`${fx.ws}/b.txt`],
  );
  const again = await o.commit();
  assert.deepEqual(again, {
    committed: [],
    refused: [],
    decision_audit_id: null,
  });
});

test("`Overlay.discard()` forgets everything and the workspace shows through", async (fx) => {
  const o = await prepare(fx);
  const discarded = await o.discard();
  assert.deepEqual(discarded, ["del.txt", "dir", "dir/added.txt", "mod.txt"]);
  assert.deepEqual(o.dirtyPaths(), []);
  assert.equal(text(await o.readFile("mod.txt")), "old\n");
  assert.equal(text(await o.readFile("del.txt")), "delete me");
  assert.equal(await o.exists("dir"), false);
  assert.deepEqual(await ls(`${fx.overlayDir()}/upper`), []);
  assert.deepEqual((await fx.reopen()).dirtyPaths(), []);
});

test("`Overlay.discard({paths})` forgets only the chosen paths", async (fx) => {
  const o = await prepare(fx);
  assert.deepEqual(await o.discard({ paths: ["dir"] }), [
    "dir",
    "dir/added.txt",
  ]);
  assert.deepEqual(o.dirtyPaths(), ["del.txt", "mod.txt"]);
  await rejectsWith(o.discard({ paths: ["dir"] }), "VFS_NOT_FOUND");
});

test("`Overlay.diff()` reports added, modified and deleted paths with unified diffs", async (fx) => {
  const o = await prepare(fx);
  const changes = await o.diff();
  assert.deepEqual(changes, [
    {
      path: "del.txt",
      change: "deleted",
      kind: "file",
      binary: false,
      diff:
        "--- a/del.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-delete me\n\\ No newline at end of file\n",
      conflict: false,
    },
    {
      path: "dir",
      change: "added",
      kind: "dir",
      binary: false,
      diff: null,
      conflict: false,
    },
    {
      path: "dir/added.txt",
      change: "added",
      kind: "file",
      binary: false,
      diff:
        "--- /dev/null\n+++ b/dir/added.txt\n@@ -0,0 +1 @@\n+added\n\\ No newline at end of file\n",
      conflict: false,
    },
    {
      path: "mod.txt",
      change: "modified",
      kind: "file",
      binary: false,
      diff: "--- a/mod.txt\n+++ b/mod.txt\n@@ -1 +1 @@\n-old\n+new\n",
      conflict: false,
    },
  ]);
});

test("`Overlay.diff()` marks binary content (NUL byte or invalid UTF-8) and skips unchanged rewrites", async (fx) => {
  await fx.write("same.txt", "same");
  const o = await fx.reopen();
  await o.writeFile("nul.bin", new Uint8Array([65, 0, 66]));
  await o.writeFile("latin1.txt", new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
  await o.writeFile("same.txt", "same");
  const changes = await o.diff();
  assert.deepEqual(
    changes.map((c) => [c.path, c.change, c.binary, c.diff]),
    [["latin1.txt", "added", true, null], ["nul.bin", "added", true, null]],
  );
});

test("`Overlay.commit()` never loses a write that races it on a committed path", async (fx) => {
  await fx.write("a.txt", "v0");
  const o = await fx.reopen();
  await o.writeFile("a.txt", "v1");
  const committing = o.commit();
  const writing = o.writeFile("a.txt", "v2");
  await Promise.all([committing, writing]);
  const inWorkspace = await fx.read("a.txt");
  const inOverlay = text(await o.readFile("a.txt"));
  assert.equal(inOverlay, "v2", "the later write is what the session sees");
  if (inWorkspace === "v1") assert.deepEqual(o.dirtyPaths(), ["a.txt"]);
  else assert.equal(inWorkspace, "v2");
});

test("`Overlay.commit({force})` still refuses a path where the workspace now has a directory", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("x", "file");
  await Deno.mkdir(`${fx.ws}/x`);
  const result = await o.commit({ force: true });
  assert.deepEqual(result.refused.map((r) => [r.path, r.code]), [[
    "x",
    "VFS_CONFLICT",
  ]]);
  assert.equal((await Deno.stat(`${fx.ws}/x`)).isDirectory, true);
});
