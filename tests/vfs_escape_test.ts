/**
 * The escape suite: every way out of the workspace is refused with
 * VFS_PATH_ESCAPE (or VFS_PATH_INVALID for malformed paths), and a file
 * swapped for a symlink between check and use never yields outside content.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { FileSystem } from "../kernel/core/ports.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { Overlay } from "../kernel/vfs/overlay.ts";
import {
  ls,
  makeVfs,
  PRINCIPAL,
  rejectsWith,
  RW,
  SESSION,
  text,
  type VfsFixture,
  withVfs,
} from "./vfs_fixture_test.ts";

const SECRET = "TOP-SECRET-OUTSIDE";

const test = (
  name: string,
  fn: (fx: VfsFixture, outside: string) => Promise<void>,
) =>
  Deno.test({
    name,
    permissions: RW,
    fn: () =>
      withVfs(async (fx) => {
        const outside = `${fx.astridHome}/outside`;
        await Deno.mkdir(outside);
        await Deno.writeTextFile(`${outside}/secret.txt`, SECRET);
        await fn(fx, outside);
      }),
  });

test("`Overlay.readFile()` refuses a workspace symlink to /etc/passwd", async (fx) => {
  await Deno.symlink("/etc/passwd", `${fx.ws}/passwd`);
  const o = await fx.reopen();
  await rejectsWith(o.readFile("passwd"), "VFS_PATH_ESCAPE");
  await rejectsWith(o.stat("passwd"), "VFS_PATH_ESCAPE");
  await rejectsWith(o.writeFile("passwd", "x"), "VFS_PATH_ESCAPE");
  await rejectsWith(o.appendFile("passwd", "x"), "VFS_PATH_ESCAPE");
  const listed = await o.readDir(".");
  assert.deepEqual(listed, [
    { name: "passwd", isFile: false, isDirectory: false, isSymlink: true },
  ]);
  await o.remove("passwd");
  assert.deepEqual(
    o.dirtyPaths(),
    ["passwd"],
    "removing the link is a whiteout of the link",
  );
});

test(
  "`Overlay.readFile()` refuses a symlink to a file outside the workspace, relative or absolute",
  async (fx, outside) => {
    await Deno.symlink(`${outside}/secret.txt`, `${fx.ws}/abs`);
    await Deno.symlink("../outside/secret.txt", `${fx.ws}/rel`);
    await fx.write("deep/er/x.txt", "x");
    await Deno.symlink("../../../outside/secret.txt", `${fx.ws}/deep/er/rel`);
    const o = await fx.reopen();
    for (const p of ["abs", "rel", "deep/er/rel"]) {
      const err = await rejectsWith(o.readFile(p), "VFS_PATH_ESCAPE");
      assert.ok(!err.message.includes(SECRET));
    }
  },
);

test(
  "`Overlay` refuses every operation through a symlinked directory that leaves the workspace",
  async (fx, outside) => {
    await Deno.symlink(outside, `${fx.ws}/linkdir`);
    const o = await fx.reopen();
    await rejectsWith(o.readFile("linkdir/secret.txt"), "VFS_PATH_ESCAPE");
    await rejectsWith(o.readDir("linkdir"), "VFS_PATH_ESCAPE");
    await rejectsWith(o.stat("linkdir/secret.txt"), "VFS_PATH_ESCAPE");
    await rejectsWith(o.writeFile("linkdir/new.txt", "x"), "VFS_PATH_ESCAPE");
    await rejectsWith(o.mkdir("linkdir/sub"), "VFS_PATH_ESCAPE");
    await rejectsWith(o.remove("linkdir/secret.txt"), "VFS_PATH_ESCAPE");
    await rejectsWith(
      o.rename("linkdir/secret.txt", "mine.txt"),
      "VFS_PATH_ESCAPE",
    );
    await rejectsWith(o.exists("linkdir/secret.txt"), "VFS_PATH_ESCAPE");
    assert.deepEqual(o.dirtyPaths(), []);
    assert.deepEqual(await ls(outside), [
      "secret.txt",
    ]);
  },
);

test("`Overlay` follows a symlink that stays inside and works on the canonical path", async (fx) => {
  await fx.write("real/f.txt", "real");
  await Deno.symlink("real", `${fx.ws}/alias`);
  await Deno.symlink(`${fx.ws}/real/f.txt`, `${fx.ws}/abs-link.txt`);
  const o = await fx.reopen();
  assert.equal(text(await o.readFile("alias/f.txt")), "real");
  assert.equal(text(await o.readFile("abs-link.txt")), "real");
  await o.writeFile("alias/f.txt", "through alias");
  assert.deepEqual(o.dirtyPaths(), ["real/f.txt"]);
  assert.equal(text(await o.readFile("real/f.txt")), "through alias");
  assert.equal(text(await o.readFile("abs-link.txt")), "through alias");
  assert.equal(await fx.read("real/f.txt"), "real");
});

test("`Overlay` refuses `..` chains that climb out, and accepts those that stay in", async (fx) => {
  await fx.write("a/b/c.txt", "c");
  const o = await fx.reopen();
  for (
    const p of [
      "../x",
      "a/../../x",
      "a/b/../../../etc/passwd",
      "./../ws/a/b/c.txt",
      "a/b/c.txt/../../../..",
    ]
  ) {
    await rejectsWith(o.readFile(p), "VFS_PATH_ESCAPE");
    await rejectsWith(o.writeFile(p, "x"), "VFS_PATH_ESCAPE");
  }
  assert.equal(text(await o.readFile("a/b/../b/./c.txt")), "c");
  assert.equal(text(await o.readFile("a/../a/b/c.txt")), "c");
});

test("`Overlay` refuses absolute paths as outside its mount", async (fx) => {
  const o = await fx.reopen();
  await rejectsWith(o.readFile("/etc/passwd"), "VFS_PATH_ESCAPE");
  await rejectsWith(o.writeFile(`${fx.ws}/x`, "x"), "VFS_PATH_ESCAPE");
});

test("`Overlay` refuses NUL bytes, over-long paths and components, empty paths and the nameless root", async (fx) => {
  const o = await fx.reopen();
  await rejectsWith(o.readFile("a\0b"), "VFS_PATH_INVALID");
  await rejectsWith(o.writeFile("ok/\0", "x"), "VFS_PATH_INVALID");
  await rejectsWith(o.readFile("a/".repeat(2049)), "VFS_PATH_INVALID");
  await rejectsWith(o.writeFile("x".repeat(256), "x"), "VFS_PATH_INVALID");
  await rejectsWith(o.writeFile("é".repeat(128), "x"), "VFS_PATH_INVALID");
  await rejectsWith(o.readFile(""), "VFS_PATH_INVALID");
  await rejectsWith(o.writeFile(".", "x"), "VFS_PATH_INVALID");
  await rejectsWith(o.remove("a/.."), "VFS_PATH_INVALID");
  await o.writeFile("x".repeat(255), "max name");
  assert.deepEqual(o.dirtyPaths(), ["x".repeat(255)]);
});

test("`Overlay` handles deep nesting up to the length limit", async (fx) => {
  const o = await fx.reopen();
  const deep = Array.from({ length: 200 }, (_, i) => `d${i}`).join("/");
  await o.writeFile(`${deep}/leaf.txt`, "leaf");
  assert.equal(text(await o.readFile(`${deep}/leaf.txt`)), "leaf");
  assert.equal(o.dirtyPaths().length, 201);
  const climb = `${deep}/${"../".repeat(200)}..`;
  await rejectsWith(o.readFile(climb), "VFS_PATH_ESCAPE");
  await rejectsWith(o.readFile(`${"d/".repeat(2100)}x`), "VFS_PATH_INVALID");
});

test("`Overlay` refuses a symlink loop inside the workspace as VFS_PATH_INVALID", async (fx) => {
  await Deno.symlink("b", `${fx.ws}/a`);
  await Deno.symlink("a", `${fx.ws}/b`);
  const o = await fx.reopen();
  await rejectsWith(o.readFile("a"), "VFS_PATH_INVALID");
  await rejectsWith(o.readFile("a/x"), "VFS_PATH_INVALID");
});

/** A real file system whose readFileChecked runs `before` first (to swap files at the worst moment). */
function racingFs(before: (path: string, call: number) => void): FileSystem {
  const fs = createDenoFs();
  let calls = 0;
  return {
    readFile: (p, o) => fs.readFile(p, o),
    readTextFile: (p, o) => fs.readTextFile(p, o),
    writeFile: (p, d, o) => fs.writeFile(p, d, o),
    stat: (p) => fs.stat(p),
    lstat: (p) => fs.lstat(p),
    mkdir: (p, o) => fs.mkdir(p, o),
    chmod: (p, m) => fs.chmod(p, m),
    remove: (p, o) => fs.remove(p, o),
    rename: (a, b) => fs.rename(a, b),
    readDir: (p) => fs.readDir(p),
    realPath: (p) => fs.realPath(p),
    readLink: (p) => fs.readLink(p),
    readFileChecked(path, options) {
      before(path, ++calls);
      return fs.readFileChecked!(path, options);
    },
  };
}

async function openWith(fx: VfsFixture, fs: FileSystem): Promise<Overlay> {
  return await Overlay.open({ fs, gate: fx.gate.gate, audit: fx.gate.audit }, {
    workspace: fx.ws,
    dir: fx.overlayDir(),
    principal: PRINCIPAL,
    session: SESSION,
  });
}

test(
  "`Overlay.readFile()` never returns outside content when the file is swapped for a symlink after resolution",
  async (fx, outside) => {
    await fx.write("data.txt", "original");
    const target = `${fx.ws}/data.txt`;
    const fs = racingFs((path) => {
      if (path !== target || Deno.lstatSync(target).isSymlink) return;
      Deno.removeSync(target);
      Deno.symlinkSync(`${outside}/secret.txt`, target);
    });
    const o = await openWith(fx, fs);
    const got = await o.readFile("data.txt").then(
      text,
      (e) => e.code as string,
    );
    assert.ok(got === "VFS_PATH_ESCAPE" || got === "original", got);
    assert.notEqual(got, SECRET);
  },
);

test("`Overlay.readFile()` refuses a canonical file swapped for /etc/passwd between the walk and the read", async (fx) => {
  await fx.write("real/data.txt", "original");
  await Deno.symlink("real", `${fx.ws}/alias`);
  const canonical = `${fx.ws}/real/data.txt`;
  const fs = racingFs((path) => {
    if (path !== canonical) return; // the slow path's read of the resolved canonical file
    Deno.removeSync(canonical);
    Deno.symlinkSync("/etc/passwd", canonical);
  });
  const o = await openWith(fx, fs);
  const err = await rejectsWith(
    o.readFile("alias/data.txt"),
    "VFS_PATH_ESCAPE",
  );
  assert.match(err.message, /swapped|symlink/);
});

test(
  "`Overlay.readFile()` refuses a parent directory swapped for a symlink to outside during the read",
  async (fx, outside) => {
    await fx.write("sub/secret.txt", "inside");
    const sub = `${fx.ws}/sub`;
    const fs = racingFs((path) => {
      if (!path.startsWith(`${sub}/`) || Deno.lstatSync(sub).isSymlink) return;
      Deno.renameSync(sub, `${fx.ws}/sub-moved`);
      Deno.symlinkSync(outside, sub);
    });
    const o = await openWith(fx, fs);
    const got = await o.readFile("sub/secret.txt").then(
      text,
      (e) => e.code as string,
    );
    assert.equal(got, "VFS_PATH_ESCAPE");
  },
);

Deno.test({
  name:
    "`Overlay.readFile()` never returns outside content while another process keeps swapping the file and a symlink",
  permissions: { read: true, write: true, run: [Deno.execPath()] },
  ignore: Deno.build.os === "windows",
  async fn() {
    const fx = await makeVfs();
    const outside = `${fx.astridHome}/outside`;
    await Deno.mkdir(outside);
    await Deno.writeTextFile(`${outside}/secret.txt`, SECRET);
    await fx.write("race.txt", "original");
    await fx.write("orig.txt", "original");
    const swapper = fileURLToPath(
      new URL("./fixtures/vfs_swapper.ts", import.meta.url),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-R", "-W", swapper, fx.ws, `${outside}/secret.txt`],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const seen = new Map<string, number>();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      await reader.read(); // READY
      await reader.cancel();
      const o = await fx.reopen();
      // At least 400 reads, and on until one saw the real file (so the test
      // is never vacuous on a loaded machine), at most 20,000.
      for (let i = 0; i < 20_000 && (i < 400 || !seen.has("original")); i++) {
        const got = await o.readFile("race.txt").then(
          text,
          (e) => `${e.code}: ${e.message}`,
        );
        seen.set(got, (seen.get(got) ?? 0) + 1);
      }
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await fx.close();
    }
    assert.equal(seen.get(SECRET), undefined, JSON.stringify([...seen]));
    assert.ok((seen.get("original") ?? 0) > 0, "some reads saw the real file");
    for (const k of seen.keys()) {
      const code = k.split(":")[0]!;
      // A read that caught the swap mid-way is refused (the file changed while
      // being read): a safe outcome, as long as no outside content came back.
      const changedMidRead = code === "HOST_IO" && / while being read$/.test(k);
      assert.ok(
        ["original", "VFS_PATH_ESCAPE", "VFS_NOT_FOUND"].includes(code) ||
          changedMidRead,
        k,
      );
    }
  },
});

test(
  "`Overlay.commit()` refuses to write through a workspace directory replaced by a symlink, even with force",
  async (fx, outside) => {
    await fx.write("dir/a.txt", "old");
    const o = await fx.reopen();
    await o.writeFile("dir/a.txt", "new");
    await Deno.rename(`${fx.ws}/dir`, `${fx.ws}/dir-real`);
    await Deno.symlink(outside, `${fx.ws}/dir`);
    const result = await o.commit({ force: true });
    assert.deepEqual(result.committed, []);
    assert.deepEqual(result.refused.map((r) => [r.path, r.code]), [[
      "dir/a.txt",
      "VFS_PATH_ESCAPE",
    ]]);
    assert.deepEqual(await ls(outside), [
      "secret.txt",
    ]);
    assert.deepEqual(o.dirtyPaths(), ["dir/a.txt"]);
  },
);
