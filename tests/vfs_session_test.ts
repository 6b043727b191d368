/**
 * SessionVfs (guest path mapping to overlay, home:// and /tmp) and directory
 * handles (capabilities that only narrow).
 */
import assert from "node:assert/strict";
import {
  PRINCIPAL,
  rejectsWith,
  RW,
  SESSION,
  text,
  type VfsFixture,
  withVfs,
} from "./vfs_fixture_test.ts";

const test = (name: string, fn: (fx: VfsFixture) => Promise<void>) =>
  Deno.test({ name, permissions: RW, fn: () => withVfs(fn) });

const vfsOf = (fx: VfsFixture) =>
  fx.manager.vfs(PRINCIPAL, SESSION, { workspace: fx.ws });

test("`SessionVfs` sends relative, cwd:// and in-workspace absolute paths to the session overlay", async (fx) => {
  await fx.write("a.txt", "lower");
  const vfs = await vfsOf(fx);
  await vfs.writeFile("a.txt", "one");
  assert.equal(text(await vfs.readFile("cwd://a.txt")), "one");
  assert.equal(text(await vfs.readFile(`${fx.ws}/a.txt`)), "one");
  await vfs.writeFile(`${fx.ws}/b.txt`, "two");
  assert.equal(await fx.read("a.txt"), "lower");
  const overlay = await fx.manager.forSession(PRINCIPAL, SESSION, {
    workspace: fx.ws,
  });
  assert.deepEqual(overlay.dirtyPaths(), ["a.txt", "b.txt"]);
  assert.deepEqual((await vfs.readDir("cwd://")).map((e) => e.name), [
    "a.txt",
    "b.txt",
  ]);
});

test("`SessionVfs` writes home:// directly into the principal home", async (fx) => {
  const vfs = await vfsOf(fx);
  await vfs.writeFile("home://notes/todo.md", "- [ ] ship");
  const home = `${fx.homes}/${PRINCIPAL}`;
  assert.equal(await Deno.readTextFile(`${home}/notes/todo.md`), "- [ ] ship");
  assert.equal(text(await vfs.readFile("home://notes/todo.md")), "- [ ] ship");
  assert.equal((await vfs.stat("home://notes")).isDirectory, true);
  await vfs.rename("home://notes/todo.md", "home://notes/done.md");
  assert.deepEqual((await vfs.readDir("home://notes")).map((e) => e.name), [
    "done.md",
  ]);
  await vfs.remove("home://notes/done.md");
  assert.equal(await vfs.exists("home://notes/done.md"), false);
});

test("`SessionVfs` maps /tmp to the principal's private .local/tmp, created on first use", async (fx) => {
  const vfs = await vfsOf(fx);
  const tmp = `${fx.homes}/${PRINCIPAL}/.local/tmp`;
  assert.equal(await Deno.stat(tmp).catch(() => null), null);
  await vfs.writeFile("/tmp/scratch/x.txt", "x");
  assert.equal(await Deno.readTextFile(`${tmp}/scratch/x.txt`), "x");
  assert.equal((await Deno.stat(tmp)).mode! & 0o777, 0o700);
  assert.deepEqual((await vfs.readDir("/tmp")).map((e) => e.name), ["scratch"]);
  await vfs.appendFile("/tmp/scratch/x.txt", "y");
  assert.equal(text(await vfs.readFile("/tmp/scratch/x.txt")), "xy");
});

test("`SessionVfs` refuses symlink escapes in home:// and /tmp, and climbing out of them", async (fx) => {
  const vfs = await vfsOf(fx);
  const home = `${fx.homes}/${PRINCIPAL}`;
  await Deno.writeTextFile(`${fx.astridHome}/secret.txt`, "SECRET");
  await Deno.symlink(`${fx.astridHome}/secret.txt`, `${home}/leak`);
  await Deno.symlink(fx.astridHome, `${home}/leakdir`);
  await rejectsWith(vfs.readFile("home://leak"), "VFS_PATH_ESCAPE");
  await rejectsWith(
    vfs.readFile("home://leakdir/secret.txt"),
    "VFS_PATH_ESCAPE",
  );
  await rejectsWith(
    vfs.writeFile("home://leakdir/new.txt", "x"),
    "VFS_PATH_ESCAPE",
  );
  await rejectsWith(vfs.readDir("home://leakdir"), "VFS_PATH_ESCAPE");
  await rejectsWith(vfs.readFile("home://../other/x"), "VFS_PATH_ESCAPE");
  await rejectsWith(vfs.readFile("/tmp/../../secret.txt"), "VFS_PATH_ESCAPE");
  await rejectsWith(vfs.readFile("/etc/passwd"), "VFS_PATH_ESCAPE");
  assert.equal(
    await Deno.stat(`${fx.astridHome}/new.txt`).catch(() => null),
    null,
  );
  await vfs.writeFile("home://leak", "replaced");
  assert.equal(
    await Deno.readTextFile(`${fx.astridHome}/secret.txt`),
    "SECRET",
    "a write replaces the link, never writes through it",
  );
});

test("`SessionVfs` refuses a rename across mounts and reports an unmounted home://", async (fx) => {
  const vfs = await vfsOf(fx);
  await vfs.writeFile("/tmp/a.txt", "a");
  await rejectsWith(vfs.rename("/tmp/a.txt", "a.txt"), "VFS_INVALID_OPERATION");
  await Deno.remove(`${fx.homes}/${PRINCIPAL}`, { recursive: true });
  const homeless = await vfsOf(fx);
  await rejectsWith(homeless.readFile("home://x"), "VFS_NOT_FOUND");
});

test("`DirHandle` of the overlay is a root: sub-handles only narrow, `..` and absolute paths are escapes", async (fx) => {
  await fx.write("src/lib/a.ts", "a");
  await fx.write("src/main.ts", "main");
  await fx.write("secret.env", "KEY=1");
  const vfs = await vfsOf(fx);
  const src = await vfs.openDir("src");
  const lib = await src.openDir("lib");
  assert.equal(lib.key, "src/lib");
  assert.equal(text(await lib.readFile("a.ts")), "a");
  await rejectsWith(lib.readFile("../main.ts"), "VFS_PATH_ESCAPE");
  await rejectsWith(src.readFile("../secret.env"), "VFS_PATH_ESCAPE");
  await rejectsWith(lib.openDir(".."), "VFS_PATH_ESCAPE");
  await rejectsWith(lib.readFile(`${fx.ws}/secret.env`), "VFS_PATH_ESCAPE");
  await lib.writeFile("b.ts", "b");
  assert.equal(text(await vfs.readFile("src/lib/b.ts")), "b");
  await rejectsWith(src.openDir("main.ts"), "VFS_INVALID_OPERATION");
});

test("`DirHandle` refuses a symlink that stays in the workspace but leaves the handle", async (fx) => {
  await fx.write("pub/readme.md", "hi");
  await fx.write("private/key.pem", "KEY");
  await Deno.symlink("../private/key.pem", `${fx.ws}/pub/key-link`);
  await Deno.symlink("../private", `${fx.ws}/pub/private-link`);
  const vfs = await vfsOf(fx);
  assert.equal(
    text(await vfs.readFile("pub/key-link")),
    "KEY",
    "inside the workspace it is followed",
  );
  const pub = await vfs.openDir("pub");
  await rejectsWith(pub.readFile("key-link"), "VFS_PATH_ESCAPE");
  await rejectsWith(pub.openDir("private-link"), "VFS_PATH_ESCAPE");
  await rejectsWith(pub.writeFile("private-link/x", "x"), "VFS_PATH_ESCAPE");
  const home = await vfs.openDir("home://");
  await home.mkdir("docs");
  const docs = await home.openDir("docs");
  await Deno.symlink("..", `${fx.homes}/${PRINCIPAL}/docs/up`);
  await rejectsWith(docs.readDir("up"), "VFS_PATH_ESCAPE");
});

test("`DirHandle.close()` revokes the handle and every handle opened from it", async (fx) => {
  await fx.write("a/b/c.txt", "c");
  const vfs = await vfsOf(fx);
  const a = await vfs.openDir("a");
  const b = await a.openDir("b");
  const sibling = await vfs.openDir("a");
  a.close();
  assert.equal(b.closed, true);
  await rejectsWith(b.readFile("c.txt"), "VFS_HANDLE_INVALID");
  await rejectsWith(a.openDir("b"), "VFS_HANDLE_INVALID");
  assert.equal(text(await sibling.readFile("b/c.txt")), "c");
});

test("`SessionVfs.resolve()` names the exact host location, and the view accepts only values it resolved itself", async (fx) => {
  const vfs = await vfsOf(fx);
  const home = `${fx.homes}/${PRINCIPAL}`;
  const resolved = vfs.resolve("HOME://notes/../todo.md");
  assert.deepEqual(
    { mount: resolved.mount, hostPath: resolved.hostPath },
    { mount: "home", hostPath: `${home}/todo.md` },
  );
  await vfs.writeFile(resolved, "judged here, written here");
  assert.equal(
    await Deno.readTextFile(resolved.hostPath),
    "judged here, written here",
  );
  // A look-alike object (say, one a gate never saw) is refused, not re-mapped.
  const forged = { ...resolved, parts: ["keys", "runtime.key"] };
  await assert.rejects(vfs.readFile(forged), TypeError);
  const other = await fx.manager.vfs(PRINCIPAL, SESSION, { workspace: fx.ws });
  await assert.rejects(other.readFile(resolved), TypeError);
});
