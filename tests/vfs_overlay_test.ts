import assert from "node:assert/strict";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { Overlay } from "../kernel/vfs/overlay.ts";
import {
  PRINCIPAL,
  rejectsWith,
  RW,
  SESSION,
  SESSION_B,
  text,
  withVfs,
} from "./vfs_fixture_test.ts";

const test = (name: string, fn: Parameters<typeof withVfs>[0]) =>
  Deno.test({ name, permissions: RW, fn: () => withVfs(fn) });

test("`Overlay.readFile()` reads through to the workspace until the path is written", async (fx) => {
  await fx.write("a.txt", "lower");
  const o = await fx.manager.forSession(PRINCIPAL, SESSION, {
    workspace: fx.ws,
  });
  assert.equal(text(await o.readFile("a.txt")), "lower");
  await o.writeFile("a.txt", "upper");
  assert.equal(text(await o.readFile("a.txt")), "upper");
  assert.equal(await fx.read("a.txt"), "lower", "the workspace is untouched");
  assert.deepEqual(o.dirtyPaths(), ["a.txt"]);
});

test("`Overlay.writeFile()` creates missing parents in the upper layer and records them", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("new/deep/f.txt", "x");
  assert.deepEqual(o.dirtyPaths(), ["new", "new/deep", "new/deep/f.txt"]);
  assert.equal(await Deno.stat(`${fx.ws}/new`).catch(() => null), null);
  assert.deepEqual(await o.stat("new/deep"), {
    isFile: false,
    isDirectory: true,
    size: 0,
    mtimeMs: (await o.stat("new/deep")).mtimeMs,
  });
  assert.equal((await o.stat("new/deep/f.txt")).size, 1);
});

test("`Overlay.remove()` of a workspace file records a whiteout that hides it", async (fx) => {
  await fx.write("gone.txt", "bye");
  await fx.write("kept.txt", "hi");
  const o = await fx.reopen();
  await o.remove("gone.txt");
  await rejectsWith(o.readFile("gone.txt"), "VFS_NOT_FOUND");
  assert.equal(await o.exists("gone.txt"), false);
  assert.deepEqual((await o.readDir(".")).map((e) => e.name), ["kept.txt"]);
  assert.equal(await fx.read("gone.txt"), "bye");
  await o.writeFile("gone.txt", "back");
  assert.equal(text(await o.readFile("gone.txt")), "back");
});

test("`Overlay.remove()` of an overlay-only file forgets it entirely", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("tmp.txt", "x");
  await o.remove("tmp.txt");
  assert.deepEqual(o.dirtyPaths(), []);
  await rejectsWith(o.remove("tmp.txt"), "VFS_NOT_FOUND");
});

test("`Overlay.remove()` refuses a non-empty directory and removes an emptied one", async (fx) => {
  await fx.write("d/a.txt", "a");
  const o = await fx.reopen();
  await rejectsWith(o.remove("d"), "VFS_INVALID_OPERATION");
  await o.remove("d/a.txt");
  await o.remove("d");
  assert.equal(await o.exists("d"), false);
  await rejectsWith(o.readFile("d/a.txt"), "VFS_NOT_FOUND");
  await o.mkdir("d");
  assert.deepEqual(
    await o.readDir("d"),
    [],
    "the recreated directory is empty",
  );
});

test("`Overlay.readDir()` is the sorted union of both layers minus whiteouts", async (fx) => {
  await fx.write("src/a.ts", "a");
  await fx.write("src/b.ts", "b");
  await fx.write("src/lib/c.ts", "c");
  const o = await fx.reopen();
  await o.writeFile("src/0.ts", "0");
  await o.writeFile("src/b.ts", "B");
  await o.remove("src/a.ts");
  await o.mkdir("src/new");
  assert.deepEqual(await o.readDir("src"), [
    { name: "0.ts", isFile: true, isDirectory: false, isSymlink: false },
    { name: "b.ts", isFile: true, isDirectory: false, isSymlink: false },
    { name: "lib", isFile: false, isDirectory: true, isSymlink: false },
    { name: "new", isFile: false, isDirectory: true, isSymlink: false },
  ]);
  await rejectsWith(o.readDir("src/b.ts"), "VFS_INVALID_OPERATION");
  await rejectsWith(o.readDir("nope"), "VFS_NOT_FOUND");
});

test("`Overlay.rename()` of a workspace file is a whiteout plus a new upper file", async (fx) => {
  await fx.write("old.txt", "content");
  const o = await fx.reopen();
  await o.rename("old.txt", "sub/new.txt");
  assert.equal(text(await o.readFile("sub/new.txt")), "content");
  await rejectsWith(o.readFile("old.txt"), "VFS_NOT_FOUND");
  assert.deepEqual(o.dirtyPaths(), ["old.txt", "sub", "sub/new.txt"]);
  assert.equal(await fx.read("old.txt"), "content");
  const changes = (await o.diff()).map((c) => [c.path, c.change]);
  assert.deepEqual(changes, [
    ["old.txt", "deleted"],
    ["sub", "added"],
    ["sub/new.txt", "added"],
  ]);
});

test("`Overlay.rename()` moves an upper file, replaces an existing target, and refuses a directory target", async (fx) => {
  await fx.write("target.txt", "old target");
  const o = await fx.reopen();
  await o.writeFile("a.txt", "A");
  await o.rename("a.txt", "target.txt");
  assert.equal(text(await o.readFile("target.txt")), "A");
  assert.equal(await o.exists("a.txt"), false);
  assert.deepEqual(o.dirtyPaths(), ["target.txt"]);
  await o.mkdir("dir");
  await rejectsWith(o.rename("target.txt", "dir"), "VFS_INVALID_OPERATION");
  await rejectsWith(o.rename("missing", "x"), "VFS_NOT_FOUND");
});

test("`Overlay.rename()` moves a directory tree of both layers", async (fx) => {
  await fx.write("pkg/a.txt", "a");
  await fx.write("pkg/sub/b.txt", "b");
  const o = await fx.reopen();
  await o.writeFile("pkg/c.txt", "c");
  await o.rename("pkg", "moved");
  assert.equal(await o.exists("pkg"), false);
  assert.deepEqual((await o.readDir("moved")).map((e) => e.name), [
    "a.txt",
    "c.txt",
    "sub",
  ]);
  assert.equal(text(await o.readFile("moved/sub/b.txt")), "b");
  await rejectsWith(o.rename("moved", "moved/inner"), "VFS_INVALID_OPERATION");
});

test("`Overlay.appendFile()` copies a workspace file up before appending", async (fx) => {
  await fx.write("log.txt", "one\n");
  const o = await fx.reopen();
  await o.appendFile("log.txt", "two\n");
  assert.equal(text(await o.readFile("log.txt")), "one\ntwo\n");
  assert.equal(await fx.read("log.txt"), "one\n");
});

test("`Overlay.appendFile()` serialises concurrent copy-ups of one path", async (fx) => {
  await fx.write("log.txt", "base\n");
  const o = await fx.reopen();
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => o.appendFile("log.txt", `${i}\n`)),
  );
  const lines = text(await o.readFile("log.txt")).trim().split("\n");
  assert.equal(lines[0], "base");
  assert.deepEqual(
    lines.slice(1).map(Number).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test("`Overlay.open()` after a restart sees earlier writes, whiteouts and directories", async (fx) => {
  await fx.write("keep.txt", "k");
  await fx.write("del.txt", "d");
  const first = await fx.reopen();
  await first.writeFile("keep.txt", "changed");
  await first.remove("del.txt");
  await first.mkdir("made");
  const second = await fx.reopen();
  assert.notEqual(first, second);
  assert.equal(text(await second.readFile("keep.txt")), "changed");
  assert.equal(await second.exists("del.txt"), false);
  assert.equal((await second.stat("made")).isDirectory, true);
  assert.deepEqual(second.dirtyPaths(), ["del.txt", "keep.txt", "made"]);
  const manifest = JSON.parse(
    await Deno.readTextFile(`${fx.overlayDir()}/manifest.json`),
  );
  assert.equal(manifest.entries["keep.txt"].base.type, "file");
  assert.match(manifest.entries["keep.txt"].base.hash, /^[0-9a-f]{64}$/);
  assert.equal(manifest.entries["keep.txt"].base.size, 1);
  assert.deepEqual(manifest.entries["made"].base, { type: "absent" });
});

test("`Overlay.open()` repairs a crash: an entry without its file is dropped, an orphan file deleted", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "a");
  await o.writeFile("b.txt", "b");
  await Deno.remove(`${fx.overlayDir()}/upper/a.txt`);
  await Deno.writeTextFile(`${fx.overlayDir()}/upper/orphan.txt`, "x");
  const again = await fx.reopen();
  assert.deepEqual(again.dirtyPaths(), ["b.txt"]);
  assert.equal(await again.exists("orphan.txt"), false);
  assert.equal(
    await Deno.stat(`${fx.overlayDir()}/upper/orphan.txt`).catch(() => null),
    null,
  );
});

test("`Overlay.open()` repairs a first write cut short over a whiteout: the upper file without its journal line is deleted, the removal stays", async (fx) => {
  // A first write persists its entry and writes its upper file together; a
  // crash may leave the file alone. The write never returned: the path must
  // read as it did before it (removed), not as the lower file.
  await fx.write("gone.txt", "lower");
  const o = await fx.reopen();
  await o.remove("gone.txt");
  await Deno.writeTextFile(`${fx.overlayDir()}/upper/gone.txt`, "torn");
  const again = await fx.reopen();
  assert.equal(await again.exists("gone.txt"), false);
  assert.deepEqual(again.dirtyPaths(), ["gone.txt"]);
});

test("`Overlay.open()` refuses a manifest whose key climbs out of the workspace", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "a");
  await fx.reopen(); // compacts the journal into the manifest
  const path = `${fx.overlayDir()}/manifest.json`;
  const m = JSON.parse(await Deno.readTextFile(path));
  m.entries["../escape.txt"] = m.entries["a.txt"];
  await Deno.writeTextFile(path, JSON.stringify(m));
  await rejectsWith(fx.reopen(), "HOST_IO");
});

test("`OverlayManager.forSession()` shares one overlay per session and isolates sessions", async (fx) => {
  await fx.write("shared.txt", "lower");
  const [capsuleA, capsuleB] = await Promise.all([
    fx.manager.forSession(PRINCIPAL, SESSION, { workspace: fx.ws }),
    fx.manager.forSession(PRINCIPAL, SESSION, { workspace: fx.ws }),
  ]);
  assert.equal(capsuleA, capsuleB);
  await capsuleA.writeFile("shared.txt", "from A");
  assert.equal(text(await capsuleB.readFile("shared.txt")), "from A");
  const other = await fx.manager.forSession(PRINCIPAL, SESSION_B, {
    workspace: fx.ws,
  });
  assert.equal(text(await other.readFile("shared.txt")), "lower");
  await other.writeFile("only-b.txt", "b");
  assert.equal(await capsuleA.exists("only-b.txt"), false);
  assert.equal(
    fx.overlayDir(SESSION),
    `${fx.homes}/${PRINCIPAL}/.local/overlay/${SESSION}`,
  );
});

test("`OverlayManager.forSession()` refuses the session's overlay for another workspace", async (fx) => {
  await fx.manager.forSession(PRINCIPAL, SESSION, { workspace: fx.ws });
  const elsewhere = `${fx.astridHome}/other-ws`;
  await Deno.mkdir(elsewhere);
  await rejectsWith(
    fx.manager.forSession(PRINCIPAL, SESSION, { workspace: elsewhere }),
    "INVALID_INPUT",
  );
  fx.manager.release(PRINCIPAL, SESSION);
  await rejectsWith(
    fx.manager.forSession(PRINCIPAL, SESSION, { workspace: elsewhere }),
    "INVALID_INPUT",
  );
});

test("`Overlay` writes from concurrent callers on different paths all land", async (fx) => {
  const o = await fx.reopen();
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => o.writeFile(`many/f${i}.txt`, `${i}`)),
  );
  assert.equal((await o.readDir("many")).length, 50);
  const again = await fx.reopen();
  assert.equal((await again.readDir("many")).length, 50);
});

test("`Overlay.writeFile()` refuses to write a directory and `mkdir()` a file", async (fx) => {
  await fx.write("d/f.txt", "f");
  const o = await fx.reopen();
  await rejectsWith(o.writeFile("d", "x"), "VFS_INVALID_OPERATION");
  await rejectsWith(o.mkdir("d/f.txt"), "VFS_INVALID_OPERATION");
  await rejectsWith(o.writeFile("d/f.txt/x", "x"), "VFS_INVALID_OPERATION");
  await o.mkdir("d");
  assert.deepEqual(o.dirtyPaths(), []);
});

Deno.test({
  name:
    "`Overlay.open()` refuses a FileSystem without readFileChecked and a relative workspace",
  permissions: RW,
  fn: () =>
    withVfs(async (fx) => {
      const { readFileChecked: _, ...plain } = createDenoFs();
      const deps = { fs: plain, gate: fx.gate.gate, audit: fx.gate.audit };
      const opts = {
        workspace: fx.ws,
        dir: fx.overlayDir(),
        principal: PRINCIPAL,
        session: SESSION,
      };
      await assert.rejects(Overlay.open(deps, opts), TypeError);
      await assert.rejects(
        Overlay.open({ ...deps, fs: createDenoFs() }, {
          ...opts,
          workspace: "ws",
        }),
        TypeError,
      );
      await rejectsWith(
        Overlay.open({ ...deps, fs: createDenoFs() }, {
          ...opts,
          dir: `${fx.ws}/.astrid-overlay`,
        }),
        "INVALID_INPUT",
      );
    }),
});
